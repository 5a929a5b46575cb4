/**
 * A real Nova compute API for integration tests: scripts/nova-fake.py (Debian's python3-nova with
 * the fake virt driver) behind the real keystonemiddleware, which validates every X-Auth-Token
 * against a small Keystone v3 identity stand-in served here on 127.0.0.1 (version discovery,
 * password tokens, token validation). Both listen on free ports and stop on close().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './replay-server.ts';

export interface RealNova {
  /** the compute endpoint, `http://127.0.0.1:PORT/v2.1` */
  computeUrl: string;
  /** the identity stand-in's v3 URL */
  keystoneUrl: string;
  /** a valid user token (project `demo`, member) */
  token: string;
  /** every POST /v3/auth/tokens and token validation the identity stand-in answered */
  identityCalls: string[];
  close(): Promise<void>;
}

const SERVICE_USER = { name: 'nova', password: 'nova-service-pass' };
export const NOVA_DEMO_USER = { name: 'demo', password: 'demo-pass-not-secret', project: 'demo' };
const NOVA_PYTHON = '/usr/bin/python3';
const PASTE_INI = path.join(REPO_ROOT, 'scripts/nova-api-paste.ini');

export async function startRealNova(opts: { spawnSeconds?: number } = {}): Promise<RealNova> {
  const identityCalls: string[] = [];
  const tokens = new Map<string, { user: string; project: string; roles: string[]; expiresAt: string }>();
  let novaPort = 0;
  let base = '';
  const tokenBody = (t: { user: string; project: string; roles: string[]; expiresAt: string }) => ({
    token: {
      methods: ['password'],
      user: { id: `${t.user}-id`, name: t.user, domain: { id: 'default', name: 'Default' }, password_expires_at: null },
      project: { id: `${t.project}-id`, name: t.project, domain: { id: 'default', name: 'Default' } },
      roles: t.roles.map((r) => ({ id: `${r}-id`, name: r })),
      expires_at: t.expiresAt,
      issued_at: new Date().toISOString(),
      audit_ids: [randomBytes(8).toString('base64url')],
      is_domain: false,
      catalog: [
        { type: 'identity', name: 'keystone', id: 'identity-id', endpoints: ['public', 'internal', 'admin'].map((i) => ({ id: `ks-${i}`, interface: i, region: 'RegionOne', region_id: 'RegionOne', url: `${base}/v3` })) },
        { type: 'compute', name: 'nova', id: 'compute-id', endpoints: [{ id: 'nova-public', interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: `http://127.0.0.1:${novaPort}/v2.1` }] },
      ],
    },
  });
  const version = () => ({
    id: 'v3.14', status: 'stable', updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${base}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  });
  const issue = (user: string, project: string, roles: string[]) => {
    const id = `gAAAAA${randomBytes(24).toString('base64url')}`;
    tokens.set(id, { user, project, roles, expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    return id;
  };

  const identity: Server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      const url = new URL(req.url ?? '/', base);
      const p = url.pathname.replace(/\/+$/, '');
      if (req.method === 'GET' && p === '') return send(300, { versions: { values: [version()] } });
      if (req.method === 'GET' && p === '/v3') return send(200, { version: version() });
      if (req.method === 'POST' && p === '/v3/auth/tokens') {
        const user = (JSON.parse(raw || '{}') as { auth?: { identity?: { password?: { user?: { name?: string; password?: string } } } } }).auth?.identity?.password?.user;
        identityCalls.push(`issue ${user?.name ?? '?'}`);
        if (user?.name === SERVICE_USER.name && user.password === SERVICE_USER.password) {
          const id = issue('nova', 'service', ['admin', 'service']);
          return send(201, tokenBody(tokens.get(id)!), { 'x-subject-token': id });
        }
        if (user?.name === NOVA_DEMO_USER.name && user.password === NOVA_DEMO_USER.password) {
          const id = issue('demo', 'demo', ['member', 'reader']);
          return send(201, tokenBody(tokens.get(id)!), { 'x-subject-token': id });
        }
        return send(401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
      }
      if ((req.method === 'GET' || req.method === 'HEAD') && p === '/v3/auth/tokens') {
        const caller = tokens.get(String(req.headers['x-auth-token'] ?? ''));
        const subject = tokens.get(String(req.headers['x-subject-token'] ?? ''));
        identityCalls.push(`validate ${subject ? subject.user : 'unknown'}`);
        if (!caller || !caller.roles.includes('service')) return send(403, { error: { code: 403, title: 'Forbidden', message: 'You are not authorized to perform the requested action.' } });
        if (!subject) return send(404, { error: { code: 404, title: 'Not Found', message: 'Could not find token.' } });
        return send(200, tokenBody(subject), { 'x-subject-token': String(req.headers['x-subject-token']) });
      }
      return send(404, { error: { code: 404, title: 'Not Found', message: `identity stand-in: no ${req.method} ${p}` } });
    });
  });
  await new Promise<void>((ok) => identity.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(identity.address() as AddressInfo).port}`;

  novaPort = await freePort();
  // why: nova and oslo write temp files (policy, locks); they go here and leave with close()
  const tmp = mkdtempSync(path.join(tmpdir(), 'skygraph-nova-test-'));
  const child: ChildProcess = spawn(
    NOVA_PYTHON,
    [path.join(REPO_ROOT, 'scripts/nova-fake.py'), String(novaPort), `${base}/v3`, PASTE_INI, String(opts.spawnSeconds ?? 1)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } },
  );
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const stopIdentity = () => new Promise<void>((ok) => identity.close(() => ok()));
  const stopNova = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('nova-fake: ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`nova-fake exited with ${code}: ${log.slice(-3000)}`)));
      setTimeout(() => reject(new Error(`nova-fake did not start in 60 s: ${log.slice(-3000)}`)), 60_000).unref();
    });
  } catch (err) {
    await stopNova();
    await stopIdentity();
    throw err;
  }
  return {
    computeUrl: `http://127.0.0.1:${novaPort}/v2.1`,
    keystoneUrl: `${base}/v3`,
    token: issue('demo', 'demo', ['member', 'reader']),
    identityCalls,
    async close() {
      await stopNova();
      await stopIdentity();
    },
  };
}

// --- Internal helpers ---

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

