/**
 * What the Compute Engine and Cloud Storage stand-ins share: Google-shaped JSON errors, routes
 * that check the bearer token (401 like Google for a token it did not issue, a failure when none
 * is sent), fault injection, nextPageToken paging, the `(name = "a") OR (name = "b")` list filter,
 * and delayed state transitions.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT, type ReplayRequest, type ReplayServer } from '../replay-server.ts';
import { Fault } from '../rest-server.ts';
import type { TokenEndpoint } from './token.ts';

export type Json = Record<string, unknown>;

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

/** An error the API would answer; `violation` also records a test failure (the driver sent something wrong). */
export { Fault };

/** Google's error body. */
export function googleError(status: number, reason: string, message: string, violation = false): Fault {
  return new Fault(status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } }, violation);
}

export const notFound = (what: string) => googleError(404, 'notFound', `The resource '${what}' was not found`);
export const violation = (message: string) => googleError(400, 'invalid', message, true);

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=UTF-8', ...headers }, body: JSON.stringify(body) };
}

export function fixture<T = Json>(path: string): T {
  return JSON.parse(readFileSync(resolve(REPO_ROOT, 'fixtures', path), 'utf8')) as T;
}

/** A response given instead of the real one, `times` times, to requests `match` accepts. */
export interface InjectedFault {
  match: (req: ReplayRequest) => boolean;
  status: number;
  headers?: Record<string, string>;
  /** a fixture path under fixtures/, or a body */
  file?: string;
  body?: string;
  times?: number;
}

/** Route registration with token checks, faults and transitions. */
export interface GoogleRoutes {
  route(method: string, path: RegExp, handle: (req: ReplayRequest, m: RegExpExecArray) => Reply, opts?: { auth?: boolean }): void;
  inject(fault: InjectedFault): void;
  /** runs `run` after `delayMs` (default the server's transitionMs), applied at the next request */
  later(run: () => void, delayMs?: number): void;
  settle(): void;
}

export function googleRoutes(replay: ReplayServer, token: TokenEndpoint, transitionMs: number): GoogleRoutes {
  const timers: { at: number; run: () => void }[] = [];
  const faults: { fault: InjectedFault; left: number }[] = [];
  const settle = () => {
    const now = Date.now();
    for (let i = 0; i < timers.length; ) {
      if (timers[i]!.at <= now) timers.splice(i, 1)[0]!.run();
      else i++;
    }
  };
  const unauthenticated = fixture('gce/error-unauthenticated.json');
  return {
    route(method, path, handle, opts = {}) {
      replay.route({
        method,
        path,
        check(req) {
          if (opts.auth !== false && !req.headers.authorization) throw new Error('no Authorization header');
        },
        body(req) {
          settle();
          const slot = faults.find((f) => f.left > 0 && f.fault.match(req));
          if (slot) {
            slot.left--;
            const { fault } = slot;
            const body = fault.file ? readFileSync(resolve(REPO_ROOT, 'fixtures', fault.file)) : (fault.body ?? '');
            return { status: fault.status, headers: { 'content-type': 'application/json; charset=UTF-8', ...fault.headers }, body };
          }
          if (opts.auth !== false && !token.authorized(req.headers.authorization)) {
            return json(401, unauthenticated, { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' });
          }
          try {
            return handle(req, path.exec(req.path)!);
          } catch (err) {
            if (err instanceof Fault) {
              if (err.violation) replay.failures.push(`${req.method} ${req.path}: ${err.message}`);
              return json(err.status, err.payload);
            }
            throw err;
          }
        },
      });
    },
    inject: (fault) => faults.push({ fault, left: fault.times ?? 1 }),
    later: (run, delayMs = transitionMs) => void timers.push({ at: Date.now() + delayMs, run }),
    settle,
  };
}

/** One page of `all` per maxResults/pageToken (the token is the next offset, opaque to the client). */
export function page<T>(all: T[], q: URLSearchParams, cap: number): { items: T[]; nextPageToken?: string } {
  const raw = q.get('maxResults');
  if (raw !== null && !/^\d+$/.test(raw)) throw violation(`maxResults must be an integer, got ${raw}`);
  const size = Math.min(raw === null ? 500 : Number(raw), cap, 500);
  const token = q.get('pageToken');
  let start = 0;
  if (token !== null) {
    const decoded = /^o(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!decoded) throw googleError(400, 'invalid', 'Invalid value for pageToken', true);
    start = Number(decoded[1]);
  }
  const items = all.slice(start, start + size);
  const next = start + size < all.length ? Buffer.from(`o${start + size}`).toString('base64url') : undefined;
  return next ? { items, nextPageToken: next } : { items };
}

/**
 * The names a list filter asks for: undefined for no filter; `(name = "a") OR (name = "b")` or
 * `name = "a"` give [a, b] / [a]. Anything else is a violation (the driver only sends these).
 */
export function filterNames(q: URLSearchParams): string[] | undefined {
  const filter = q.get('filter');
  if (filter === null) return undefined;
  const single = /^name = "([^"]+)"$/.exec(filter);
  if (single) return [single[1]!];
  const terms = filter.split(' OR ');
  const names = terms.map((t) => /^\(name = "([^"]+)"\)$/.exec(t)?.[1]);
  if (names.some((n) => n === undefined)) throw violation(`unsupported filter ${filter}`);
  return names as string[];
}

export function onlyKeys(o: Json, allowed: readonly string[], where: string): void {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length) throw violation(`${where}: unknown fields ${extra.join(', ')}`);
}

export function onlyQuery(q: URLSearchParams, allowed: readonly string[], where: string): void {
  const extra = [...q.keys()].filter((k) => !allowed.includes(k));
  if (extra.length) throw violation(`${where}: unexpected query parameters ${extra.join(', ')}`);
}

export function requireJson(req: ReplayRequest): Json {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw violation('content-type must be application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw violation('body is not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw violation('body must be a JSON object');
  return parsed as Json;
}
