/**
 * Runs one command over an SSH exec channel: output captured up to a byte bound per stream and
 * handed on chunk by chunk as it arrives, client-side timeout, abort.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import { InvalidInputError } from '../providers/errors.ts';
import { abortError } from './ssh-connect.ts';

/** What a finished (or killed) command left behind. */
export interface ExecResult {
  exitCode: number | null;
  /** e.g. `SIGKILL` when the process died of a signal */
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  timedOut: boolean;
}

export interface ExecOptions {
  timeoutMs: number;
  maxOutputBytes: number;
  signal: AbortSignal;
  onChunk: (stream: 'stdout' | 'stderr', chunk: string) => void;
  /** the channel is open and the command started */
  onOpen?: () => void;
}

/** Quotes one word for a POSIX shell: `'...'` with embedded quotes as `'\''`. */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new InvalidInputError('shell arguments cannot contain NUL bytes');
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * `/bin/sh -c <script> <name> <args...>` as one command line. The script goes through the login
 * shell as a single quoted word, so it behaves the same whatever that shell is.
 */
export function shCommand(script: string, args: readonly string[]): string {
  return ['/bin/sh', '-c', script, 'skygraph-deploy', ...args].map((w, i) => (i < 2 ? w : shellQuote(w))).join(' ');
}

/**
 * Runs `command`, which must not read stdin. Rejects only when the channel cannot be opened; a
 * timeout resolves with `timedOut` after closing the channel (the remote side must kill its own
 * processes: OpenSSH ignores the signal request for root sessions).
 */
export function execCommand(client: Client, command: string, opts: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) return reject(abortError(opts.signal));
    const out = capture('stdout', opts);
    const err = capture('stderr', opts);
    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let timedOut = false;
    let channel: ClientChannel | undefined;
    let done = false;
    let forceTimer: NodeJS.Timeout | undefined;

    const finish = (abortErr?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(forceTimer);
      opts.signal.removeEventListener('abort', onAbort);
      if (abortErr) return reject(abortErr);
      resolve({
        exitCode,
        signal: exitSignal,
        stdout: out.text(),
        stderr: err.text(),
        truncated: out.truncated || err.truncated,
        timedOut,
      });
    };
    const kill = () => {
      if (!channel) return;
      channel.signal('KILL');
      channel.close();
      // why: a dead connection never delivers 'close'; do not hang the deployment on it
      forceTimer = setTimeout(() => finish(), 2_000);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
      if (!channel) finish();
    }, opts.timeoutMs);
    const onAbort = () => {
      kill();
      finish(abortError(opts.signal));
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });

    client.exec(command, (openErr, ch) => {
      if (openErr) {
        done = true;
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', onAbort);
        return reject(openErr);
      }
      channel = ch;
      opts.onOpen?.();
      if (done) return void ch.close();
      ch.on('data', (b: Buffer) => out.push(b));
      ch.stderr.on('data', (b: Buffer) => err.push(b));
      ch.on('exit', (code: number | null, sig?: string) => {
        exitCode = typeof code === 'number' ? code : null;
        exitSignal = sig ?? null;
      });
      ch.on('close', () => finish());
      // why: stdin is left open because ssh2 sends the signal request only while the channel is
      // writable; the commands run here read nothing from it (they redirect it from /dev/null)
      if (timedOut) kill();
    });
  });
}

// --- Internal helpers ---

function capture(stream: 'stdout' | 'stderr', opts: ExecOptions) {
  const decoder = new StringDecoder('utf8');
  const parts: string[] = [];
  let kept = 0;
  let truncated = false;
  return {
    get truncated() {
      return truncated;
    },
    push(buf: Buffer) {
      const room = opts.maxOutputBytes - kept;
      if (buf.length > room) truncated = true;
      if (room <= 0) return;
      const part = buf.length > room ? buf.subarray(0, room) : buf;
      kept += part.length;
      const text = decoder.write(part);
      if (text) {
        parts.push(text);
        opts.onChunk(stream, text);
      }
    },
    text() {
      // why: a character cut by the bound stays cut; only a complete stream flushes the decoder
      if (!truncated) {
        const rest = decoder.end();
        if (rest) {
          parts.push(rest);
          opts.onChunk(stream, rest);
        }
      }
      return parts.join('');
    },
  };
}
