/**
 * The part the CloudSigma 1.0, CloudSigma 2.0 and Bluebox stand-ins share: a replay server whose
 * routes all demand `Authorization: Basic` (a missing header is a test failure, wrong credentials
 * are answered 401 like the API would), handlers that throw `Fault` for upstream errors, and
 * protocol violations recorded in `failures`.
 */
import { startReplayServer, type ReplayRequest, type ReplayServer } from './replay-server.ts';

/** A reply a handler produces. */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: string;
}

/** An upstream error the API would answer; `violation` also records a test failure. */
export class Fault extends Error {
  constructor(
    readonly status: number,
    readonly reply: Reply,
    readonly violation = false,
  ) {
    super(reply.body);
  }
}

export interface BasicAuthServerOptions {
  username: string;
  password: string;
  /** the answer to wrong credentials; gets the credentials as sent */
  unauthorized: (sent: { username: string; password: string }) => Reply;
  /** the answer to a protocol violation (status 400) */
  violationReply: (message: string) => Reply;
}

export interface BasicAuthServer {
  replay: ReplayServer;
  route(method: string, path: string | RegExp, handle: (req: ReplayRequest, match: RegExpExecArray | null) => Reply): void;
  /** a Fault that is also recorded as a failure */
  violation(message: string): Fault;
}

export async function startBasicAuthServer(opts: BasicAuthServerOptions): Promise<BasicAuthServer> {
  const replay = await startReplayServer();
  const violation = (message: string) => new Fault(400, opts.violationReply(message), true);
  const route: BasicAuthServer['route'] = (method, path, handle) => {
    replay.route({
      method,
      path,
      check(req) {
        if (!/^Basic [A-Za-z0-9+/]+=*$/.test(req.headers.authorization ?? '')) throw new Error('no Basic Authorization header');
      },
      body(req) {
        const sent = decodeBasic(req.headers.authorization ?? '');
        if (sent.username !== opts.username || sent.password !== opts.password) return withStatus(opts.unauthorized(sent), 401);
        try {
          return handle(req, typeof path === 'string' ? null : path.exec(req.path));
        } catch (err) {
          if (err instanceof Fault) {
            if (err.violation) replay.failures.push(`${req.method} ${req.path}: ${err.message}`);
            return withStatus(err.reply, err.status);
          }
          throw err;
        }
      },
    });
  };
  return { replay, route, violation };
}

/** Runs `run` at `delayMs` after now, checked lazily by `settle()` (no timers left running). */
export function transitions(delayMs: number) {
  const pending: { at: number; run: () => void }[] = [];
  return {
    later(run: () => void) {
      pending.push({ at: Date.now() + delayMs, run });
    },
    settle() {
      const now = Date.now();
      for (let i = 0; i < pending.length; ) {
        if (pending[i]!.at <= now) pending.splice(i, 1)[0]!.run();
        else i++;
      }
    },
  };
}

// --- Internal helpers ---

function decodeBasic(header: string): { username: string; password: string } {
  const raw = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');
  const at = raw.indexOf(':');
  return at < 0 ? { username: raw, password: '' } : { username: raw.slice(0, at), password: raw.slice(at + 1) };
}

function withStatus(reply: Reply, status: number): Reply {
  return { ...reply, status: reply.status ?? status };
}
