import { describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidInputError, MalformedResponseError, NotFoundError, ProviderError } from '../../src/providers/errors.ts';
import { BLUEBOX_LOCATION, createBlueboxInstance, NODE_STATE, validateBlueboxAccount, type BlueboxDeps } from '../../src/providers/bluebox/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, ComputeDriver, Node } from '../../src/providers/types.ts';
import { expectTypedError, pollUntil, uniqueName } from '../conformance/assertions.ts';
import { computeCapabilitiesExcept, defaultNodeInput, opensshEd25519PublicKey, testComputeDriver } from '../conformance/compute.ts';
import { BLUEBOX_API_KEY, BLUEBOX_CUSTOMER, startBlueboxServer, type BlueboxServerOptions, type BlueboxTestServer } from '../helpers/bluebox-server.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { startReplayServer } from '../helpers/replay-server.ts';

const FAST: BlueboxDeps = { retry: { baseDelayMs: 1, maxDelayMs: 5 } };
const MISSING = '00000000-0000-4000-8000-000000000000';
const WEB1 = '5c1e0a7b-3f2d-4e19-8a6b-0d9c8e7f6a01';
const WORKER = '5c1e0a7b-3f2d-4e19-8a6b-0d9c8e7f6a02';
const BROKEN = '5c1e0a7b-3f2d-4e19-8a6b-0d9c8e7f6a03';
const SMALL = '1a7c0e52-6b1d-4c0e-9f2a-3b4c5d6e7f01';
const UBUNTU = '8d2e4f60-1a3b-4c5d-8e9f-a0b1c2d3e401';

type Harness = DriverHarness<BlueboxTestServer, ComputeDriver>;

async function harness(opts: { server?: BlueboxServerOptions; account?: Partial<AccountConfig> } = {}): Promise<Harness> {
  const server = await startBlueboxServer(opts.server);
  const ctx = testDriverContext({ driver: 'bluebox', endpoint: server.endpoint, credentials: { customerId: BLUEBOX_CUSTOMER, apiKey: BLUEBOX_API_KEY }, ...opts.account });
  const instance = createBlueboxInstance(ctx, FAST);
  return driverHarness(server, ctx, instance, instance.compute!);
}

let conformanceServer: BlueboxTestServer | undefined;
testComputeDriver({
  name: 'bluebox',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: computeCapabilitiesExcept(
    'startNode', 'stopNode', 'createImage', 'deleteImage', 'copyImage', 'listVolumes', 'createVolume', 'attachVolume', 'detachVolume', 'destroyVolume',
    'listVolumeSnapshots', 'createVolumeSnapshot', 'destroyVolumeSnapshot', 'listKeyPairs', 'getKeyPair', 'createKeyPair', 'importKeyPair', 'deleteKeyPair',
  ),
  // why: a block is reachable only with an SSH key (or a password)
  createNodeInput: (sizes, images, locations) => ({ ...defaultNodeInput(sizes, images, locations), sshKey: opensshEd25519PublicKey('conformance') }),
  waitFor: pollUntil({ intervalMs: 20, timeoutMs: 5_000 }),
  waitTimeoutMs: 5_000,
  missingNodeId: MISSING,
  missingImageId: MISSING,
  secrets: [BLUEBOX_API_KEY],
});

describe('bluebox: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run sent Basic customer id + API key on every request and removed its block', () => {
    const basic = `Basic ${Buffer.from(`${BLUEBOX_CUSTOMER}:${BLUEBOX_API_KEY}`).toString('base64')}`;
    expect(conformanceServer!.requests.length).toBeGreaterThan(10);
    expect(conformanceServer!.requests.every((r) => r.headers.authorization === basic)).toBe(true);
    expect([...conformanceServer!.blocks.keys()].sort()).toEqual([WEB1, WORKER, BROKEN]);
  });

  it('maps blocks: host name, addresses, state, product; lists them in one call', async () => {
    const nodes = Object.fromEntries((await h.driver.listNodes()).map((n) => [n.id, n])) as Record<string, Node>;
    expect(h.ctx.totalCalls()).toBe(1);
    expect(nodes[WEB1]).toMatchObject({ name: 'web1.c10341.blueboxgrid.com', state: 'running', publicIps: ['67.214.220.14', '2607:f700:1:2::14'], locationId: 'seattle', extra: { memoryMib: 2048, storageGb: 40, cpu: 1 } });
    expect(nodes[WORKER]!.state).toBe('pending');
    expect(nodes[BROKEN]).toMatchObject({ state: 'error', publicIps: [] });
    expect(NODE_STATE).toEqual({ queued: 'pending', building: 'pending', running: 'running', error: 'error' });
    for (let i = 0; i < 30; i++) h.server.blocks.set(`dddddddd-0000-4000-8000-${String(i).padStart(12, '0')}`, { ...h.server.blocks.get(WORKER)!, id: `dddddddd-0000-4000-8000-${String(i).padStart(12, '0')}` });
    h.ctx.resetCalls();
    expect(await h.driver.listNodes()).toHaveLength(33);
    expect(h.ctx.totalCalls()).toBe(1);
  });

  it('products are sizes (hourly cost, RAM from the description), templates are images', async () => {
    const sizes = await h.driver.listSizes();
    expect(sizes[0]).toEqual({ id: SMALL, name: 'Block 1GB Virtual Server', ram: 1024, disk: 0, bandwidth: null, price: 0.18, extra: { description: 'Block 1GB Virtual Server', diskKnown: false } });
    expect(sizes[3]).toMatchObject({ ram: 8192, disk: 160, price: 0.79, extra: { diskKnown: true } });
    const images = await h.driver.listImages();
    expect(images[1]).toEqual({ id: '8d2e4f60-1a3b-4c5d-8e9f-a0b1c2d3e402', name: 'CentOS 5 (Latest Release)', extra: { public: true, createdAt: '2009-04-20T22:46:34.000Z' } });
    expect(await h.driver.listLocations()).toEqual([BLUEBOX_LOCATION]);
  });

  it('creates a block from a form with the product, template, host name and SSH key', async () => {
    const sshKey = opensshEd25519PublicKey('me@laptop');
    const node = await h.driver.createNode({ name: 'app.example.com', sizeId: SMALL, imageId: UBUNTU, sshKey, ex: { username: 'ops' } });
    expect(node).toMatchObject({ name: 'app.example.com', state: 'pending', sizeId: SMALL });
    expect(h.server.created).toEqual([{ product: SMALL, template: UBUNTU, hostname: 'app.example.com', username: 'ops', ssh_public_key: sshKey }]);
    const post = h.server.requests.find((r) => r.method === 'POST')!;
    expect(post.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
  });

  it('a password-only block never shows the password in an error', async () => {
    const password = 'Block-Passw0rd-abcdef';
    const err = await expectTypedError(h.driver.createNode({ name: 'x', sizeId: 'f0000000-0000-4000-8000-000000000000', imageId: UBUNTU, ex: { password } }), ProviderError);
    expect(err.status).toBe(422);
    expect(err.message).toContain('Product is invalid');
    expect(err.message).not.toContain(password);
    await h.driver.createNode({ name: 'pw', sizeId: SMALL, imageId: UBUNTU, ex: { password } });
    expect(h.server.created.at(-1)).toMatchObject({ password });
  });

  it('refuses input blocks cannot take, naming the field, before any request', async () => {
    const base = { name: 'ok', sizeId: SMALL, imageId: UBUNTU, sshKey: 'ssh-ed25519 AAAA k' };
    await expectTypedError(h.driver.createNode({ ...base, sshKey: undefined }), InvalidInputError, 'sshKey');
    await expectTypedError(h.driver.createNode({ ...base, name: 'not a hostname' }), InvalidInputError, 'name');
    await expectTypedError(h.driver.createNode({ ...base, tags: { a: 'b' } }), InvalidInputError, 'tags');
    await expectTypedError(h.driver.createNode({ ...base, keyName: 'k' }), InvalidInputError, 'keyName');
    await expectTypedError(h.driver.createNode({ ...base, locationId: 'dallas' }), InvalidInputError, 'locationId');
    await expectTypedError(h.driver.createNode({ ...base, ex: { username: 'Root Admin' } }), InvalidInputError, 'ex.username');
    expect(h.server.requests).toHaveLength(0);
  });

  it('reboots and destroys; a refused reboot and an unknown block are typed errors', async () => {
    await h.driver.rebootNode!(WEB1);
    const refused = await expectTypedError(h.driver.rebootNode!(WORKER), ProviderError);
    expect(refused.message).toContain('Block is building');
    await expectTypedError(h.driver.rebootNode!(MISSING), NotFoundError);
    await h.driver.destroyNode(BROKEN);
    expect(h.server.blocks.has(BROKEN)).toBe(false);
    await expectTypedError(h.driver.destroyNode(BROKEN), NotFoundError);
    await expectTypedError(h.driver.destroyNode('../etc'), InvalidInputError, 'id');
  });

  it('answers 401 with AuthenticationError; the API key is in no error or log line', async () => {
    await h.close();
    const wrong = 'wrong-bluebox-key-998877';
    h = await harness({ server: { echoCredentials: true }, account: { credentials: { customerId: BLUEBOX_CUSTOMER, apiKey: wrong } } });
    const err = await expectTypedError(h.driver.listNodes(), AuthenticationError);
    expect(err.message).toContain('Access denied');
    for (const text of [err.message, String(err.stack), JSON.stringify(h.ctx.logs)]) expect(text).not.toContain(wrong);
  });
});

describe('bluebox: malformed answers, accounts, registry', () => {
  it('a list that is not a list is a MalformedResponseError', async () => {
    const replay = await startReplayServer([{ method: 'GET', path: '/api/blocks.json', headers: { 'content-type': 'application/json' }, body: '{"error": "maintenance"}' }]);
    const instance = createBlueboxInstance(testDriverContext({ driver: 'bluebox', endpoint: `${replay.url}/`, credentials: { customerId: 'c1', apiKey: 'k1k1' } }), FAST);
    try {
      await expectTypedError(instance.compute!.listNodes(), MalformedResponseError);
    } finally {
      await instance.close?.();
      await replay.close();
    }
  });

  it('validates accounts naming fields, never values', () => {
    const base: AccountConfig = { id: 'bb', driver: 'bluebox', regions: [], credentials: { customerId: 'c1', apiKey: 'secret-key' }, options: {}, pollIntervalMs: 1, timeoutMs: 1 };
    expect(validateBlueboxAccount(base)).toEqual([]);
    const problems = validateBlueboxAccount({ ...base, credentials: { username: 'secret-user' }, options: { region: 'secret-region' } });
    expect(problems).toEqual([
      'credentials.customerId is required (the Blue Box customer number)',
      'credentials.apiKey is required',
      expect.stringContaining('credentials.username is not a bluebox credential'),
      'options.region is not a bluebox option (it takes none)',
    ]);
    expect(problems.join()).not.toContain('secret');
  });

  it('is registered and has no regions', async () => {
    expect(await loadProvider('bluebox')).toMatchObject({ name: 'bluebox', services: ['COMPUTE'], regional: false });
    expect(uniqueName()).toMatch(/^[a-z0-9-]+$/);
  });
});
