/** Shared bits of the deploy tests: plain Node objects, SSH options for a test sshd, event collection. */
import { afterAll, beforeAll } from 'vitest';
import { createDeploymentManager } from '../../src/deploy/manager.ts';
import type {
  DeployStep,
  DeploymentManager,
  DeploymentManagerOptions,
  Deployment,
  DeploymentEvent,
  SshOptions,
} from '../../src/deploy/types.ts';
import type { Node, NodeState } from '../../src/providers/types.ts';
import { startSshd, type SshdFixture } from '../helpers/sshd.ts';

/**
 * Starts a test sshd and a deployment manager before the suite and closes both after it;
 * `use` receives them once started.
 */
export function withSshdAndManager(use: (sshd: SshdFixture, manager: DeploymentManager) => void, managerOptions: DeploymentManagerOptions = { pollMs: 50 }): void {
  let sshd: SshdFixture | undefined;
  let manager: DeploymentManager | undefined;
  beforeAll(async () => {
    sshd = await startSshd();
    manager = createDeploymentManager(managerOptions);
    use(sshd, manager);
  });
  afterAll(async () => {
    await manager?.close();
    await sshd?.stop();
  });
}

/** Starts a deployment of `steps` to the existing `node`, over `ssh`. */
export function deployTo(manager: DeploymentManager, node: Node, steps: DeployStep[], ssh: SshOptions): Deployment {
  return manager.start({ accountId: 'sandbox', nodeId: node.id, getNode: async () => node, steps, ssh });
}

export function testNode(overrides: Partial<Node> = {}, state: NodeState = 'running'): Node {
  return {
    id: 'node-1',
    name: 'deploy-test',
    state,
    publicIps: ['127.0.0.1'],
    privateIps: [],
    sizeId: null,
    imageId: null,
    locationId: null,
    createdAt: null,
    tags: {},
    extra: {},
    ...overrides,
  };
}

/** SSH options logging in to `sshd` with its client key, host key pinned. */
export function sshTo(sshd: Omit<SshdFixture, 'stop'>, extra: Partial<SshOptions> = {}): SshOptions {
  return {
    username: sshd.username,
    port: sshd.port,
    privateKey: sshd.privateKey,
    hostKeyFingerprint: sshd.hostKeyFingerprint,
    timeoutMs: 20_000,
    ...extra,
  };
}

/** An event and the performance.now() at which the subscriber received it. */
export interface TimedEvent {
  at: number;
  event: DeploymentEvent;
}

/** Reads the subscription to its end; returns every event and the final deployment. */
export async function collect(manager: DeploymentManager, id: string): Promise<{ events: TimedEvent[]; final: Deployment }> {
  const events: TimedEvent[] = [];
  for await (const event of manager.subscribe(id)) events.push({ at: performance.now(), event });
  const last = events.at(-1)?.event;
  if (last?.type !== 'status') throw new Error(`subscription ended without a status event: ${JSON.stringify(last)}`);
  return { events, final: last.deployment };
}

/** The statuses in the order the subscription saw them (repeats collapsed). */
export function statuses(events: TimedEvent[]): string[] {
  const out: string[] = [];
  for (const { event } of events) {
    if (event.type === 'status' && out.at(-1) !== event.deployment.status) out.push(event.deployment.status);
  }
  return out;
}

/** Polls `check` until it returns true or `ms` pass. */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True while a local process with this pid exists (the test sshd runs on this machine). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
