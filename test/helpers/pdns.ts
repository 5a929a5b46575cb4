/**
 * Starts a real PowerDNS Authoritative server (pdns_server with the gsqlite3 backend) for a
 * test: its own config dir and database in a temp dir, the HTTP API and the DNS listener on free
 * 127.0.0.1 ports (never 53), no guardian, no daemon, no security polling. stop() ends exactly
 * that process and removes the dir. Fails, never skips, when the packages are missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PdnsHandle {
  /** the webserver's base URL, `http://127.0.0.1:<port>` (the API is under /api/v1) */
  url: string;
  apiKey: string;
  apiPort: number;
  /** UDP and TCP port the DNS listener answers on */
  dnsPort: number;
  pid: number;
  stop(): Promise<void>;
}

/** Where Debian's pdns-backend-sqlite3 ships the schema (newer packages under /usr/share/doc too). */
export const PDNS_SCHEMAS = ['/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql', '/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql'];
const MISSING = 'pdns_server, its sqlite3 backend or sqlite3 is missing: run scripts/install-test-deps.sh (Debian packages pdns-server, pdns-backend-sqlite3, sqlite3)';

/** `apiKey` defaults to a random one; tests that list it as a secret before the server starts pass their own. */
export async function startPdns(opts: { apiKey?: string } = {}): Promise<PdnsHandle> {
  const schema = PDNS_SCHEMAS.find((f) => existsSync(f));
  if (!schema) throw new Error(MISSING);
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'skygraph-pdns-'));
    const apiKey = opts.apiKey ?? `pdns-test-${randomBytes(12).toString('hex')}`;
    try {
      await run('sqlite3', [join(dir, 'pdns.sqlite3'), `.read ${schema}`]);
      const apiPort = await freeTcpPort();
      const dnsPort = await freeDnsPort();
      await writeFile(join(dir, 'pdns.conf'), config(dir, apiKey, apiPort, dnsPort));
      const child = await launch(dir, apiKey, apiPort);
      return handle(child, dir, apiKey, apiPort, dnsPort);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(MISSING);
      // why: another process may take a free port between the probe and pdns binding it
      lastError = err as Error;
    }
  }
  throw new Error(`pdns_server did not start after 5 attempts: ${lastError?.message}`);
}

/**
 * Asks the server's DNS listener (UDP) for `name`/`type` and returns the answer count: proof
 * that what the API wrote is served. Types: 1 A, 15 MX, 16 TXT, 28 AAAA.
 */
export function queryAnswerCount(dnsPort: number, name: string, qtype: number): Promise<number> {
  const labels = name.replace(/\.$/, '').split('.');
  const question = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])),
    Buffer.from([0, qtype >> 8, qtype & 0xff, 0, 1]),
  ]);
  const id = Math.floor(Math.random() * 0xffff);
  const header = Buffer.from([id >> 8, id & 0xff, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (socket.close(), reject(new Error('no DNS answer in 5 s'))), 5000);
    socket.once('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      if (msg.readUInt16BE(0) !== id) return reject(new Error('answer to another query'));
      const rcode = msg[3]! & 0x0f;
      if (rcode !== 0 && rcode !== 3) return reject(new Error(`DNS rcode ${rcode}`));
      resolve(msg.readUInt16BE(6));
    });
    socket.send(Buffer.concat([header, question]), dnsPort, '127.0.0.1', (err) => {
      if (err) {
        clearTimeout(timer);
        socket.close();
        reject(err);
      }
    });
  });
}

// --- Internal helpers ---

function config(dir: string, apiKey: string, apiPort: number, dnsPort: number): string {
  return [
    'launch=gsqlite3',
    `gsqlite3-database=${join(dir, 'pdns.sqlite3')}`,
    'local-address=127.0.0.1',
    `local-port=${dnsPort}`,
    'api=yes',
    `api-key=${apiKey}`,
    'webserver=yes',
    'webserver-address=127.0.0.1',
    `webserver-port=${apiPort}`,
    'webserver-allow-from=127.0.0.0/8',
    `socket-dir=${dir}`,
    'guardian=no',
    'daemon=no',
    'disable-syslog=yes',
    // why: the default polls security status over DNS; tests reach nothing outside 127.0.0.1
    'security-poll-suffix=',
    'loglevel=4',
    '',
  ].join('\n');
}

function launch(dir: string, apiKey: string, apiPort: number): Promise<ChildProcess> {
  const child = spawn('pdns_server', [`--config-dir=${dir}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (output += c));
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      if (child.exitCode === null) child.kill('SIGKILL');
      reject(err);
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`pdns_server exited with ${code}:\n${output.slice(-2000)}`)));
    const deadline = Date.now() + 15_000;
    const poll = async () => {
      if (done) return;
      try {
        const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/servers/localhost`, { headers: { 'x-api-key': apiKey } });
        if (res.status === 200) {
          done = true;
          child.removeAllListeners('exit');
          child.removeAllListeners('error');
          return resolve(child);
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) return fail(new Error(`pdns_server API not ready after 15 s:\n${output.slice(-2000)}`));
      setTimeout(() => void poll(), 50);
    };
    void poll();
  });
}

function handle(child: ChildProcess, dir: string, apiKey: string, apiPort: number, dnsPort: number): PdnsHandle {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${apiPort}`,
    apiKey,
    apiPort,
    dnsPort,
    pid: child.pid!,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(killer);
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}: ${err}`))));
  });
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A port free for both UDP and TCP (the DNS listener binds both). */
async function freeDnsPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freeTcpPort();
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no port free for both UDP and TCP');
}
