/**
 * Which browser pages may call skygraph. Same origin means the configured `server.publicUrl` or
 * the address skygraph listens on (with `localhost`, `127.0.0.1` and `[::1]` when that is a
 * loopback address), never whatever the Host header says. Other origins are refused unless
 * `server.cors.origins` lists them, and only those get CORS headers (never credentials: callers
 * authenticate with bearer tokens, which browsers do not attach on their own).
 *
 * Without tokens the Host header is checked as well, so a DNS-rebinding page that reaches
 * 127.0.0.1 under its own name is refused.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopbackHost } from '../config/server.ts';

export interface OriginPolicy {
  /** records the address skygraph listens on (`http://127.0.0.1:4000`); called by start() */
  listening(url: string): void;
  /** why a request is refused (Origin, Sec-Fetch-Site or Host), or undefined when it may go on */
  refusal(headers: IncomingHttpHeaders, method: string | undefined): string | undefined;
  /** CORS response headers for an allowed cross-origin caller; empty otherwise */
  corsHeaders(headers: IncomingHttpHeaders): Record<string, string>;
  /** the origins that count as this server (for tests and messages) */
  selfOrigins(): string[];
}

export interface OriginPolicyOptions {
  publicUrl: string | undefined;
  corsOrigins: readonly string[];
  /** check the Host header too (open mode, no tokens) */
  checkHost: boolean;
}

const CORS_ALLOW_HEADERS = 'authorization, content-type, accept, x-graphql-yoga-csrf, apollo-require-preflight, range';
const CORS_EXPOSE_HEADERS = 'retry-after, content-range, content-length, etag, last-modified';

export function createOriginPolicy(opts: OriginPolicyOptions): OriginPolicy {
  const cors = new Set(opts.corsOrigins);
  let self = new Set<string>();
  let hosts = new Set<string>();
  const setSelf = (listenUrl: string | undefined) => {
    const origins = new Set<string>();
    if (opts.publicUrl) origins.add(new URL(opts.publicUrl).origin);
    if (listenUrl) {
      const url = new URL(listenUrl);
      origins.add(url.origin);
      if (isLoopbackHost(url.hostname)) {
        for (const name of ['localhost', '127.0.0.1', '[::1]']) origins.add(`${url.protocol}//${name}:${url.port}`);
      }
    }
    self = origins;
    hosts = new Set([...origins].map((o) => new URL(o).host));
  };
  setSelf(undefined);

  return {
    listening: (url) => setSelf(url),
    selfOrigins: () => [...self],
    refusal(headers, method) {
      const origin = headers.origin;
      if (origin !== undefined) {
        if (!self.has(origin) && !cors.has(origin)) return `requests from the web origin ${quoted(origin)} are not allowed (server.cors.origins lists the ones that are)`;
      } else {
        // why: a browser that sends no Origin still says where the request came from; only
        // following a link (a top-level GET navigation) may come from another site
        const site = headers['sec-fetch-site'];
        const navigation = headers['sec-fetch-mode'] === 'navigate' && (method === 'GET' || method === 'HEAD');
        if ((site === 'cross-site' || site === 'same-site') && !navigation) return 'cross-site requests are not allowed';
      }
      if (opts.checkHost && !hosts.has((headers.host ?? '').toLowerCase())) {
        return `the Host header ${quoted(headers.host ?? '')} is not this server's address; without server.tokens skygraph answers only to its own loopback address`;
      }
      return undefined;
    },
    corsHeaders(headers): Record<string, string> {
      const origin = headers.origin;
      if (origin === undefined || !cors.has(origin)) return {};
      return {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': 'GET, HEAD, POST, PUT, OPTIONS',
        // why: an allowed origin may send any header (x-object-meta-* names are open-ended)
        'access-control-allow-headers': headers['access-control-request-headers'] ?? CORS_ALLOW_HEADERS,
        'access-control-expose-headers': CORS_EXPOSE_HEADERS,
        'access-control-max-age': '600',
        vary: 'Origin',
      };
    },
  };
}

// --- Internal helpers ---

/** why: the value came from a client; keep it short and printable in a message */
function quoted(value: string): string {
  return JSON.stringify(value.slice(0, 100));
}
