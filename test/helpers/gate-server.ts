/**
 * A gate in front of a test upstream (a recorded-response server) on 127.0.0.1: it forwards
 * requests as they are (headers, Host included, so signatures still verify) unless told to hold
 * them, and counts what the isolation tests check: requests received, requests open right now
 * (received and neither answered nor given up by the client), and the most open at once.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** `pass` forwards; `hang` holds every request unanswered until the client gives up or `pass` releases it; `unavailable` answers 503 itself. */
export type GateMode = 'pass' | 'hang' | 'unavailable';

export interface Gate {
  url: string;
  /** applies to requests as they arrive; switching to `pass` also forwards the ones held */
  mode: GateMode;
  /** the next `n` requests hang whatever the mode (then the mode applies again) */
  hangNext(n: number): void;
  readonly requests: number;
  readonly open: number;
  readonly maxOpen: number;
  /** forgets maxOpen (and starts counting from the requests open now) */
  resetMaxOpen(): void;
  close(): Promise<void>;
}

export async function startGate(target: string): Promise<Gate> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const held = new Set<() => void>();
  let mode: GateMode = 'pass';
  let hangCount = 0;
  let requests = 0;
  let open = 0;
  let maxOpen = 0;

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const server = createServer((req, res) => {
    requests++;
    open++;
    maxOpen = Math.max(maxOpen, open);
    let closed = false;
    res.on('close', () => {
      closed = true;
      open--;
    });
    res.on('error', () => undefined);
    if (hangCount > 0 || mode === 'hang') {
      if (hangCount > 0) hangCount--;
      const release = () => {
        held.delete(release);
        if (!closed) forward(req, res);
      };
      held.add(release);
      res.on('close', () => held.delete(release));
      return;
    }
    if (mode === 'unavailable') {
      req.resume();
      const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>Unavailable</Code><Message>The service is unavailable.</Message></Error></Errors><RequestID>gate</RequestID></Response>';
      // why: no Retry-After: the connection backs off by its own jitter, which ends within the account's deadline
      res.writeHead(503, { 'content-type': 'text/xml', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
      return;
    }
    forward(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return mode;
    },
    set mode(m: GateMode) {
      mode = m;
      if (m === 'pass') for (const release of [...held]) release();
    },
    hangNext(n) {
      hangCount = n;
    },
    get requests() {
      return requests;
    },
    get open() {
      return open;
    },
    get maxOpen() {
      return maxOpen;
    },
    resetMaxOpen() {
      maxOpen = open;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
