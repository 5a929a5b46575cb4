/**
 * A fault-injecting HTTP server on 127.0.0.1: every request gets the current fault, whatever
 * its path (but for those a `pass` answer serves). Bodies are shaped like the driver's wire
 * format (JSON, XML or key/value text) so the parsers, not just the status mapping, are exercised.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** The faults every remote driver must turn into a typed partial failure. */
export const FAULT_KINDS = [
  'http500',
  'http503',
  'http429',
  'resetMidBody',
  'truncated',
  'malformed',
  'htmlError',
  'empty200',
  'oversized',
  // why: last; an identity request it leaves hanging would hold up the faults after it until its own timeout
  'timeout',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What the account's failure must say for each fault (GraphQL `extensions.code`). */
export const EXPECTED_CODE: Record<FaultKind, string> = {
  // the account's deadline (timeoutMs) ends the wait
  timeout: 'TIMEOUT',
  http500: 'PROVIDER_ERROR',
  http503: 'UNAVAILABLE',
  http429: 'RATE_LIMITED',
  resetMidBody: 'CONNECTION_FAILED',
  // a complete response whose document breaks off
  truncated: 'MALFORMED_RESPONSE',
  malformed: 'MALFORMED_RESPONSE',
  // a proxy's 502 page
  htmlError: 'PROVIDER_ERROR',
  empty200: 'MALFORMED_RESPONSE',
  oversized: 'MALFORMED_RESPONSE',
};

/** `kv`: CloudSigma 1.0's `key value` lines, records split by a blank line */
export type WireFormat = 'json' | 'xml' | 'kv';

/** A canned healthy answer, for the requests a driver must get past before the faulted one. */
export interface PassAnswer {
  status: number;
  type: string;
  body: string;
}

export interface FaultServer {
  url: string;
  /** the fault every request gets; `random` draws one per request */
  fault: FaultKind | 'random';
  /** requests received so far */
  readonly requests: number;
  close(): Promise<void>;
}

/** Bytes sent for `oversized`: four times what the tests let a connection read. */
export const OVERSIZED_BYTES = 1024 * 1024;

export interface FaultServerOptions {
  /** a `timeout` request's socket is destroyed after this long (default: held until close) */
  hangMs?: number | undefined;
  /** in `random` mode, the share of requests that hang (default: as often as any other fault) */
  timeoutShare?: number | undefined;
  /**
   * Requests this answers are served as it says, without a fault and without counting in
   * `requests` (a login a driver needs before the call under test).
   */
  pass?: ((path: string) => PassAnswer | undefined) | undefined;
}

export async function startFaultServer(format: WireFormat, opts: FaultServerOptions = {}): Promise<FaultServer> {
  const sockets = new Set<Socket>();
  const state: { fault: FaultKind | 'random'; requests: number } = { fault: 'http500', requests: 0 };
  const { type, doc, broken, open, filler } = WIRE[format];

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    res.on('error', () => undefined);
    const send = (status: number, headers: Record<string, string>, body: string) => {
      res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
      res.end(body);
    };
    const passed = opts.pass?.(new URL(req.url ?? '/', 'http://fault.invalid').pathname);
    if (passed) return send(passed.status, { 'content-type': passed.type }, passed.body);
    state.requests++;
    const fault = state.fault === 'random' ? randomFault(opts.timeoutShare) : state.fault;
    switch (fault) {
      case 'timeout':
        // never answers; close() (or hangMs) ends the socket
        if (opts.hangMs !== undefined) setTimeout(() => req.socket.destroy(), opts.hangMs).unref();
        return;
      case 'http500':
        return send(500, { 'content-type': 'text/plain' }, 'internal server error');
      case 'http503':
        return send(503, { 'content-type': 'text/plain' }, 'service unavailable');
      case 'http429':
        return send(429, { 'content-type': 'text/plain', 'retry-after': '1' }, 'too many requests');
      case 'resetMidBody':
        res.writeHead(200, { 'content-type': type, 'content-length': String(doc.length * 4) });
        res.write(doc.slice(0, doc.length / 2));
        setTimeout(() => req.socket.resetAndDestroy(), 5);
        return;
      case 'truncated':
        return send(200, { 'content-type': type }, doc.slice(0, Math.floor(doc.length / 2)));
      case 'malformed':
        return send(200, { 'content-type': type }, broken);
      case 'htmlError':
        return send(502, { 'content-type': 'text/html' }, '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>nginx</p></body></html>');
      case 'empty200':
        return send(200, { 'content-type': type }, '');
      case 'oversized': {
        // why: chunked, so the limit is found while reading, not from Content-Length
        res.writeHead(200, { 'content-type': type });
        const chunk = filler.repeat(Math.ceil(16384 / filler.length));
        let sent = 0;
        const pump = () => {
          while (sent < OVERSIZED_BYTES) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.write(open);
        pump();
        return;
      }
    }
  };

  const server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get fault() {
      return state.fault;
    },
    set fault(f: FaultKind | 'random') {
      state.fault = f;
    },
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        for (const s of sockets) s.destroy();
      }),
  };
}

// --- Internal helpers ---

/** Per wire format: content type, a whole document, a malformed one, and how an oversized one starts and goes on. */
const WIRE: Record<WireFormat, { type: string; doc: string; broken: string; open: string; filler: string }> = {
  json: {
    type: 'application/json',
    doc: '{"servers": [{"id": "9f1c", "name": "web-1", "status": "ACTIVE", "addresses": {"public": [{"addr": "203.0.113.7"}]}}], "next": null}',
    broken: '{"servers": [{"id": 1,, ]]',
    open: '{"servers": [',
    filler: '{"id": "x", "name": "padding"}, ',
  },
  xml: {
    type: 'application/xml',
    doc: '<?xml version="1.0" encoding="UTF-8"?>\n<ListResponse xmlns="http://example.com/doc/"><requestId>r-1</requestId><itemSet><item><id>i-1</id><name>web-1</name></item></itemSet></ListResponse>',
    broken: '<ListResponse><itemSet><item></itemSet></ListResponse>>',
    open: '<ListResponse><itemSet>',
    filler: '<item><id>x</id></item>',
  },
  kv: {
    type: 'text/plain',
    doc: 'server 9f1c2d3e-0000-4000-8000-000000000001\nname web-1\nstatus active\nnic:0:dhcp:ip 203.0.113.7\n\nserver 9f1c2d3e-0000-4000-8000-000000000002\nname web-2\nstatus stopped\n',
    broken: '<html><body>{"servers": [</body></html>\n',
    open: '',
    filler: 'server 9f1c2d3e-0000-4000-8000-00000000000x\nname padding\n\n',
  },
};

function randomFault(timeoutShare = 1 / FAULT_KINDS.length): FaultKind {
  if (Math.random() < timeoutShare) return 'timeout';
  const others = FAULT_KINDS.filter((k) => k !== 'timeout');
  return others[Math.floor(Math.random() * others.length)]!;
}
