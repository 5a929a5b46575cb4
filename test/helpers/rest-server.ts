/**
 * The common part of the stateful stand-ins for the bearer-token clouds (DigitalOcean, Hetzner,
 * Linode, Vultr), on the replay server: every request must carry `Authorization: Bearer <token>`
 * (a wrong token is answered 401 with the provider's body, a missing one is also a test failure),
 * JSON bodies are parsed and checked, protocol violations land in `failures`, rate limiting can be
 * switched on for the next requests, and state changes happen `transitionMs` after the call that
 * starts them.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT, startReplayServer, type ReplayRequest, type ReplayServer } from './replay-server.ts';

export type Json = Record<string, unknown>;

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: string;
}

/** An upstream error the API would answer; `violation` also records a test failure. */
export class Fault extends Error {
  constructor(
    readonly status: number,
    readonly payload: unknown,
    readonly violation = false,
  ) {
    super(JSON.stringify(payload));
  }
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: body === undefined ? '' : JSON.stringify(body),
});
export const empty = (status: number): Reply => ({ status, body: '' });
export const fixture = <T = Json>(path: string): T => JSON.parse(readFileSync(resolve(REPO_ROOT, 'fixtures', path), 'utf8')) as T;
export const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/** What the common part needs from a provider's server. */
export interface RestServerSpec {
  token: string;
  /** the body of a 401 */
  unauthorized: unknown;
  /** the body of a 429 */
  rateLimited: unknown;
  /** the provider's answer to a malformed request (a violation): status and body */
  badRequest: (message: string) => Fault;
  /** how long transitions take (default 50 ms) */
  transitionMs?: number;
}

/** The common state and helpers a provider's server builds on. */
export interface RestServer {
  url: string;
  replay: ReplayServer;
  requests: ReplayRequest[];
  failures: string[];
  /** adds a route whose handler runs after the token check */
  route(method: string, path: string | RegExp, handle: (req: ReplayRequest, m: RegExpExecArray | null) => Reply): void;
  /** the next `times` requests are answered 429 with these headers */
  rateLimit(times: number, headers: Record<string, string>): void;
  /**
   * Fault injection: from now on an upstream error repeats the whole request body in its message,
   * like a careless API would, so tests can check that secrets in a body never reach an error.
   */
  echoRequestsInErrors(): void;
  /** runs `run` transitionMs from now (at the next request after that) */
  later(run: () => void): void;
  /** runs every transition that is due */
  settle(): void;
  /** the request's JSON object body; a violation when it is not one */
  body(req: ReplayRequest): Json;
  /** a violation (400-like, recorded as a failure) */
  violation(message: string): Fault;
  /** rejects keys not in `allowed` */
  onlyKeys(o: Json, allowed: readonly string[], where: string): void;
  /** rejects query parameters not in `allowed` */
  onlyQuery(req: ReplayRequest, allowed: readonly string[]): void;
  /** an integer query parameter within [min, max], or `fallback` when absent */
  intQuery(req: ReplayRequest, name: string, min: number, max: number, fallback: number): number;
  close(): Promise<void>;
}

export async function startRestServer(spec: RestServerSpec): Promise<RestServer> {
  const replay = await startReplayServer();
  const transitionMs = spec.transitionMs ?? 50;
  const timers: { at: number; run: () => void }[] = [];
  let limited = 0;
  let echo = false;
  let limitHeaders: Record<string, string> = {};
  const settle = () => {
    const now = Date.now();
    for (let i = 0; i < timers.length; ) {
      if (timers[i]!.at <= now) timers.splice(i, 1)[0]!.run();
      else i++;
    }
  };
  const violation = (message: string) => {
    const f = spec.badRequest(message);
    return new Fault(f.status, f.payload, true);
  };

  const server: RestServer = {
    url: replay.url,
    replay,
    requests: replay.requests,
    failures: replay.failures,
    route(method, path, handle) {
      replay.route({
        method,
        path,
        check(req) {
          if (!/^Bearer \S+$/.test(req.headers.authorization ?? '')) throw new Error('no Authorization: Bearer header');
        },
        body(req) {
          if (req.headers.authorization !== `Bearer ${spec.token}`) return json(401, spec.unauthorized);
          if (limited > 0) {
            limited--;
            return json(429, spec.rateLimited, limitHeaders);
          }
          try {
            settle();
            return handle(req, typeof path === 'string' ? null : path.exec(req.path));
          } catch (err) {
            if (err instanceof Fault) {
              if (err.violation) replay.failures.push(`${req.method} ${req.path}: ${err.message}`);
              if (echo) return json(err.status, spec.badRequest(`${err.message} (request: ${req.body.toString('utf8')})`).payload);
              return json(err.status, err.payload);
            }
            throw err;
          }
        },
      });
    },
    rateLimit(times, headers) {
      limited = times;
      limitHeaders = headers;
    },
    echoRequestsInErrors() {
      echo = true;
    },
    later: (run) => timers.push({ at: Date.now() + transitionMs, run }),
    settle,
    body(req) {
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw violation('content-type must be application/json');
      let parsed: unknown;
      try {
        parsed = JSON.parse(req.body.toString('utf8'));
      } catch {
        throw violation('body is not JSON');
      }
      if (!isObj(parsed)) throw violation('body must be a JSON object');
      return parsed;
    },
    violation,
    onlyKeys(o, allowed, where) {
      const extra = Object.keys(o).filter((k) => !allowed.includes(k));
      if (extra.length) throw violation(`${where}: unknown properties ${extra.join(', ')}`);
    },
    onlyQuery(req, allowed) {
      const extra = [...req.query.keys()].filter((k) => !allowed.includes(k));
      if (extra.length) throw violation(`unknown query parameters ${extra.join(', ')}`);
    },
    intQuery(req, name, min, max, fallback) {
      const raw = req.query.get(name);
      if (raw === null) return fallback;
      if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw violation(`${name} must be an integer from ${min} to ${max}`);
      return Number(raw);
    },
    close: () => replay.close(),
  };
  return server;
}
