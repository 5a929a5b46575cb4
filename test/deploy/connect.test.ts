/**
 * Reaching the node over SSH: host key pinning, waiting for sshd to come up, alternate usernames,
 * address choice. Against a real OpenSSH sshd on 127.0.0.1 (test/helpers/sshd.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostKeyFingerprint, pickAddress } from '../../src/deploy/ssh-connect.ts';
import type { DeploymentManager } from '../../src/deploy/types.ts';
import { generateClientKey, prepareSshd, type SshdFixture } from '../helpers/sshd.ts';
import { collect, deployTo, sshTo, statuses, testNode, withSshdAndManager } from './support.ts';

describe('deploy: SSH connection', () => {
  let sshd: SshdFixture;
  let manager: DeploymentManager;
  withSshdAndManager((s, m) => {
    sshd = s;
    manager = m;
  });

  it('refuses a host key other than the pinned one, before any step runs', async () => {
    const other = await generateClientKey(sshd.dir, 'not-the-host-key');
    const marker = join(sshd.dir, 'hostkey-marker');
    const node = testNode();
    const started = performance.now();
    const dep = deployTo(manager, node, [{ kind: 'script', script: `touch ${marker}` }], sshTo(sshd, { hostKeyFingerprint: other.fingerprint, timeoutMs: 60_000 }));
    const { final } = await collect(manager, dep.id);
    expect(final.status).toBe('FAILED');
    expect(final.error?.code).toBe('HOST_KEY_MISMATCH');
    expect(final.error?.message).toBe(`host key of 127.0.0.1:${sshd.port} is ${sshd.hostKeyFingerprint}, expected ${other.fingerprint}`);
    expect(final.steps[0]!.status).toBe('SKIPPED');
    expect(existsSync(marker)).toBe(false);
    // why: a mismatch is final; it must not be retried until the 60 s deadline
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('computes fingerprints the way ssh-keygen -l prints them', async () => {
    for (const name of ['fp-a', 'fp-b']) {
      const key = await generateClientKey(sshd.dir, name);
      const raw = Buffer.from(key.publicKey.split(' ')[1]!, 'base64');
      expect(hostKeyFingerprint(raw)).toBe(key.fingerprint);
    }
  });

  it('retries until sshd comes up (started 1 s after the deployment)', async () => {
    const late = await prepareSshd();
    try {
      const node = testNode();
      const dep = deployTo(manager, node, [{ kind: 'script', script: 'echo up' }], sshTo(late, { timeoutMs: 20_000 }));
      const startedAt = performance.now();
      const timer = setTimeout(() => void late.start(), 1_000);
      const { events, final } = await collect(manager, dep.id);
      clearTimeout(timer);
      expect(final.status).toBe('SUCCEEDED');
      expect(final.steps[0]!.stdout).toBe('up\n');
      expect(statuses(events)).toEqual(['PENDING', 'WAITING_FOR_NODE', 'WAITING_FOR_SSH', 'RUNNING', 'SUCCEEDED']);
      const running = events.find((e) => e.event.type === 'status' && e.event.deployment.status === 'RUNNING')!;
      expect(running.at - startedAt).toBeGreaterThanOrEqual(1_000);
    } finally {
      await late.stop();
    }
  });

  it('gives up on an SSH port that never answers, at the deadline', async () => {
    const closed = await prepareSshd();
    await closed.stop();
    const node = testNode();
    const started = performance.now();
    const dep = deployTo(manager, node, [{ kind: 'script', script: 'true' }], sshTo(closed, { timeoutMs: 1_500 }));
    const { final } = await collect(manager, dep.id);
    const elapsed = performance.now() - started;
    expect(final.error?.code).toBe('TIMEOUT');
    expect(final.error?.message).toMatch(new RegExp(`^SSH on 127\\.0\\.0\\.1:${closed.port} not ready within 1500 ms: .*ECONNREFUSED`));
    expect(elapsed).toBeGreaterThanOrEqual(1_400);
    expect(elapsed).toBeLessThan(4_000);
  });

  it('tries alternate usernames when the first one is refused', async () => {
    const node = testNode();
    const dep = deployTo(manager, node, [{ kind: 'script', script: 'id -un' }], sshTo(sshd, { username: 'skygraph-nobody', alternateUsernames: [sshd.username] }));
    const { final } = await collect(manager, dep.id);
    expect(final.status).toBe('SUCCEEDED');
    expect(final.username).toBe(sshd.username);
    expect(final.steps[0]!.stdout).toBe(`${sshd.username}\n`);
  });

  it('fails with AUTHENTICATION_FAILED when every username is refused, without leaking the key', async () => {
    const node = testNode();
    const dep = deployTo(manager, node, [{ kind: 'script', script: 'true' }], sshTo(sshd, { username: 'skygraph-nobody', alternateUsernames: ['skygraph-nobody2'], timeoutMs: 1_500 }));
    const { events, final } = await collect(manager, dep.id);
    expect(final.error?.code).toBe('AUTHENTICATION_FAILED');
    expect(final.error?.message).toBe(
      `SSH login refused at 127.0.0.1:${sshd.port} for skygraph-nobody, skygraph-nobody2 (public key; gave up after 1500 ms)`,
    );
    const keyBody = sshd.privateKey.split('\n')[1]!;
    expect(JSON.stringify(events)).not.toContain(keyBody);
    expect(JSON.stringify(events)).not.toContain('PRIVATE KEY');
  });

  it('connects only to the node own addresses, in the preferred order', async () => {
    // sshd listens on 127.0.0.1 only; 127.0.0.2 (also loopback) refuses
    const node = testNode({ publicIps: ['127.0.0.2'], privateIps: ['not-an-ip', '127.0.0.1'] });
    const dep = deployTo(manager, node, [{ kind: 'script', script: 'echo private' }], sshTo(sshd, { addressPreference: 'private' }));
    const { final } = await collect(manager, dep.id);
    expect(final.status).toBe('SUCCEEDED');
    expect(final.address).toBe('127.0.0.1');

    expect(pickAddress(node)).toBe('127.0.0.2');
    expect(pickAddress(node, 'private')).toBe('127.0.0.1');
    expect(pickAddress(testNode({ publicIps: ['example.com'], privateIps: [] }))).toBeNull();
    expect(pickAddress(testNode({ publicIps: [], privateIps: ['::1'] }))).toBe('::1');
  });
});
