/**
 * SSH login to a node: one of the node's own addresses, host key pinning, retry with backoff
 * until a deadline, alternate usernames on authentication failure.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import ssh2 from 'ssh2';
import {
  AuthenticationError,
  ConnectionFailedError,
  InvalidInputError,
  SkygraphError,
  TimeoutError,
} from '../providers/errors.ts';
import type { Node } from '../providers/types.ts';
import { HostKeyMismatchError } from './errors.ts';
import type { SshOptions } from './types.ts';

// why: ssh2 is CommonJS; Node's ESM loader only sees some of its named exports (not utils)
const { Client, utils } = ssh2;
type Client = InstanceType<typeof Client>;

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;

/** An open, authenticated connection. */
export interface SshConnection {
  client: Client;
  username: string;
}

/** `SHA256:` + unpadded base64 of the SHA-256 of the raw host key, as `ssh-keygen -l` prints it. */
export function hostKeyFingerprint(rawKey: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(rawKey).digest('base64').replace(/=+$/, '');
}

/** Throws InvalidInputError for bad SSH options; messages name the field, never its value. */
export function validateSshOptions(ssh: SshOptions): void {
  const bad = (field: string, why: string) => new InvalidInputError(`ssh.${field} ${why}`, { field: `ssh.${field}` });
  for (const [i, u] of [ssh.username, ...(ssh.alternateUsernames ?? [])].entries()) {
    if (typeof u !== 'string' || !/^\S{1,256}$/.test(u) || u.includes('\0')) {
      throw bad(i === 0 ? 'username' : 'alternateUsernames', 'must be a valid user name');
    }
  }
  if (ssh.port !== undefined && !(Number.isInteger(ssh.port) && ssh.port > 0 && ssh.port < 65536)) {
    throw bad('port', 'must be an integer in 1..65535');
  }
  for (const f of ['timeoutMs', 'connectTimeoutMs'] as const) {
    const v = ssh[f];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw bad(f, 'must be a positive number');
  }
  if (ssh.hostKeyFingerprint !== undefined && !FINGERPRINT.test(normalizeFingerprint(ssh.hostKeyFingerprint))) {
    throw bad('hostKeyFingerprint', "must look like 'SHA256:<43 base64 characters>'");
  }
  if (ssh.addressPreference !== undefined && ssh.addressPreference !== 'public' && ssh.addressPreference !== 'private') {
    throw bad('addressPreference', "must be 'public' or 'private'");
  }
  // why: fail at once (not after minutes of retries) on a key that cannot work; the parser's
  // message is not passed on, so nothing of the key can leak through it
  const parsed = typeof ssh.privateKey === 'string' ? utils.parseKey(ssh.privateKey, ssh.passphrase) : null;
  if (parsed === null || parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey()) {
    throw bad('privateKey', 'is not a usable private key (or its passphrase is wrong)');
  }
}

/**
 * The address to connect to, chosen among the node's own IPs only (preferred list first).
 * Null while the node has none.
 */
export function pickAddress(node: Node, preference: 'public' | 'private' = 'public'): string | null {
  const lists = preference === 'public' ? [node.publicIps, node.privateIps] : [node.privateIps, node.publicIps];
  for (const list of lists) {
    const ip = list.find((a) => isIP(a) !== 0);
    if (ip !== undefined) return ip;
  }
  return null;
}

/**
 * Logs in to `address`, retrying with exponential backoff until `deadline` (a Date.now() value).
 * Each attempt tries the usernames in order; only an authentication failure moves on to the
 * next one. A host key mismatch fails at once. `onRetry` is told about each failed attempt.
 */
export async function connectWithRetry(
  address: string,
  ssh: SshOptions,
  deadline: number,
  signal: AbortSignal,
  onRetry?: (reason: string) => void,
): Promise<SshConnection> {
  const port = ssh.port ?? 22;
  const usernames = [ssh.username, ...(ssh.alternateUsernames ?? [])];
  let backoff = FIRST_BACKOFF_MS;
  let last: SkygraphError | undefined;
  // why: once the server has refused a login, that says more than a later attempt cut off by the deadline
  let refused = false;
  for (;;) {
    for (const username of usernames) {
      if (signal.aborted) throw abortError(signal);
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        const client = await connectOnce(address, port, username, ssh, Math.min(ssh.connectTimeoutMs ?? 10_000, remaining), signal);
        return { client, username };
      } catch (err) {
        if (err instanceof HostKeyMismatchError || signal.aborted) throw err;
        last = err as SkygraphError;
        if (!(err instanceof AuthenticationError)) break;
        refused = true;
      }
    }
    const wait = Math.min(backoff, deadline - Date.now());
    if (wait <= 0) break;
    onRetry?.(last?.message ?? 'not connected');
    await sleep(wait, signal);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
  const total = ssh.timeoutMs ?? 300_000;
  if (refused) {
    throw new AuthenticationError(
      `SSH login refused at ${address}:${port} for ${usernames.join(', ')} (public key; gave up after ${total} ms)`,
    );
  }
  throw new TimeoutError(`SSH on ${address}:${port} not ready within ${total} ms: ${last?.message ?? 'no attempt made'}`);
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

// --- Internal helpers ---

function normalizeFingerprint(fp: string): string {
  return fp.trim().replace(/=+$/, '');
}

function connectOnce(
  host: string,
  port: number,
  username: string,
  ssh: SshOptions,
  readyTimeout: number,
  signal: AbortSignal,
): Promise<Client> {
  const where = `${username}@${host}:${port}`;
  const pinned = ssh.hostKeyFingerprint === undefined ? undefined : normalizeFingerprint(ssh.hostKeyFingerprint);
  return new Promise((resolve, reject) => {
    const client = new Client();
    let presented: string | undefined;
    let settled = false;
    const onAbort = () => settle(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (!err) return resolve(client);
      client.end();
      reject(err);
    };
    client.once('ready', () => {
      client.removeAllListeners('error');
      // why: a later socket error (node rebooting mid-step) must not crash the process
      client.on('error', () => {});
      settle();
    });
    client.once('error', (err: Error & { level?: string }) => {
      if (presented !== undefined) {
        settle(new HostKeyMismatchError(`host key of ${host}:${port} is ${presented}, expected ${pinned}`));
      } else if (err.level === 'client-authentication') {
        settle(new AuthenticationError(`SSH login refused for ${where} (public key)`));
      } else {
        settle(new ConnectionFailedError(`SSH to ${where} failed: ${err.message}`));
      }
    });
    client.once('close', () => settle(new ConnectionFailedError(`SSH to ${where}: connection closed before login`)));
    try {
      client.connect({
        host,
        port,
        username,
        privateKey: ssh.privateKey,
        passphrase: ssh.passphrase,
        readyTimeout,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 4,
        hostVerifier: (key: Buffer) => {
          if (pinned === undefined) return true;
          const fp = hostKeyFingerprint(key);
          if (fp === pinned) return true;
          presented = fp;
          return false;
        },
      });
    } catch {
      // why: ssh2 throws synchronously on config problems; its message is not passed on in case it quotes the key
      settle(new InvalidInputError(`SSH to ${where}: invalid connection settings`, { field: 'ssh' }));
    }
  });
}
