/**
 * Recorded-response HTTP server on 127.0.0.1 for driver tests: answers from routes (inline
 * bodies or files under fixtures/), checks requests, and logs every request it saw. Anything
 * unmatched or failing a check is answered with an error status and listed in `failures`, so a
 * test ends with `expect(server.failures).toEqual([])`.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One recorded exchange. Routes are tried in the order they were added. */
export interface RecordedRoute {
  method: string;
  /** pathname match (as sent, percent-encoded): exact string, or RegExp tested against it */
  path: string | RegExp;
  /** extra predicate, e.g. AWS `Action` form param */
  match?: (req: ReplayRequest) => boolean;
  /** throws -> server answers 400 with the message and records a failure */
  check?: (req: ReplayRequest) => void;
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer | ((req: ReplayRequest) => string | Buffer | { status?: number; headers?: Record<string, string>; body: string | Buffer });
  /** path under fixtures/ (relative to repo root), read (streamed) at request time */
  file?: string;
  /** how many times it may match (default unlimited) */
  times?: number;
}

/** A request as the server received it. Header names are lower-case. */
export interface ReplayRequest {
  method: string;
  /** pathname as sent (percent-encoded) */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: Buffer;
  /** parsed when form-encoded, else empty */
  form: URLSearchParams;
}

export interface ReplayServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** every request received, matched or not */
  requests: ReplayRequest[];
  /** unmatched requests and failed checks, as readable lines */
  failures: string[];
  /** adds a route after the existing ones */
  route(r: RecordedRoute): void;
  /** forgets requests and failures, drops routes added with route(), and restores `times` counters */
  reset(): void;
  /** stops listening and closes kept-alive sockets */
  close(): Promise<void>;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = resolve(REPO_ROOT, 'fixtures');
const CONTENT_TYPES: Record<string, string> = { '.json': 'application/json', '.xml': 'application/xml', '.txt': 'text/plain' };

export async function startReplayServer(routes: RecordedRoute[] = []): Promise<ReplayServer> {
  const initial = [...routes];
  let active: { route: RecordedRoute; left: number }[] = [];
  const requests: ReplayRequest[] = [];
  const failures: string[] = [];
  const sockets = new Set<Socket>();
  const arm = (route: RecordedRoute) => active.push({ route, left: route.times ?? Infinity });
  const reset = () => {
    requests.length = 0;
    failures.length = 0;
    active = [];
    initial.forEach(arm);
  };
  reset();

  const server = createServer((req, res) => {
    collect(req)
      .then((recorded) => {
        requests.push(recorded);
        return respond(recorded, res);
      })
      .catch((err: unknown) => {
        failures.push(`${req.method} ${req.url}: server error ${String(err)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`replay-server: ${String(err)}`);
      });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function respond(req: ReplayRequest, res: ServerResponse): Promise<void> {
    const slot = active.find((s) => s.left > 0 && matches(s.route, req));
    if (!slot) {
      const line = `${req.method} ${req.path}${req.query.size ? `?${req.query}` : ''}: no recorded route`;
      failures.push(line);
      res.writeHead(501, { 'content-type': 'text/plain' }).end(`replay-server: ${line}\n`);
      return;
    }
    slot.left--;
    const { route } = slot;
    try {
      route.check?.(req);
    } catch (err) {
      const line = `${req.method} ${req.path}: check failed: ${err instanceof Error ? err.message : String(err)}`;
      failures.push(line);
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`replay-server: ${line}\n`);
      return;
    }
    let status = route.status ?? 200;
    let headers = { ...route.headers };
    if (route.file) {
      const file = resolve(FIXTURES, route.file);
      if (!file.startsWith(FIXTURES + sep)) throw new Error(`fixture outside fixtures/: ${route.file}`);
      const { size } = await stat(file);
      headers = { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': String(size), ...headers };
      res.writeHead(status, headers);
      if (req.method === 'HEAD') return void res.end();
      createReadStream(file).on('error', (e) => res.destroy(e)).pipe(res);
      return;
    }
    let body: string | Buffer = '';
    const produced = typeof route.body === 'function' ? route.body(req) : route.body;
    if (produced !== undefined && typeof produced === 'object' && !Buffer.isBuffer(produced)) {
      status = produced.status ?? status;
      headers = { ...headers, ...produced.headers };
      body = produced.body;
    } else if (produced !== undefined) {
      body = produced;
    }
    const lower = Object.keys(headers).map((h) => h.toLowerCase());
    if (!lower.includes('content-length') && !lower.includes('transfer-encoding')) headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    failures,
    route: arm,
    reset,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((err) => (err ? fail(err) : ok()));
        for (const s of sockets) s.destroy();
      }),
  };
}

// --- Internal helpers ---

function matches(route: RecordedRoute, req: ReplayRequest): boolean {
  if (route.method.toUpperCase() !== req.method) return false;
  const pathOk = typeof route.path === 'string' ? route.path === req.path : route.path.test(req.path);
  return pathOk && (!route.match || route.match(req));
}

async function collect(req: IncomingMessage): Promise<ReplayRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url ?? '/', 'http://replay.invalid');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const formEncoded = (headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    query: url.searchParams,
    headers,
    body,
    form: new URLSearchParams(formEncoded ? body.toString('utf8') : ''),
  };
}
