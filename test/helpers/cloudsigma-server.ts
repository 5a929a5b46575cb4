/**
 * A stateful stand-in for CloudSigma API 1.0 on 127.0.0.1, seeded from fixtures/cloudsigma.
 * Bodies are `key value` lines both ways (records separated by blank lines), every call needs
 * HTTP Basic, a body must be `text/plain` with only the keys the call takes, and server/drive
 * states hold as the 1.0 manual describes them: /servers/create starts the server, a stopped
 * non-persistent server is gone, a drive is `imaging` for `transitionMs` after a clone and
 * cannot be used or destroyed meanwhile, a claimed drive cannot be destroyed, and (in this
 * stand-in) a running server must be stopped before it is destroyed.
 *
 * http://www.cloudsigma.com/legacy/cloudsigma-api-1-0/
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Fault, startBasicAuthServer, transitions, type Reply } from './basic-auth-server.ts';
import { REPO_ROOT, type ReplayRequest } from './replay-server.ts';

export const CS1_USERNAME = '93b34fd9-7986-4b25-8bfd-98a50383605d';
export const CS1_PASSWORD = 'Cs1-fixture-secret-key-5c81e0aa';

type Rec = Map<string, string>;

export interface Cs1ServerOptions {
  /** how long a clone is imaging and an ACPI shutdown lasts (default 60 ms) */
  transitionMs?: number;
  echoCredentials?: boolean;
  /** answer /servers/create with this status and text instead */
  failCreate?: { status: number; text: string };
}

export interface Cs1TestServer {
  /** the API base URL */
  endpoint: string;
  requests: ReplayRequest[];
  failures: string[];
  servers: Map<string, Rec>;
  drives: Map<string, Rec>;
  /** parsed bodies of POST /servers/create */
  created: Rec[];
  close(): Promise<void>;
}

const UUID = '([0-9a-f-]{36})';
const CREATE_KEYS = /^(name|cpu|smp|mem|persistent|boot|vnc:ip|vnc:password|(ide|scsi|block):\d:\d(:media)?|nic:\d:(model|dhcp|vlan|block))$/;
const text = (status: number, body: string): Reply => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body });
const fault = (status: number, message: string) => new Fault(status, text(status, `${message}\n`));

export async function startCs1Server(opts: Cs1ServerOptions = {}): Promise<Cs1TestServer> {
  const { replay, route, violation } = await startBasicAuthServer({
    username: CS1_USERNAME,
    password: CS1_PASSWORD,
    unauthorized: (sent) => text(401, opts.echoCredentials ? `Authentication failed for ${sent.username} with key ${sent.password}\n` : 'Authentication failed\n'),
    violationReply: (message) => text(400, `${message}\n`),
  });
  const clock = transitions(opts.transitionMs ?? 60);
  const servers = new Map(records('servers-info.txt').map((r) => [r.get('server')!, r]));
  const standard = new Map(records('drives-standard-info.txt').map((r) => [r.get('drive')!, r]));
  const drives = new Map(records('drives-info.txt').map((r) => [r.get('drive')!, r]));
  const created: Rec[] = [];

  const format = (recs: Rec[]) => text(200, recs.map((r) => [...r].map(([k, v]) => (v === '' ? k : `${k} ${v}`)).join('\n')).join('\n\n') + '\n');
  const accepts = (req: ReplayRequest) => {
    if (!(req.headers.accept ?? '').includes('text/plain')) throw violation('ask for text/plain (Accept)');
  };
  const bodyOf = (req: ReplayRequest, allowed: RegExp): Rec => {
    if (!(req.headers['content-type'] ?? '').startsWith('text/plain')) throw violation('a body must be text/plain');
    const rec: Rec = new Map();
    const lines = req.body.toString('utf8').split('\n');
    if (lines.pop() !== '') throw violation('a body ends with a line break');
    for (const line of lines) {
      const at = line.indexOf(' ');
      const key = at < 0 ? line : line.slice(0, at);
      if (!allowed.test(key)) throw violation(`unexpected key ${JSON.stringify(key)}`);
      if (rec.has(key)) throw violation(`key ${key} given twice`);
      rec.set(key, at < 0 ? '' : line.slice(at + 1));
    }
    return rec;
  };
  const server = (id: string) => {
    clock.settle();
    const s = servers.get(id);
    if (!s) throw fault(404, `Not found: server ${id}`);
    return s;
  };
  const drive = (id: string) => {
    clock.settle();
    const d = drives.get(id) ?? standard.get(id);
    if (!d) throw fault(404, `Not found: drive ${id}`);
    return d;
  };
  const claim = (s: Rec) => {
    for (const [key, value] of s) {
      if (!/^(ide|scsi|block):\d:\d$/.test(key) || s.get(`${key}:media`) === 'cdrom') continue;
      drives.get(value)?.set('claimed', `${s.get('server')!}:guest:${s.get('server')!}:${key}`);
    }
  };
  const release = (s: Rec) => {
    for (const [key, value] of s) if (/^(ide|scsi|block):\d:\d$/.test(key)) drives.get(value)?.delete('claimed');
  };
  const stop = (s: Rec) => {
    s.set('status', 'stopped');
    for (const k of ['started', 'rx', 'tx', 'rx:packets', 'tx:packets']) s.delete(k);
    if (s.get('persistent') !== 'true') {
      servers.delete(s.get('server')!);
      release(s);
    }
  };

  route('GET', '/servers/info', (req) => {
    accepts(req);
    clock.settle();
    return format([...servers.values()]);
  });
  route('GET', new RegExp(`^/servers/${UUID}/info$`), (req, m) => {
    accepts(req);
    return format([server(m![1]!)]);
  });

  route('POST', '/servers/create', (req) => {
    accepts(req);
    const def = bodyOf(req, CREATE_KEYS);
    for (const need of ['name', 'cpu', 'mem', 'vnc:password']) if (!def.get(need)) throw violation(`${need} is required`);
    if (!/^\d+$/.test(def.get('cpu')!) || Number(def.get('cpu')) < 250) throw violation('cpu is MHz, at least 250');
    if (!/^\d+$/.test(def.get('mem')!)) throw violation('mem is MiB');
    if (opts.failCreate) throw fault(opts.failCreate.status, opts.failCreate.text);
    for (const [key, value] of def) {
      if (!/^(ide|scsi|block):\d:\d$/.test(key)) continue;
      const d = drive(value);
      if (d.has('imaging')) throw fault(409, `Drive ${value} is imaging`);
      if (d.has('claimed') && def.get(`${key}:media`) !== 'cdrom') throw fault(409, `Drive ${value} is in use`);
    }
    const id = randomUUID();
    const s: Rec = new Map([['server', id], ...def, ['status', 'active'], ['started', String(Math.floor(Date.now() / 1000))], ['user', CS1_USERNAME]]);
    if (s.get('nic:0:dhcp') === 'auto') s.set('nic:0:dhcp:ip', `91.203.57.${10 + servers.size}`);
    servers.set(id, s);
    claim(s);
    created.push(def);
    return format([s]);
  });

  route('POST', new RegExp(`^/servers/${UUID}/(start|stop|shutdown|reset|destroy)$`), (req, m) => {
    accepts(req);
    if (req.body.length > 0) throw violation('server actions take no body');
    const s = server(m![1]!);
    const status = s.get('status');
    switch (m![2]) {
      case 'start':
        if (status === 'active') throw fault(409, 'Server is already running');
        s.set('status', 'active');
        s.set('started', String(Math.floor(Date.now() / 1000)));
        break;
      case 'stop':
        if (status !== 'active' && status !== 'paused') throw fault(409, 'Server is not running');
        stop(s);
        break;
      case 'shutdown':
        if (status !== 'active') throw fault(409, 'Server is not running');
        clock.later(() => stop(s));
        break;
      case 'reset':
        if (status !== 'active') throw fault(409, 'Server is not running');
        s.set('started', String(Math.floor(Date.now() / 1000)));
        break;
      case 'destroy':
        if (status === 'active') throw fault(409, 'Server is running: stop it first');
        servers.delete(m![1]!);
        release(s);
        break;
    }
    return { status: 204, body: '' };
  });

  route('GET', '/drives/standard/info', (req) => {
    accepts(req);
    return format([...standard.values()]);
  });
  route('GET', new RegExp(`^/drives/${UUID}/info$`), (req, m) => {
    accepts(req);
    return format([drive(m![1]!)]);
  });
  route('POST', new RegExp(`^/drives/${UUID}/clone$`), (req, m) => {
    accepts(req);
    const source = drive(m![1]!);
    const def = bodyOf(req, /^(name|size)$/);
    if (!def.get('name')) throw violation('name is required');
    const size = def.has('size') ? Number(def.get('size')) : Number(source.get('size'));
    if (!Number.isInteger(size) || size < Number(source.get('size'))) throw fault(400, 'size must be at least the size of the source drive');
    const id = randomUUID();
    const d: Rec = new Map([['drive', id], ['name', def.get('name')!], ['type', 'disk'], ['status', 'active'], ['size', String(size)], ['user', CS1_USERNAME], ['imaging', '0%']]);
    drives.set(id, d);
    clock.later(() => d.delete('imaging'));
    return format([d]);
  });
  route('POST', new RegExp(`^/drives/${UUID}/destroy$`), (req, m) => {
    accepts(req);
    if (standard.has(m![1]!)) throw fault(403, 'Standard drives cannot be destroyed');
    const d = drive(m![1]!);
    if (d.has('claimed')) throw fault(409, `Drive ${m![1]!} is in use`);
    drives.delete(m![1]!);
    return { status: 204, body: '' };
  });

  for (const method of ['GET', 'POST']) {
    route(method, /.*/, (req) => {
      throw violation(`no such call ${req.method} ${req.path}`);
    });
  }

  return {
    endpoint: `${replay.url}/`,
    requests: replay.requests,
    failures: replay.failures,
    servers,
    drives,
    created,
    close: () => replay.close(),
  };
}

// --- Internal helpers ---

function records(name: string): Rec[] {
  const raw = readFileSync(resolve(REPO_ROOT, 'fixtures/cloudsigma', name), 'utf8');
  return raw
    .split(/\n\s*\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => new Map(block.split('\n').filter(Boolean).map((line) => {
      const at = line.indexOf(' ');
      return (at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)]) as [string, string];
    })));
}
