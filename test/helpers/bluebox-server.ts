/**
 * A stateful stand-in for the Blue Box Blocks API on 127.0.0.1, seeded from fixtures/bluebox.
 * Every call needs HTTP Basic with the customer id and API key; a create must be form-encoded
 * with a known product and template, a host name, and a password or an SSH key (not both);
 * a new block is `queued` for `transitionMs`, then `running`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Fault, startBasicAuthServer, transitions, type Reply } from './basic-auth-server.ts';
import { REPO_ROOT, type ReplayRequest } from './replay-server.ts';

export const BLUEBOX_CUSTOMER = 'c10341';
export const BLUEBOX_API_KEY = 'bbx-fixture-api-key-3d5e7f9a1b2c';

type Json = Record<string, unknown>;

export interface BlueboxServerOptions {
  transitionMs?: number;
  echoCredentials?: boolean;
}

export interface BlueboxTestServer {
  endpoint: string;
  requests: ReplayRequest[];
  failures: string[];
  blocks: Map<string, Json>;
  /** form bodies of POST /api/blocks.json */
  created: Record<string, string>[];
  close(): Promise<void>;
}

const fixture = (name: string): Json[] => JSON.parse(readFileSync(resolve(REPO_ROOT, 'fixtures/bluebox', name), 'utf8')) as Json[];
const json = (status: number, body: unknown): Reply => ({ status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) });
const ID = '([0-9a-f-]{36})';
const CREATE_FIELDS = ['product', 'template', 'location', 'hostname', 'username', 'password', 'ssh_public_key', 'ipv6_only'];

export async function startBlueboxServer(opts: BlueboxServerOptions = {}): Promise<BlueboxTestServer> {
  const { replay, route, violation } = await startBasicAuthServer({
    username: BLUEBOX_CUSTOMER,
    password: BLUEBOX_API_KEY,
    unauthorized: (sent) => ({ headers: { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="Application"' }, body: opts.echoCredentials ? `HTTP Basic: Access denied for ${sent.username}/${sent.password}.\n` : 'HTTP Basic: Access denied.\n' }),
    violationReply: (message) => json(400, { error: message }),
  });
  const clock = transitions(opts.transitionMs ?? 60);
  const blocks = new Map(fixture('blocks.json').map((b) => [b.id as string, b]));
  const products = fixture('block-products.json');
  const templates = fixture('block-templates.json');
  const created: Record<string, string>[] = [];
  const block = (id: string) => {
    clock.settle();
    const b = blocks.get(id);
    if (!b) throw new Fault(404, json(404, { error: 'Block not found' }));
    return b;
  };
  const form = (req: ReplayRequest) => {
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) throw violation('the body must be form-encoded');
    return Object.fromEntries(req.form);
  };

  route('GET', '/api/blocks.json', () => {
    clock.settle();
    return json(200, [...blocks.values()].map((b) => ({ ...b, product: undefined })));
  });
  route('GET', new RegExp(`^/api/blocks/${ID}\\.json$`), (_req, m) => json(200, block(m![1]!)));
  route('GET', '/api/block_products.json', () => json(200, products));
  route('GET', '/api/block_templates.json', () => json(200, templates));

  route('POST', '/api/blocks.json', (req) => {
    const f = form(req);
    const unknown = Object.keys(f).filter((k) => !CREATE_FIELDS.includes(k));
    if (unknown.length) throw violation(`unknown fields: ${unknown.join(', ')}`);
    const product = products.find((p) => p.id === f.product);
    if (!product) throw new Fault(422, json(422, { error: 'Product is invalid' }));
    if (!templates.some((t) => t.id === f.template)) throw new Fault(422, json(422, { error: 'Template is invalid' }));
    if (!f.hostname) throw violation('hostname is required');
    if (!f.password === !f.ssh_public_key) throw violation('give either password or ssh_public_key');
    const id = randomUUID();
    const ram = Number(/(\d+)GB/.exec(product.description as string)?.[1] ?? 1);
    const b: Json = {
      ips: [{ address: `67.214.221.${10 + blocks.size}` }],
      memory: ram * 1024 ** 3,
      id,
      storage: ram * 20 * 1024 ** 3,
      hostname: f.hostname,
      description: `${ram} GB RAM + ${ram * 20} GB Disk`,
      cpu: ram / 2,
      status: 'queued',
      product,
    };
    blocks.set(id, b);
    created.push(f);
    clock.later(() => (b.status = 'running'));
    return json(200, b);
  });

  route('PUT', new RegExp(`^/api/blocks/${ID}/reboot\\.json$`), (_req, m) => {
    const b = block(m![1]!);
    if (b.status !== 'running') return json(200, { status: 'error', text: `Block is ${String(b.status)}.` });
    return json(200, { status: 'ok', text: 'Reboot initiated.' });
  });
  route('DELETE', new RegExp(`^/api/blocks/${ID}\\.json$`), (_req, m) => {
    blocks.delete(block(m![1]!).id as string);
    return json(200, { text: 'Block destroyed.' });
  });

  for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
    route(method, /.*/, (req) => {
      throw violation(`no such call ${req.method} ${req.path}`);
    });
  }

  return { endpoint: `${replay.url}/`, requests: replay.requests, failures: replay.failures, blocks, created, close: () => replay.close() };
}
