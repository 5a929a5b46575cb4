/**
 * Send stage: one undici Pool per connection (keep-alive, bounded sockets, timeouts, TLS options
 * such as a client certificate). The pool is bound to the base URL's origin; serialize refuses URLs
 * on any other origin.
 */
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { Pool, buildConnector } from 'undici';
import { isStreamBody } from './serialize.ts';
import type { ClientTlsOptions } from './tls.ts';
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
  /** https only: client certificate, CA bundle, server name */
  tls?: ClientTlsOptions | undefined;
}

/** why: bounds read-ahead of a streamed request body to 64 KiB */
const UPLOAD_HIGH_WATER_MARK = 64 * 1024;

export function createPoolTransport(origin: string, opts: TransportOptions): Transport {
  const https = origin.startsWith('https:');
  const alerts = tlsAlertMemory();
  const pool = new Pool(origin, {
    connections: opts.connections,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    // why: a function connector carries its own timeout and TLS options
    ...(https ? { connect: alerts.connector({ ...opts.tls, timeout: opts.connectTimeoutMs }) } : { connectTimeout: opts.connectTimeoutMs }),
  });
  return {
    async send(req, signal) {
      const body = isStreamBody(req.body)
        ? Readable.from(req.body, { objectMode: false, highWaterMark: UPLOAD_HIGH_WATER_MARK })
        : (req.body ?? null);
      try {
        const res = await pool.request({
          path: `${req.url.pathname}${req.url.search}`,
          method: req.method,
          headers: req.headers,
          body,
          signal,
        });
        return { status: res.statusCode, headers: flattenHeaders(res.headers), body: res.body };
      } catch (err) {
        throw alerts.explain(err);
      }
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

// --- Internal helpers ---

/** why: bounds memory when a server keeps refusing; only the latest alerts can still be asked for */
const MAX_REMEMBERED_ALERTS = 64;

/**
 * In TLS 1.3 a server checks the client certificate after the client considers the handshake done,
 * so its alert (certificate required, unknown CA...) arrives while undici waits for a response, and
 * undici reports only "other side closed". The connector remembers the last TLS alert of each
 * socket by local port, and `explain` swaps such a socket error for the alert that caused it.
 */
function tlsAlertMemory(): { connector(options: buildConnector.BuildOptions): buildConnector.connector; explain(err: unknown): unknown } {
  const byLocalPort = new Map<number, Error>();
  const watch = (socket: Socket) => {
    const port = socket.localPort;
    if (port === undefined) return;
    // why: a new socket on a reused local port must not inherit an older socket's alert
    byLocalPort.delete(port);
    socket.on('error', (e: Error & { code?: string }) => {
      if (!e.code?.startsWith('ERR_SSL_')) return;
      if (byLocalPort.size >= MAX_REMEMBERED_ALERTS) byLocalPort.delete(byLocalPort.keys().next().value!);
      byLocalPort.set(port, e);
    });
  };
  return {
    connector(options) {
      const base = buildConnector(options);
      return (opts, callback) =>
        base(opts, (err, socket) => {
          if (err || !socket) return callback(err ?? new Error('no socket'), null);
          watch(socket);
          callback(null, socket);
        });
    },
    explain(err) {
      const code = (err as { code?: unknown } | null)?.code;
      const port = (err as { socket?: { localPort?: unknown } } | null)?.socket?.localPort;
      if ((code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET') || typeof port !== 'number') return err;
      return byLocalPort.get(port) ?? err;
    },
  };
}
