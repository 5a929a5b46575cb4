/**
 * The deployment manager around the steps: waiting for the node, subscriptions, input
 * validation, close() and retention. SSH goes to a real sshd on 127.0.0.1.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDeploymentManager } from '../../src/deploy/manager.ts';
import type { DeploymentEvent, DeploymentManager, StartDeploymentInput } from '../../src/deploy/types.ts';
import { InvalidInputError, NotFoundError, ProviderError } from '../../src/providers/errors.ts';
import type { Node, NodeState } from '../../src/providers/types.ts';
import type { SshdFixture } from '../helpers/sshd.ts';
import { collect, eventually, isAlive, sshTo, statuses, testNode, withSshdAndManager } from './support.ts';

describe('deploy: manager', () => {
  let sshd: SshdFixture;
  let manager: DeploymentManager;
  withSshdAndManager((s, m) => {
    sshd = s;
    manager = m;
  }, { pollMs: 50, now: () => new Date('2030-01-02T03:04:05.000Z') });

  /** A node that reports the given states one poll after the other (the last one repeats). */
  const scriptedNode = (states: (NodeState | 'missing')[]) => {
    const polls: string[] = [];
    const getNode = async (id: string): Promise<Node> => {
      const state = states[Math.min(polls.length, states.length - 1)]!;
      polls.push(id);
      if (state === 'missing') throw new NotFoundError(`node ${id} not found`);
      return testNode({ id }, state);
    };
    return { getNode, polls };
  };

  const base = (over: Partial<StartDeploymentInput>): StartDeploymentInput => ({
    accountId: 'sandbox',
    getNode: async () => testNode(),
    steps: [{ kind: 'script', script: 'echo ok' }],
    ssh: sshTo(sshd),
    ...over,
  });

  it('creates the node, polls it until running, then deploys', async () => {
    const node = scriptedNode(['missing', 'pending', 'starting', 'running']);
    const dep = manager.start(
      base({ create: async () => testNode({ id: 'node-new', publicIps: [] }, 'pending'), getNode: node.getNode }),
    );
    expect(dep).toMatchObject({ status: 'PENDING', nodeId: null, accountId: 'sandbox', createdAt: '2030-01-02T03:04:05.000Z' });
    expect(dep.steps).toEqual([expect.objectContaining({ index: 0, kind: 'script', name: 'script 1', status: 'PENDING' })]);
    const { events, final } = await collect(manager, dep.id);
    expect(statuses(events)).toEqual(['PENDING', 'WAITING_FOR_NODE', 'WAITING_FOR_SSH', 'RUNNING', 'SUCCEEDED']);
    expect(final).toMatchObject({ nodeId: 'node-new', address: '127.0.0.1', status: 'SUCCEEDED' });
    expect(final.steps[0]!.stdout).toBe('ok\n');
    expect(node.polls).toEqual(['node-new', 'node-new', 'node-new', 'node-new']);
    expect(manager.get(dep.id)).toEqual(final);
  });

  it('fails with NODE_FAILED when the node ends up terminated, without trying SSH', async () => {
    const node = scriptedNode(['pending', 'terminated']);
    const dep = manager.start(base({ nodeId: 'node-t', getNode: node.getNode }));
    const { events, final } = await collect(manager, dep.id);
    expect(statuses(events)).toEqual(['PENDING', 'WAITING_FOR_NODE', 'FAILED']);
    expect(final.error).toEqual({ code: 'NODE_FAILED', message: 'node node-t is terminated' });
    expect(final.steps[0]!.status).toBe('SKIPPED');
  });

  it('fails with TIMEOUT when the node is not running by the deadline', async () => {
    const dep = manager.start(base({ nodeId: 'node-p', getNode: scriptedNode(['pending']).getNode, ssh: sshTo(sshd, { timeoutMs: 400 }) }));
    const { final } = await collect(manager, dep.id);
    expect(final.error).toEqual({ code: 'TIMEOUT', message: 'node node-p not running (last state: pending) within 400 ms' });
  });

  it('reports a failing create() with its typed error code', async () => {
    const dep = manager.start(
      base({
        create: async () => {
          throw new ProviderError('[sandbox] quota exceeded');
        },
      }),
    );
    const { final } = await collect(manager, dep.id);
    expect(final.error).toEqual({ code: 'PROVIDER_ERROR', message: '[sandbox] quota exceeded' });
  });

  it('uses waitForRunning instead of polling when given', async () => {
    const polls: string[] = [];
    const dep = manager.start(
      base({
        nodeId: 'node-w',
        getNode: async (id) => {
          polls.push(id);
          return testNode({ id }, 'pending');
        },
        waitForRunning: async (id) => {
          await new Promise((r) => setTimeout(r, 100));
          return testNode({ id });
        },
      }),
    );
    const { final } = await collect(manager, dep.id);
    expect(final.status).toBe('SUCCEEDED');
    expect(polls).toEqual([]);
  });

  it('gives late subscribers the current snapshot, and ends subscriptions on abort', async () => {
    const dep = manager.start(base({ nodeId: 'node-1' }));
    const { final } = await collect(manager, dep.id);
    const late: DeploymentEvent[] = [];
    for await (const e of manager.subscribe(dep.id)) late.push(e);
    expect(late).toEqual([{ type: 'status', deployment: final }]);

    expect(() => manager.subscribe('no-such-id')).toThrow(NotFoundError);

    const running = manager.start(base({ nodeId: 'node-1', steps: [{ kind: 'script', script: 'sleep 2' }] }));
    const ctl = new AbortController();
    const seen: DeploymentEvent[] = [];
    const reading = (async () => {
      for await (const e of manager.subscribe(running.id, ctl.signal)) seen.push(e);
    })();
    setTimeout(() => ctl.abort(), 300);
    await reading;
    expect(seen[0]).toMatchObject({ type: 'status', deployment: { status: 'PENDING' } });
    expect(seen.some((e) => e.type === 'status' && e.deployment.status === 'SUCCEEDED')).toBe(false);
    expect((await collect(manager, running.id)).final.status).toBe('SUCCEEDED');
  });

  it('rejects bad input at once, naming the field and never echoing the key', () => {
    const secret = '-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END OPENSSH PRIVATE KEY-----';
    const attempt = (over: Partial<StartDeploymentInput>) => {
      try {
        manager.start(base({ nodeId: 'node-1', ...over }));
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidInputError);
        return err as InvalidInputError;
      }
      throw new Error('expected InvalidInputError');
    };
    const keyErr = attempt({ ssh: sshTo(sshd, { privateKey: secret }) });
    expect(keyErr.field).toBe('ssh.privateKey');
    expect(keyErr.message).not.toContain('c2VjcmV0');
    expect(attempt({ ssh: sshTo(sshd, { hostKeyFingerprint: 'MD5:aa:bb' }) }).field).toBe('ssh.hostKeyFingerprint');
    expect(attempt({ create: async () => testNode() }).field).toBe('nodeId');
    expect(attempt({ steps: [{ kind: 'multi', steps: [{ kind: 'file', path: '/x', content: '', mode: 0o10000 }] }] }).field).toBe(
      'steps[0].steps[0].mode',
    );
    expect(attempt({ steps: [{ kind: 'sshKey', publicKey: 'not a key' }] }).field).toBe('steps[0].publicKey');
    expect(attempt({ steps: [{ kind: 'script', script: 'true', interpreter: 'python3 -u' }] }).field).toBe('steps[0].interpreter');
  });

  it('close() fails running deployments, ends subscriptions and forgets finished ones after retainMs', async () => {
    const own = createDeploymentManager({ retainMs: 200 });
    const done = own.start(base({ nodeId: 'node-1' }));
    expect((await collect(own, done.id)).final.status).toBe('SUCCEEDED');
    expect(await eventually(() => own.get(done.id) === undefined, 3_000)).toBe(true);

    const pidFile = join(sshd.dir, 'close.pid');
    const script = `echo $$ > ${pidFile}; exec sleep 20`;
    const running = own.start(base({ nodeId: 'node-1', steps: [{ kind: 'script', script }] }));
    const result = collect(own, running.id);
    // why: the script is running once it has written its pid
    expect(await eventually(() => existsSync(pidFile) && statSync(pidFile).size > 0, 10_000)).toBe(true);
    expect(own.get(running.id)?.steps[0]?.status).toBe('RUNNING');
    const t0 = performance.now();
    await own.close();
    expect(performance.now() - t0).toBeLessThan(5_000);
    const { final } = await result;
    expect(final.status).toBe('FAILED');
    expect(final.error).toEqual({ code: 'UNAVAILABLE', message: 'deployment manager closed' });
    expect(final.steps[0]).toMatchObject({ status: 'FAILED', error: 'aborted' });
    expect(() => own.start(base({ nodeId: 'node-1' }))).toThrow(/closed/);
    // the remote script is killed too (its watchdog fires on the stop file), not left to its 1 h timeout
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(await eventually(() => !isAlive(pid), 4_000)).toBe(true);
  });
});
