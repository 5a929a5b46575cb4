/**
 * Deployment steps against a real OpenSSH sshd on 127.0.0.1 (test/helpers/sshd.ts).
 * The node is a plain Node whose public IP is 127.0.0.1.
 */
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDeploymentManager } from '../../src/deploy/manager.ts';
import type { DeployStep, DeploymentManager } from '../../src/deploy/types.ts';
import { generateClientKey, type SshdFixture } from '../helpers/sshd.ts';
import { collect, deployTo, eventually, isAlive, sshTo, testNode, withSshdAndManager } from './support.ts';

describe('deploy: steps over a real sshd', () => {
  let sshd: SshdFixture;
  let manager: DeploymentManager;
  withSshdAndManager((s, m) => {
    sshd = s;
    manager = m;
  });

  const deploy = (steps: DeployStep[], m: DeploymentManager = manager) => {
    const node = testNode();
    const dep = deployTo(m, node, steps, sshTo(sshd));
    return collect(m, dep.id);
  };

  it('installs an SSH key, runs a script, and the key really logs in', async () => {
    const key = await generateClientKey(sshd.dir, 'deploy-key');
    const { final } = await deploy([
      { kind: 'sshKey', publicKey: key.publicKey },
      { kind: 'script', script: 'echo hello; id -un; echo "$HOME"; echo "args:$1|$2"', args: ["it's", 'a b'] },
    ]);
    expect(final.status).toBe('SUCCEEDED');
    expect(final.error).toBeNull();
    expect(final.address).toBe('127.0.0.1');
    expect(final.steps.map((s) => [s.kind, s.status, s.exitCode])).toEqual([
      ['sshKey', 'SUCCEEDED', 0],
      ['script', 'SUCCEEDED', 0],
    ]);
    expect(final.steps[1]!.stdout).toBe(`hello\n${sshd.username}\n${sshd.homeDir}\nargs:it's|a b\n`);
    expect(final.steps[1]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(final.steps[1]!.startedAt!)).not.toBeNaN();

    const lines = (await readFile(sshd.authorizedKeysPath, 'utf8')).split('\n');
    expect(lines.filter((l) => l === key.publicKey)).toHaveLength(1);
    expect((await stat(sshd.authorizedKeysPath)).mode & 0o777).toBe(0o600);
    expect((await stat(join(sshd.homeDir, '.ssh'))).mode & 0o777).toBe(0o700);

    // the new key logs in (sshd reads <home>/.ssh/authorized_keys), and adding it again is a no-op
    const node = testNode();
    const again = deployTo(manager, node, [{ kind: 'sshKey', publicKey: key.publicKey }, { kind: 'script', script: 'echo via-new-key' }], sshTo(sshd, { privateKey: key.privateKey }));
    const second = (await collect(manager, again.id)).final;
    expect(second.status).toBe('SUCCEEDED');
    expect(second.steps[0]!.stdout).toContain('key already in');
    expect(second.steps[1]!.stdout).toBe('via-new-key\n');
    const after = (await readFile(sshd.authorizedKeysPath, 'utf8')).split('\n');
    expect(after.filter((l) => l === key.publicKey)).toHaveLength(1);
  });

  it('reports a failing script with its exit code and stderr', async () => {
    const { final } = await deploy([{ kind: 'script', script: 'echo out; echo "bad thing" >&2; exit 3', name: 'fail' }]);
    expect(final.status).toBe('FAILED');
    expect(final.error).toEqual({ code: 'STEP_FAILED', message: 'step 0 (fail) failed: exit code 3' });
    expect(final.steps[0]).toMatchObject({ status: 'FAILED', exitCode: 3, stdout: 'out\n', stderr: 'bad thing\n', error: 'exit code 3' });
  });

  it('stops a multi step at the first failure; continueOnError runs the rest', async () => {
    const marker = (n: string) => join(sshd.dir, `marker-${n}-${Date.now()}`);
    const [m1, m2, m3] = [marker('a'), marker('b'), marker('c')];
    const stopping = await deploy([
      { kind: 'script', script: 'echo one' },
      { kind: 'multi', steps: [{ kind: 'script', script: 'exit 1' }, { kind: 'script', script: `touch ${m1}` }] },
      { kind: 'script', script: `touch ${m2}` },
    ]);
    expect(stopping.final.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'FAILED', 'SKIPPED', 'SKIPPED']);
    expect(stopping.final.steps[2]!.startedAt).toBeNull();
    expect(existsSync(m1) || existsSync(m2)).toBe(false);

    const continuing = await deploy([
      { kind: 'multi', continueOnError: true, steps: [{ kind: 'script', script: 'exit 1' }, { kind: 'script', script: `touch ${m3}` }] },
      { kind: 'script', script: `touch ${m2}` },
    ]);
    expect(continuing.final.steps.map((s) => s.status)).toEqual(['FAILED', 'SUCCEEDED', 'SKIPPED']);
    expect(existsSync(m3)).toBe(true);
    expect(existsSync(m2)).toBe(false);
    expect(continuing.final.status).toBe('FAILED');
    expect(continuing.final.error?.message).toBe('step 0 (script 1) failed: exit code 1');
  });

  it('kills a script that runs past its timeout, remote processes included', async () => {
    const pidFile = join(sshd.dir, 'timeout.pid');
    const started = performance.now();
    const { final } = await deploy([
      { kind: 'script', script: `echo "$0"; echo $$ > ${pidFile}; exec sleep 30`, timeoutMs: 1_200 },
      { kind: 'script', script: 'echo never' },
    ]);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(final.status).toBe('FAILED');
    expect(final.steps[0]).toMatchObject({ status: 'FAILED', exitCode: null, error: 'timed out after 1200 ms' });
    expect(final.steps[0]!.durationMs).toBeGreaterThanOrEqual(1_150);
    expect(final.steps[1]!.status).toBe('SKIPPED');
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(await eventually(() => !isAlive(pid), 5_000)).toBe(true);
    const scriptPath = final.steps[0]!.stdout.trim();
    expect(scriptPath).toMatch(/^\/tmp\/skygraph-deploy-[0-9a-f]{24}$/);
    expect(await eventually(() => !existsSync(scriptPath), 5_000)).toBe(true);
  });

  it('on timeout also kills what left the process group (setsid)', async () => {
    const pidFile = join(sshd.dir, 'setsid.pid');
    const { final } = await deploy([{ kind: 'script', script: `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 30' & sleep 30`, timeoutMs: 1_200 }]);
    expect(final.steps[0]).toMatchObject({ status: 'FAILED', exitCode: null, error: 'timed out after 1200 ms' });
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(await eventually(() => !isAlive(pid), 5_000)).toBe(true);
  });

  it('writes files with their mode, creating parent directories', async () => {
    const path = join(sshd.dir, 'files', 'sub', 'app.conf');
    const existing = join(sshd.dir, 'existing.bin');
    await writeFile(existing, 'old content that is longer', { mode: 0o666 });
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256);
    const { final } = await deploy([
      { kind: 'file', path, content: 'a=1\n', mode: 0o640 },
      { kind: 'file', path: existing, content: bytes, mode: 0o600 },
      { kind: 'script', script: 'stat -c %a "$1"; cat "$1"; stat -c %a "$2"', args: [path, existing] },
    ]);
    expect(final.status).toBe('SUCCEEDED');
    expect(final.steps[0]).toMatchObject({ kind: 'file', name: `file ${path}`, status: 'SUCCEEDED', exitCode: null });
    expect(final.steps[2]!.stdout).toBe('640\na=1\n600\n');
    expect(Buffer.compare(await readFile(existing), Buffer.from(bytes))).toBe(0);
  });

  it('streams output chunks over subscribe() before the step ends', async () => {
    const node = testNode();
    const dep = deployTo(manager, node, [{ kind: 'script', script: 'echo first; sleep 1; echo second' }], sshTo(sshd));
    const { events, final } = await collect(manager, dep.id);
    expect(final.status).toBe('SUCCEEDED');
    const first = events.findIndex((e) => e.event.type === 'output' && e.event.chunk.includes('first'));
    const second = events.findIndex((e) => e.event.type === 'output' && e.event.chunk.includes('second'));
    const done = events.findIndex((e) => e.event.type === 'step' && e.event.step.status === 'SUCCEEDED');
    expect(first).toBeGreaterThan(-1);
    expect(first).toBeLessThan(second);
    expect(second).toBeLessThan(done);
    // why: arrival times prove the chunk was delivered live, not replayed at the end
    expect(events[done]!.at - events[first]!.at).toBeGreaterThan(700);
    expect(events[first]!.event).toMatchObject({ type: 'output', deploymentId: dep.id, stepIndex: 0, stream: 'stdout' });
  });

  it('bounds captured output per stream and flags truncation', async () => {
    const small = createDeploymentManager({ maxOutputBytes: 1000 });
    try {
      const { events, final } = await deploy(
        [{ kind: 'script', script: "head -c 5000 /dev/zero | tr '\\0' a; echo é-err >&2" }],
        small,
      );
      expect(final.status).toBe('SUCCEEDED');
      const step = final.steps[0]!;
      expect(step.stdout).toBe('a'.repeat(1000));
      expect(step.stderr).toBe('é-err\n');
      expect(step.truncated).toBe(true);
      const streamed = events
        .map((e) => e.event)
        .filter((e) => e.type === 'output' && e.stream === 'stdout')
        .map((e) => (e.type === 'output' ? e.chunk : ''))
        .join('');
      expect(streamed).toBe(step.stdout);
    } finally {
      await small.close();
    }
  });
});
