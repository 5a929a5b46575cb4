/**
 * Request limits and the audit trail through the real HTTP server: graphql-armor document
 * limits, body size, the per-token rate limit, and one audit line per mutation and deployment.
 */
import { generateKeyPairSync } from 'node:crypto';
import { getIntrospectionQuery } from 'graphql';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/providers/types.ts';
import { startTestApp, until, type TestApp } from '../helpers/app.ts';
import { closedPort } from '../http/support.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const TOKEN = 'ci-token-0123456789abcdef';
const READER = 'reader-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

/** A logger that keeps every line, to assert on audit lines and on what never reaches a log. */
function captureLogger(): Logger & { lines: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('limits: GraphQL documents, bodies and rates', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      accounts: [{ id: 'sandbox', driver: 'sandbox' }],
      server: {
        tokens: [{ name: 'ci', token: TOKEN, scope: 'write' }, { name: 'dashboard', token: READER, scope: 'read' }],
        limits: { depth: 6, aliases: 3, directives: 3, tokens: 400, cost: 800, bodyBytes: 4096, rateLimit: { requests: 40, perSeconds: 60 } },
      },
    });
  });
  afterAll(() => t.stop());

  const post = async (body: string, headers: Record<string, string> = auth) => {
    const r = await rawRequest(t.url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers }, body });
    return { ...r, json: () => JSON.parse(r.body) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
  };
  // why: with this media type yoga answers parse and validation failures 400, per GraphQL over HTTP
  const query = (q: string) => post(JSON.stringify({ query: q }), { ...auth, accept: 'application/graphql-response+json' });

  it('refuses a document over each limit with QUERY_TOO_COMPLEX naming the setting', async () => {
    const cases: [string, string][] = [
      ['depth', '{ accounts { nodes { edges { node { image { location { name } } } } } } }'],
      ['aliases', '{ a: accounts { id } b: accounts { id } c: accounts { id } d: accounts { id } }'],
      ['directives', '{ accounts @skip(if: false) @include(if: true) { id @skip(if: false) driver @skip(if: false) } }'],
      ['tokens', `{ accounts { ${'id '.repeat(400)}} }`],
      ['cost', '{ nodes(first: 100) { edges { node { id name state publicIps privateIps } } } }'],
    ];
    for (const [limit, q] of cases) {
      const r = await query(q);
      expect(r.status, limit).toBe(400);
      const err = r.json().errors?.[0];
      expect(err?.extensions?.code, limit).toBe('QUERY_TOO_COMPLEX');
      expect(err?.message, limit).toContain(`server.limits.${limit}`);
    }
    const fine = await query('{ nodes(first: 10) { edges { node { name size { name } } } } }');
    expect(fine.json().errors).toBeUndefined();
    // why: GraphiQL's schema fetch must keep working under any limits
    const introspection = await post(JSON.stringify({ query: getIntrospectionQuery() }).slice(0, 4096));
    expect(introspection.status).toBe(200);
  });

  it('refuses a body over server.limits.bodyBytes with 413 (a WebSocket message: close 1009), and one without Content-Length with 411', async () => {
    const big = await post(JSON.stringify({ query: `{ accounts { id } } # ${'x'.repeat(5000)}` }));
    expect(big.status).toBe(413);
    expect(big.json().errors?.[0]?.message).toContain('server.limits.bodyBytes');
    const ws = new WebSocket(t.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws', { headers: auth });
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(5000) } }));
    expect(await closed).toBe(1009);
    const chunked = await rawRequest(t.url, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body: '{"query":"{ accounts { id } }"}' });
    expect(chunked.status).toBe(411);
  });

  it('answers 429 with Retry-After once a token spends its budget, per token', async () => {
    let refused: Awaited<ReturnType<typeof query>> | undefined;
    for (let i = 0; i < 60 && !refused; i++) {
      const r = await query('{ accounts { id } }');
      if (r.status === 429) refused = r;
      else expect(r.status).toBe(200);
    }
    expect(refused).toBeDefined();
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused!.json().errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect((await rawRequest(t.url, { path: '/objects/x', headers: auth })).status).toBe(429);
    // another token has its own bucket
    expect((await post(JSON.stringify({ query: '{ accounts { id } }' }), { authorization: `Bearer ${READER}` })).status).toBe(200);
  });
});

describe('audit: one line per mutation and deployment, never a secret', () => {
  let t: TestApp;
  const logger = captureLogger();
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  beforeAll(async () => {
    const sshPort = await closedPort();
    t = await startTestApp(
      {
        accounts: [{ id: 'sandbox', driver: 'sandbox', options: { transitionMs: 50, nodeAddress: '127.0.0.1' } }],
        server: { tokens: [{ name: 'ops', token: TOKEN, scope: 'deploy' }, { name: 'dashboard', token: READER, scope: 'read' }] },
        sshKeys: { lab: { privateKey: key } },
      },
      { logger, deployPollMs: 50 },
    );
    (t as TestApp & { sshPort: number }).sshPort = sshPort;
  });
  afterAll(() => t.stop());
  const audits = () => logger.lines.filter((l) => l.msg === 'audit').map((l) => l.fields);

  it('logs who did what to which resource and how it ended', async () => {
    const made = await t.gql<{ createNode: { id: string } }>(
      'mutation { createNode(input: { account: "sandbox", name: "audited", size: "sb-small", image: "img-ubuntu-2404" }) { node { name } } }',
      {},
      auth,
    );
    expect(made.errors).toBeUndefined();
    const created = audits().at(-1)!;
    expect(created).toMatchObject({ actor: 'ops', operation: 'createNode', result: 'ok' });
    expect(String(created.resource)).not.toBe('');
    const nodes = await t.gql<{ nodes: { edges: { node: { id: string; name: string } }[] } }>('{ nodes { edges { node { id name } } } }', {}, auth);
    const id = nodes.data!.nodes.edges.find((e) => e.node.name === 'audited')!.node.id;
    expect(created.resource).toBe(id);

    // why: the sandbox refuses to reboot a node that is still pending
    await until(() => t.gql<{ node: { state: string } }>('query($id: ID!) { node(id: $id) { state } }', { id }, auth), (r) => r.data?.node.state === 'RUNNING');
    await t.gql('mutation($id: ID!) { rebootNode(input: { id: $id }) { node { id } } }', { id }, auth);
    expect(audits().at(-1)).toEqual({ actor: 'ops', operation: 'rebootNode', resource: id, result: 'ok' });
    const missing = id.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    await t.gql('mutation($id: ID!) { deleteNode(input: { id: $id }) { deletedId } }', { id: missing }, auth);
    expect(audits().at(-1)).toMatchObject({ actor: 'ops', operation: 'deleteNode', resource: missing });
    expect(audits().at(-1)!.result).not.toBe('ok');

    await t.gql('mutation($id: ID!) { deleteNode(input: { id: $id }) { deletedId } }', { id }, { authorization: `Bearer ${READER}` });
    expect(audits().at(-1)).toEqual({ actor: 'dashboard', operation: 'deleteNode', resource: undefined, result: 'FORBIDDEN' });
  });

  it('logs a deployment when it starts and when it ends', async () => {
    const port = (t as TestApp & { sshPort: number }).sshPort;
    const r = await t.gql<{ deployNode: { id: string } }>(
      `mutation { deployNode(input: {
        create: { account: "sandbox", name: "deploy-audit", size: "sb-small", image: "img-ubuntu-2404" }
        steps: [{ script: { script: "echo secret-script-body" } }]
        ssh: { username: "root", keyRef: "lab", port: ${port}, timeoutMs: 300 }
      }) { deployment { status } } }`,
      {},
      auth,
    );
    expect(r.errors).toBeUndefined();
    const started = audits().find((a) => a.operation === 'deployNode')!;
    expect(started).toMatchObject({ actor: 'ops', result: 'ok' });
    const ended = await until(async () => audits().find((a) => a.operation === 'deployment'), (a) => a !== undefined, 10_000);
    expect(ended).toMatchObject({ actor: 'ops', operation: 'deployment', resource: started.resource, result: 'FAILED', startedBy: 'deployNode' });
  });

  it('never writes a token, a key or an argument value to the log', () => {
    const text = JSON.stringify(logger.lines);
    for (const secret of [TOKEN, READER, 'secret-script-body', key.split('\n')[1]!]) expect(text).not.toContain(secret);
  });
});
