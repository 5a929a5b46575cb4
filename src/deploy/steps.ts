/**
 * Deployment steps: validation into a plan of numbered leaves, and running that plan over one
 * SSH connection (Libcloud's SSHKeyDeployment, ScriptDeployment, FileDeployment, MultiStepDeployment).
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { performance } from 'node:perf_hooks';
import ssh2, { type Client, type SFTPWrapper } from 'ssh2';
import { InvalidInputError } from '../providers/errors.ts';
import { execCommand, shCommand, type ExecResult } from './remote-exec.ts';
import { SCRIPT_WRAPPER, SSH_KEY_SCRIPT } from './remote-scripts.ts';
import { removeRemoteFile, makeParentDirs, writeRemoteFile } from './sftp.ts';
import type { DeployStep, FileStep, ScriptStep, SshKeyStep, StepResult } from './types.ts';

// why: ssh2 is CommonJS; Node's ESM loader does not see `utils` as a named export
const { utils } = ssh2;
const DEFAULT_SCRIPT_TIMEOUT_MS = 3_600_000;
const SSH_KEY_TIMEOUT_MS = 60_000;
const REMOTE_KILL_MARGIN_MS = 250;

/** A leaf step with its position among all leaves. */
export interface PlannedLeaf {
  index: number;
  step: SshKeyStep | ScriptStep | FileStep;
  name: string;
}

/** An ordered group (the top level, or a `multi` step). */
export interface PlannedGroup {
  continueOnError: boolean;
  items: (PlannedGroup | PlannedLeaf)[];
}

/** What running steps needs from the deployment around it. */
export interface StepRunContext {
  client: Client;
  sftp: () => Promise<SFTPWrapper>;
  maxOutputBytes: number;
  signal: AbortSignal;
  now: () => Date;
  /** a step result changed status (RUNNING, then its outcome, or SKIPPED) */
  onStep: (result: StepResult) => void;
  onOutput: (index: number, stream: 'stdout' | 'stderr', chunk: string) => void;
}

/** Validates `steps` (InvalidInputError naming the field) and numbers the leaves. */
export function planSteps(steps: DeployStep[]): { plan: PlannedGroup; leaves: PlannedLeaf[] } {
  const leaves: PlannedLeaf[] = [];
  const walk = (list: unknown, field: string, continueOnError: boolean): PlannedGroup => {
    if (!Array.isArray(list)) throw invalid(field, 'must be a list of steps');
    const items = list.map((raw: DeployStep, i) => {
      const f = `${field}[${i}]`;
      if (raw?.kind === 'multi') return walk(raw.steps, `${f}.steps`, raw.continueOnError === true);
      validateLeaf(raw, f);
      const leaf: PlannedLeaf = { index: leaves.length, step: raw, name: raw.name ?? defaultName(raw, leaves.length) };
      leaves.push(leaf);
      return leaf;
    });
    return { continueOnError, items };
  };
  const plan = walk(steps, 'steps', false);
  return { plan, leaves };
}

/** The PENDING result a leaf starts with. */
export function pendingResult(leaf: PlannedLeaf): StepResult {
  return {
    index: leaf.index,
    kind: leaf.step.kind,
    name: leaf.name,
    status: 'PENDING',
    exitCode: null,
    stdout: '',
    stderr: '',
    truncated: false,
    startedAt: null,
    durationMs: null,
    error: null,
  };
}

/**
 * Runs the plan in order, updating `results` in place. Returns the first failed step, or null.
 * Rejects only when `ctx.signal` aborts (the running step is then FAILED 'aborted').
 */
export async function runPlan(group: PlannedGroup, results: StepResult[], ctx: StepRunContext): Promise<StepResult | null> {
  let failed: StepResult | null = null;
  for (const item of group.items) {
    if (failed && !group.continueOnError) {
      skip(item, results, ctx);
      continue;
    }
    const f = 'items' in item ? await runPlan(item, results, ctx) : await runLeaf(item, results, ctx);
    failed ??= f;
  }
  return failed;
}

// --- Internal helpers ---

async function runLeaf(leaf: PlannedLeaf, results: StepResult[], ctx: StepRunContext): Promise<StepResult | null> {
  const r = results[leaf.index]!;
  Object.assign(r, { status: 'RUNNING', startedAt: ctx.now().toISOString() });
  ctx.onStep(r);
  const t0 = performance.now();
  try {
    const step = leaf.step;
    if (step.kind === 'file') {
      await writeFileStep(step, ctx);
      r.status = 'SUCCEEDED';
    } else {
      const timeoutMs = step.kind === 'script' ? (step.timeoutMs ?? DEFAULT_SCRIPT_TIMEOUT_MS) : SSH_KEY_TIMEOUT_MS;
      const res = step.kind === 'script' ? await runScript(step, timeoutMs, leaf.index, ctx) : await addSshKey(step, leaf.index, ctx);
      Object.assign(r, { exitCode: res.exitCode, stdout: res.stdout, stderr: res.stderr, truncated: res.truncated });
      r.error = outcomeError(res, timeoutMs);
      r.status = r.error === null ? 'SUCCEEDED' : 'FAILED';
    }
  } catch (err) {
    r.status = 'FAILED';
    r.error = ctx.signal.aborted ? 'aborted' : `${leaf.step.kind} step failed: ${(err as Error).message}`;
    if (ctx.signal.aborted) {
      finishLeaf(r, t0, ctx);
      throw err;
    }
  }
  finishLeaf(r, t0, ctx);
  return r.status === 'FAILED' ? r : null;
}

function finishLeaf(r: StepResult, t0: number, ctx: StepRunContext): void {
  r.durationMs = Math.round(performance.now() - t0);
  ctx.onStep(r);
}

function skip(item: PlannedGroup | PlannedLeaf, results: StepResult[], ctx: StepRunContext): void {
  if ('items' in item) return item.items.forEach((i) => skip(i, results, ctx));
  const r = results[item.index]!;
  r.status = 'SKIPPED';
  ctx.onStep(r);
}

function outcomeError(res: ExecResult, timeoutMs: number): string | null {
  if (res.timedOut) return `timed out after ${timeoutMs} ms`;
  if (res.exitCode === 0) return null;
  if (res.exitCode !== null) return `exit code ${res.exitCode}`;
  if (res.signal) return `killed by signal ${res.signal}`;
  return 'connection closed before the command finished';
}

function addSshKey(step: SshKeyStep, index: number, ctx: StepRunContext): Promise<ExecResult> {
  return execCommand(ctx.client, shCommand(SSH_KEY_SCRIPT, [step.publicKey.trim()]), execOpts(SSH_KEY_TIMEOUT_MS, index, ctx));
}

/**
 * Uploads the script to an unguessable /tmp path (O_EXCL, mode 0600) and runs the interpreter on
 * it. Why not pipe it on stdin: a command in the script that reads stdin (read, apt-get prompts,
 * ssh) would swallow the rest of the script; with a file, the script's stdin is /dev/null.
 */
async function runScript(step: ScriptStep, timeoutMs: number, index: number, ctx: StepRunContext): Promise<ExecResult> {
  const sftp = await ctx.sftp();
  const path = `/tmp/skygraph-deploy-${randomBytes(12).toString('hex')}`;
  try {
    await writeRemoteFile(sftp, path, Buffer.from(step.script, 'utf8'), 0o600, 'wx');
  } catch (err) {
    throw new Error(`could not upload the script to ${path}: ${(err as Error).message}`, { cause: err });
  }
  // why: a little after the client gives up, so the step reports the timeout and not SIGKILL.
  // Whole seconds plus a fraction (rounded up where sleep takes no fractions).
  const killAfterMs = Math.ceil(timeoutMs) + REMOTE_KILL_MARGIN_MS;
  const fraction = killAfterMs % 1000 === 0 ? '0' : ((killAfterMs % 1000) / 1000).toFixed(3);
  const args = [path, step.interpreter ?? '/bin/sh', String(Math.floor(killAfterMs / 1000)), fraction, ...(step.args ?? [])];
  let started = false;
  const onOpen = () => {
    started = true;
  };
  try {
    return await execCommand(ctx.client, shCommand(SCRIPT_WRAPPER, args), { ...execOpts(timeoutMs, index, ctx), onOpen });
  } catch (err) {
    // why: on abort (manager closing) ask the watchdog to kill the script now, not at its timeout;
    // when the wrapper never started, nobody else removes the script
    if (ctx.signal.aborted) {
      const stop = new Uint8Array(0);
      await withinMs(started ? writeRemoteFile(sftp, `${path}.stop`, stop, 0o600, 'wx') : removeRemoteFile(sftp, path), 2_000);
    }
    throw err;
  } finally {
    // why: the wrapper removes it too, unless the channel never opened
    if (!ctx.signal.aborted) await removeRemoteFile(sftp, path);
  }
}

/** Waits for `p` at most `ms`; failures are ignored (best effort). */
function withinMs(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    p.catch(() => {}).finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function writeFileStep(step: FileStep, ctx: StepRunContext): Promise<void> {
  const sftp = await ctx.sftp();
  const dir = posix.dirname(step.path);
  if (dir !== '.' && dir !== '/') await makeParentDirs(sftp, dir);
  const content = typeof step.content === 'string' ? Buffer.from(step.content, 'utf8') : step.content;
  await writeRemoteFile(sftp, step.path, content, step.mode ?? 0o644, 'w');
}

function execOpts(timeoutMs: number, index: number, ctx: StepRunContext) {
  return {
    timeoutMs,
    maxOutputBytes: ctx.maxOutputBytes,
    signal: ctx.signal,
    onChunk: (stream: 'stdout' | 'stderr', chunk: string) => ctx.onOutput(index, stream, chunk),
  };
}

function defaultName(step: SshKeyStep | ScriptStep | FileStep, index: number): string {
  if (step.kind === 'file') return `file ${step.path}`;
  if (step.kind === 'script') return `script ${index + 1}`;
  const parsed = utils.parseKey(step.publicKey);
  return `ssh key ${parsed instanceof Error ? '' : parsed.comment || parsed.type}`.trim();
}

function invalid(field: string, why: string): InvalidInputError {
  return new InvalidInputError(`${field} ${why}`, { field });
}

function validateLeaf(step: DeployStep, f: string): void {
  const noNul = (v: unknown) => typeof v === 'string' && !v.includes('\0');
  const name = (step as { name?: unknown } | undefined)?.name;
  if (name !== undefined && !noNul(name)) throw invalid(`${f}.name`, 'must be a string');
  switch (step?.kind) {
    case 'sshKey': {
      const key = typeof step.publicKey === 'string' ? step.publicKey.trim() : '';
      const parsed = key && !/[\r\n]/.test(key) ? utils.parseKey(key) : null;
      if (!parsed || parsed instanceof Error || parsed.isPrivateKey()) {
        throw invalid(`${f}.publicKey`, 'must be one OpenSSH public key line');
      }
      return;
    }
    case 'script':
      if (!noNul(step.script) || step.script.length === 0) throw invalid(`${f}.script`, 'must be a non-empty string');
      if (step.args !== undefined && !(Array.isArray(step.args) && step.args.every(noNul))) {
        throw invalid(`${f}.args`, 'must be a list of strings without NUL bytes');
      }
      if (step.interpreter !== undefined && !(noNul(step.interpreter) && /^\/\S+$/.test(step.interpreter))) {
        throw invalid(`${f}.interpreter`, 'must be an absolute program path without arguments');
      }
      if (step.timeoutMs !== undefined && !(Number.isFinite(step.timeoutMs) && step.timeoutMs > 0)) {
        throw invalid(`${f}.timeoutMs`, 'must be a positive number');
      }
      return;
    case 'file':
      if (!noNul(step.path) || step.path.length === 0 || step.path.endsWith('/')) {
        throw invalid(`${f}.path`, 'must be a file path');
      }
      if (typeof step.content !== 'string' && !(step.content instanceof Uint8Array)) {
        throw invalid(`${f}.content`, 'must be a string or bytes');
      }
      if (step.mode !== undefined && !(Number.isInteger(step.mode) && step.mode >= 0 && step.mode <= 0o7777)) {
        throw invalid(`${f}.mode`, 'must be a permission mode in 0..0o7777');
      }
      return;
    default:
      throw invalid(`${f}.kind`, "must be one of 'sshKey', 'script', 'file', 'multi'");
  }
}
