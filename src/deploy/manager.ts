/**
 * The deployment manager: Libcloud's deploy_node as background jobs with live events.
 * create/look up the node -> wait until running -> pick one of its own addresses -> SSH (retry
 * with backoff until the deadline) -> run the steps -> SUCCEEDED or FAILED.
 */
import { randomUUID } from 'node:crypto';
import { InvalidInputError, NotFoundError, SkygraphError, TimeoutError } from '../providers/errors.ts';
import type { Node } from '../providers/types.ts';
import { NodeFailedError, toDeploymentError } from './errors.ts';
import { createEventQueue, type EventQueue } from './event-queue.ts';
import { lazySftp } from './sftp.ts';
import { abortError, connectWithRetry, pickAddress, sleep, validateSshOptions, type SshConnection } from './ssh-connect.ts';
import { pendingResult, planSteps, runPlan, type PlannedGroup } from './steps.ts';
import type {
  Deployment,
  DeploymentError,
  DeploymentEvent,
  DeploymentManager,
  DeploymentManagerOptions,
  DeploymentStatus,
  StartDeploymentInput,
  StepResult,
} from './types.ts';

const TERMINAL: ReadonlySet<DeploymentStatus> = new Set(['SUCCEEDED', 'FAILED']);
const NODE_FAILED_STATES: ReadonlySet<string> = new Set(['terminated', 'error']);

interface Entry {
  dep: Deployment;
  subscribers: Set<EventQueue<DeploymentEvent>>;
  abort: AbortController;
  done: Promise<void>;
  retainTimer?: NodeJS.Timeout;
}

export function createDeploymentManager(opts: DeploymentManagerOptions = {}): DeploymentManager {
  const maxOutputBytes = opts.maxOutputBytes ?? 1024 * 1024;
  const pollMs = opts.pollMs ?? 2_000;
  const retainMs = opts.retainMs ?? 3_600_000;
  const now = opts.now ?? (() => new Date());
  const logger = opts.logger;
  const entries = new Map<string, Entry>();
  let closed = false;

  const emit = (entry: Entry, event: DeploymentEvent) => {
    for (const q of entry.subscribers) q.push(event);
  };
  const touch = (entry: Entry) => {
    entry.dep.updatedAt = now().toISOString();
  };
  const setStatus = (entry: Entry, status: DeploymentStatus, error?: DeploymentError) => {
    const dep = entry.dep;
    dep.status = status;
    if (error) dep.error = error;
    touch(entry);
    logger?.debug('deployment status', { deploymentId: dep.id, status, address: dep.address, username: dep.username });
    emit(entry, { type: 'status', deployment: structuredClone(dep) });
    if (!TERMINAL.has(status)) return;
    for (const q of entry.subscribers) q.end();
    entry.subscribers.clear();
    entry.retainTimer = setTimeout(() => entries.delete(dep.id), retainMs);
    entry.retainTimer.unref();
  };
  const stepChanged = (entry: Entry) => (step: StepResult) => {
    touch(entry);
    emit(entry, { type: 'step', deploymentId: entry.dep.id, step: structuredClone(step) });
  };

  async function run(entry: Entry, input: StartDeploymentInput, plan: PlannedGroup): Promise<void> {
    const { dep } = entry;
    const { ssh } = input;
    const signal = entry.abort.signal;
    const deadline = Date.now() + (ssh.timeoutMs ?? 300_000);
    let conn: SshConnection | undefined;
    try {
      // why: close() may have run before this turn; do not create a node for a dead manager
      if (signal.aborted) throw abortError(signal);
      let node: Node | undefined;
      if (input.create) {
        node = await untilAborted(input.create(), signal);
        dep.nodeId = node.id;
      }
      setStatus(entry, 'WAITING_FOR_NODE');
      const address = await waitForAddress(input, dep.nodeId!, node, deadline, signal);
      dep.address = address;
      setStatus(entry, 'WAITING_FOR_SSH');
      conn = await connectWithRetry(address, ssh, deadline, signal, (reason) =>
        logger?.debug('deployment ssh retry', { deploymentId: dep.id, reason }),
      );
      dep.username = conn.username;
      setStatus(entry, 'RUNNING');
      const client = conn.client;
      const failed = await runPlan(plan, dep.steps, {
        client,
        sftp: lazySftp(client),
        maxOutputBytes,
        signal,
        now,
        onStep: stepChanged(entry),
        onOutput: (stepIndex, stream, chunk) => {
          dep.steps[stepIndex]![stream] += chunk;
          emit(entry, { type: 'output', deploymentId: dep.id, stepIndex, stream, chunk });
        },
      });
      if (failed) {
        const message = `step ${failed.index} (${failed.name}) failed: ${failed.error}`;
        setStatus(entry, 'FAILED', { code: 'STEP_FAILED', message });
      } else {
        setStatus(entry, 'SUCCEEDED');
      }
    } catch (err) {
      for (const step of dep.steps) {
        if (step.status !== 'PENDING') continue;
        step.status = 'SKIPPED';
        stepChanged(entry)(step);
      }
      setStatus(entry, 'FAILED', toDeploymentError(signal.aborted ? abortError(signal) : err));
    } finally {
      conn?.client.end();
    }
  }

  /** Polls (or uses waitForRunning) until the node runs and has an address of its own. */
  async function waitForAddress(
    input: StartDeploymentInput,
    id: string,
    initial: Node | undefined,
    deadline: number,
    signal: AbortSignal,
  ): Promise<string> {
    const pref = input.ssh.addressPreference ?? 'public';
    let node = initial;
    if (input.waitForRunning && node?.state !== 'running') {
      node = await withDeadline((s) => input.waitForRunning!(id, s), deadline, signal, `node ${id} not running`);
    }
    let lastState = node?.state ?? 'unknown';
    for (;;) {
      if (!node) {
        try {
          node = await untilAborted(input.getNode(id), signal);
        } catch (err) {
          // why: right after creation some providers do not list the node yet
          if (signal.aborted || !(err instanceof NotFoundError || (err instanceof SkygraphError && err.retryable))) throw err;
        }
      }
      if (node) {
        lastState = node.state;
        if (NODE_FAILED_STATES.has(node.state)) throw new NodeFailedError(`node ${id} is ${node.state}`);
        const address = node.state === 'running' ? pickAddress(node, pref) : null;
        if (address) return address;
      }
      const total = input.ssh.timeoutMs ?? 300_000;
      if (Date.now() + pollMs > deadline) {
        const why = lastState === 'running' ? 'running but has no IP address' : `not running (last state: ${lastState})`;
        throw new TimeoutError(`node ${id} ${why} within ${total} ms`);
      }
      await sleep(pollMs, signal);
      node = undefined;
    }
  }

  return {
    start(input) {
      if (closed) throw new SkygraphError('UNAVAILABLE', 'deployment manager is closed');
      if (typeof input.accountId !== 'string' || input.accountId === '') {
        throw new InvalidInputError('accountId is required', { field: 'accountId' });
      }
      if ((input.create === undefined) === (input.nodeId === undefined)) {
        throw new InvalidInputError('exactly one of create or nodeId is required', { field: 'nodeId' });
      }
      if (typeof input.getNode !== 'function') throw new InvalidInputError('getNode is required', { field: 'getNode' });
      validateSshOptions(input.ssh);
      const { plan, leaves } = planSteps(input.steps);
      const at = now().toISOString();
      const dep: Deployment = {
        id: randomUUID(),
        status: 'PENDING',
        accountId: input.accountId,
        nodeId: input.nodeId ?? null,
        address: null,
        username: null,
        steps: leaves.map(pendingResult),
        error: null,
        createdAt: at,
        updatedAt: at,
      };
      const entry: Entry = { dep, subscribers: new Set(), abort: new AbortController(), done: Promise.resolve() };
      entries.set(dep.id, entry);
      // why: a copy of the input, so later mutation by the caller cannot change a running deployment
      const ssh = { ...input.ssh, alternateUsernames: input.ssh.alternateUsernames?.slice() };
      // why: on a later turn, so that a subscriber attached right after start() sees PENDING first
      entry.done = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => run(entry, { ...input, ssh }, plan))
        .catch((err: unknown) => {
          logger?.error('deployment crashed', { deploymentId: dep.id, error: (err as Error).message });
        });
      return structuredClone(dep);
    },

    get(id) {
      const entry = entries.get(id);
      return entry ? structuredClone(entry.dep) : undefined;
    },

    subscribe(id, signal) {
      const entry = entries.get(id);
      if (!entry) throw new NotFoundError(`deployment ${id} not found`);
      const queue: EventQueue<DeploymentEvent> = createEventQueue(() => entry.subscribers.delete(queue), signal);
      queue.push({ type: 'status', deployment: structuredClone(entry.dep) });
      if (TERMINAL.has(entry.dep.status)) queue.end();
      else if (!signal?.aborted) entry.subscribers.add(queue);
      return queue.iterator;
    },

    async close() {
      closed = true;
      for (const entry of entries.values()) {
        entry.abort.abort(new SkygraphError('UNAVAILABLE', 'deployment manager closed'));
      }
      await Promise.all([...entries.values()].map((e) => e.done));
      for (const entry of entries.values()) {
        clearTimeout(entry.retainTimer);
        for (const q of entry.subscribers) q.end();
      }
      entries.clear();
    },
  };
}

// --- Internal helpers ---

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function withDeadline<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  deadline: number,
  parent: AbortSignal,
  what: string,
): Promise<T> {
  const ctl = new AbortController();
  const ms = Math.max(0, deadline - Date.now());
  const timer = setTimeout(() => ctl.abort(new TimeoutError(`${what} within the deadline`)), ms);
  const onAbort = () => ctl.abort(abortError(parent));
  parent.addEventListener('abort', onAbort, { once: true });
  try {
    return await untilAborted(fn(ctl.signal), ctl.signal);
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', onAbort);
  }
}
