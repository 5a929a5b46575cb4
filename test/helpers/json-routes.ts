/**
 * Routes of a stateful JSON stand-in on the replay server, as the DNS stand-ins (designate,
 * rackspace-dns, digitalocean-dns) build them: every request must carry the credential header (a
 * missing one is a test failure, a wrong one is answered 401 with the provider's body), then the
 * handler answers; a Fault it throws is answered as the API would, and recorded as a failure when
 * it is a protocol violation.
 */
import type { ReplayRequest, ReplayServer } from './replay-server.ts';
import { Fault } from './rest-server.ts';

export { Fault };

/** An answer: JSON `body` (none when undefined) with the stand-in's headers and these. */
export interface JsonAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** How the stand-in checks and answers. */
export interface JsonRoutesOptions {
  /** the lower-case header that must carry the credential */
  authHeader: string;
  /** its name as the test failure of a request without it says: `X-Auth-Token` */
  authHeaderName: string;
  /** the header's right value */
  authValue: string;
  /** the body of the 401 to a wrong credential */
  unauthorized: () => unknown;
  /** headers of every answer (content type and the provider's own) */
  headers: () => Record<string, string>;
  /** an answer before the handler runs (rate limiting), or undefined to go on */
  before?: () => JsonAnswer | undefined;
}

/** A route's handler: the answer's status (default 200) and JSON body. */
export type JsonHandler = (req: ReplayRequest, m: RegExpExecArray) => { status?: number; body?: unknown };

/** Returns `route(method, path, handle)`, which adds a JSON route to `replay`. */
export function jsonRoutes(replay: ReplayServer, opts: JsonRoutesOptions): (method: string, path: RegExp, handle: JsonHandler) => void {
  const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    headers: { ...opts.headers(), ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  });
  return (method, path, handle) => {
    replay.route({
      method,
      path,
      check(req) {
        if (!req.headers[opts.authHeader]) throw new Error(`no ${opts.authHeaderName} header`);
      },
      body(req) {
        if (req.headers[opts.authHeader] !== opts.authValue) return reply(401, opts.unauthorized());
        const early = opts.before?.();
        if (early) return reply(early.status, early.body, early.headers);
        try {
          const out = handle(req, path.exec(req.path)!);
          return reply(out.status ?? 200, out.body);
        } catch (err) {
          if (!(err instanceof Fault)) throw err;
          if (err.violation) replay.failures.push(`${req.method} ${req.path}: ${err.message}`);
          return reply(err.status, err.payload);
        }
      },
    });
  };
}
