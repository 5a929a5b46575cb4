/**
 * Send stage: one undici Pool per connection (keep-alive, bounded sockets, timeouts). The pool is
 * bound to the base URL's origin; serialize refuses URLs on any other origin.
 */
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { isStreamBody } from './serialize.ts';
import type { HttpRequest } from './types.ts';

/** A response whose body has not been read yet. */
export interface RawResponse {
  status: number;
  /** lower-case names; repeated headers joined with `, ` */
  headers: Record<string, string>;
  body: Readable & { dump(opts?: { limit: number }): Promise<void>; text(): Promise<string> };
}

export interface Transport {
  send(req: HttpRequest, signal?: AbortSignal): Promise<RawResponse>;
  close(): Promise<void>;
}

export interface TransportOptions {
  connections: number;
  timeoutMs: number;
  connectTimeoutMs: number;
}

/** why: bounds read-ahead of a streamed request body to 64 KiB */
const UPLOAD_HIGH_WATER_MARK = 64 * 1024;

export function createPoolTransport(origin: string, opts: TransportOptions): Transport {
  const pool = new Pool(origin, {
    connections: opts.connections,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    connectTimeout: opts.connectTimeoutMs,
  });
  return {
    async send(req, signal) {
      const body = isStreamBody(req.body)
        ? Readable.from(req.body, { objectMode: false, highWaterMark: UPLOAD_HIGH_WATER_MARK })
        : (req.body ?? null);
      const res = await pool.request({
        path: `${req.url.pathname}${req.url.search}`,
        method: req.method,
        headers: req.headers,
        body,
        signal,
      });
      return { status: res.statusCode, headers: flattenHeaders(res.headers), body: res.body };
    },
    close: () => pool.close(),
  };
}

export function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
