/**
 * Deployment engine types: Libcloud's deploy_node (create a node, wait for it and its SSH port,
 * run deployment steps) with per-step results and live output events.
 */
import type { Logger, Node } from '../providers/types.ts';

/**
 * One deployment step. `multi` nests an ordered list; all other kinds are leaves, and each leaf
 * gets one StepResult (a deployment's `steps` lists the leaves in execution order).
 */
export type DeployStep = SshKeyStep | ScriptStep | FileStep | MultiStep;

/** Appends a public key to the login user's `$HOME/.ssh/authorized_keys`. */
export interface SshKeyStep {
  kind: 'sshKey';
  /** one OpenSSH public key line (`ssh-ed25519 AAAA... comment`); not added again when the same line is there */
  publicKey: string;
  name?: string | undefined;
}

/** Uploads `script` over SFTP to a private temp file and runs `interpreter <file> args...`. */
export interface ScriptStep {
  kind: 'script';
  script: string;
  /** passed as separate, shell-quoted arguments */
  args?: string[] | undefined;
  /** absolute path of one program (no arguments); default /bin/sh */
  interpreter?: string | undefined;
  /** default 3600000 (1 h); the remote process group is killed when it expires */
  timeoutMs?: number | undefined;
  name?: string | undefined;
}

/** Writes `content` to `path` over SFTP. Missing parent directories are created (mode 0755 less the umask). */
export interface FileStep {
  kind: 'file';
  /** absolute, or relative to the login user's home directory */
  path: string;
  content: string | Uint8Array;
  /** set exactly, also on an existing file; default 0o644 */
  mode?: number | undefined;
  name?: string | undefined;
}

/** An ordered list; stops at the first failing step (the rest SKIPPED) unless `continueOnError`. */
export interface MultiStep {
  kind: 'multi';
  steps: DeployStep[];
  /** run the remaining steps after a failure; the multi step (and deployment) still fails */
  continueOnError?: boolean | undefined;
}

export const DEPLOYMENT_STATUSES = [
  'PENDING',
  'WAITING_FOR_NODE',
  'WAITING_FOR_SSH',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export type StepStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';

/** The outcome of one leaf step. */
export interface StepResult {
  /** position among the leaf steps, in execution order */
  index: number;
  kind: 'sshKey' | 'script' | 'file';
  name: string;
  status: StepStatus;
  /** remote exit code; null for file steps, steps not run, and processes killed by a signal */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** true when stdout or stderr went past the manager's `maxOutputBytes` and was cut */
  truncated: boolean;
  /** ISO 8601 */
  startedAt: string | null;
  durationMs: number | null;
  /** why the step failed (`exit code 3`, `timed out after 500 ms`, ...) */
  error: string | null;
}

/**
 * Codes a failed deployment carries: the shared ErrorCodes of src/providers/errors.ts plus
 * HOST_KEY_MISMATCH, NODE_FAILED (node ended terminated/error) and STEP_FAILED.
 */
export interface DeploymentError {
  code: string;
  message: string;
}

/** A deployment as readers see it (a snapshot; never holds key material). */
export interface Deployment {
  id: string;
  status: DeploymentStatus;
  accountId: string;
  nodeId: string | null;
  /** the node address SSH connected (or is trying) to */
  address: string | null;
  /** the username that logged in, once connected */
  username: string | null;
  steps: StepResult[];
  error: DeploymentError | null;
  createdAt: string;
  updatedAt: string;
}

/** What `subscribe` yields: status changes (with a full snapshot), output chunks, step changes. */
export type DeploymentEvent =
  | { type: 'status'; deployment: Deployment }
  | { type: 'output'; deploymentId: string; stepIndex: number; stream: 'stdout' | 'stderr'; chunk: string }
  | { type: 'step'; deploymentId: string; step: StepResult };

/** How to log in. Resolved by the caller from the config; never taken from a GraphQL argument. */
export interface SshOptions {
  username: string;
  /** tried in order when the server refuses the previous username */
  alternateUsernames?: string[] | undefined;
  /** default 22 */
  port?: number | undefined;
  /** OpenSSH or PEM private key text; never logged, echoed or stored on the Deployment */
  privateKey: string;
  passphrase?: string | undefined;
  /** `SHA256:<base64>` as `ssh-keygen -l` prints it; a different host key fails with HOST_KEY_MISMATCH */
  hostKeyFingerprint?: string | undefined;
  /** deadline from start() for the node to run and SSH to accept a login; default 300000 */
  timeoutMs?: number | undefined;
  /** per connection attempt; default 10000 */
  connectTimeoutMs?: number | undefined;
  /** which of the node's own addresses to try first; default 'public' */
  addressPreference?: 'public' | 'private' | undefined;
}

/** Input of DeploymentManager.start: either `create` (deployNode) or `nodeId` (deployToNode). */
export interface StartDeploymentInput {
  accountId: string;
  /** creates the node (deployNode) */
  create?: (() => Promise<Node>) | undefined;
  /** an existing node (deployToNode) */
  nodeId?: string | undefined;
  /** polled every `pollMs` until the node is running */
  getNode: (id: string) => Promise<Node>;
  /** used instead of polling when given (e.g. the shared live poller); resolves with the node once running */
  waitForRunning?: ((id: string, signal: AbortSignal) => Promise<Node>) | undefined;
  steps: DeployStep[];
  ssh: SshOptions;
}

/** Runs deployments in the background and reports on them. */
export interface DeploymentManager {
  /**
   * Validates the input (InvalidInputError), then returns the PENDING deployment at once. In the
   * background: create or look up the node, wait until it is running, pick one of its own
   * addresses, retry SSH with backoff until the deadline (trying alternate usernames on
   * authentication failure), run the steps.
   */
  start(input: StartDeploymentInput): Deployment;
  /** a snapshot, or undefined when unknown or forgotten (`retainMs` after it finished) */
  get(id: string): Deployment | undefined;
  /**
   * Events of one deployment, starting with a status snapshot and ending after the terminal
   * status event. Throws NotFoundError for an unknown id. Ends early when `signal` aborts.
   */
  subscribe(id: string, signal?: AbortSignal): AsyncIterableIterator<DeploymentEvent>;
  /** fails running deployments (code UNAVAILABLE), ends subscriptions, drops timers and connections */
  close(): Promise<void>;
}

/** Options of createDeploymentManager. */
export interface DeploymentManagerOptions {
  /** per step and stream; output past it is dropped and the step marked truncated; default 1 MiB */
  maxOutputBytes?: number | undefined;
  /** node state poll interval; default 2000 */
  pollMs?: number | undefined;
  /** clock for timestamps */
  now?: (() => Date) | undefined;
  /** finished deployments are forgotten after this; default 3600000 */
  retainMs?: number | undefined;
  logger?: Logger | undefined;
}
