import { describe, expect, it } from 'vitest';
import { AuthenticationError, ConflictError, InvalidInputError, MalformedResponseError, NotFoundError, ProviderError } from '../../src/providers/errors.ts';
import { STANDARD_SIZES, sizePrice } from '../../src/providers/cloudsigma/common.ts';
import { createCloudSigmaInstance, INDICATIVE_RATES, NODE_STATE, validateCloudSigma1Account } from '../../src/providers/cloudsigma/v1/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, ComputeDriver, Node } from '../../src/providers/types.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { computeCapabilitiesExcept, testComputeDriver } from '../conformance/compute.ts';
import { CS1_PASSWORD, CS1_USERNAME, startCs1Server, type Cs1ServerOptions, type Cs1TestServer } from '../helpers/cloudsigma-server.ts';
import { CLOUDSIGMA_FAST, CLOUDSIGMA_WAIT, cloudSigmaContext, cloudSigmaHarness, type CloudSigmaTarget } from '../helpers/cloudsigma.ts';
import { conformanceTarget, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { startReplayServer } from '../helpers/replay-server.ts';

const CS1: CloudSigmaTarget = { driver: 'cloudsigma', credentials: { username: CS1_USERNAME, password: CS1_PASSWORD }, create: createCloudSigmaInstance };
const MISSING = '00000000-0000-4000-8000-000000000000';
const WEB1 = '4f2d8c1a-6b3e-4a9d-8e7f-1a2b3c4d5e01';
const DB1 = '4f2d8c1a-6b3e-4a9d-8e7f-1a2b3c4d5e02';
const SCRATCH = '4f2d8c1a-6b3e-4a9d-8e7f-1a2b3c4d5e03';
const UBUNTU = '1b5c9d3e-8f7a-4b6c-9d0e-2f3a4b5c6d01';
const WINDOWS = '1b5c9d3e-8f7a-4b6c-9d0e-2f3a4b5c6d02';
const CDROM = '1b5c9d3e-8f7a-4b6c-9d0e-2f3a4b5c6d07';
const GIB = 1024 ** 3;

type Harness = DriverHarness<Cs1TestServer, ComputeDriver>;

const harness = async (opts: { server?: Cs1ServerOptions; account?: Partial<AccountConfig> } = {}): Promise<Harness> => cloudSigmaHarness(await startCs1Server(opts.server), CS1, opts.account);

let conformanceServer: Cs1TestServer | undefined;
testComputeDriver({
  name: 'cloudsigma',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: computeCapabilitiesExcept(
    'createImage', 'deleteImage', 'copyImage', 'listVolumes', 'createVolume', 'attachVolume', 'detachVolume', 'destroyVolume',
    'listVolumeSnapshots', 'createVolumeSnapshot', 'destroyVolumeSnapshot', 'listKeyPairs', 'getKeyPair', 'createKeyPair', 'importKeyPair', 'deleteKeyPair',
  ),
  ...CLOUDSIGMA_WAIT,
  missingNodeId: MISSING,
  missingImageId: MISSING,
  secrets: [CS1_PASSWORD, 'Fixture-VNC'],
});

describe('cloudsigma: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run authenticated every request and left no server or drive of its own', () => {
    const reqs = conformanceServer!.requests;
    expect(reqs.length).toBeGreaterThan(15);
    const basic = `Basic ${Buffer.from(`${CS1_USERNAME}:${CS1_PASSWORD}`).toString('base64')}`;
    expect(reqs.every((r) => r.headers.authorization === basic)).toBe(true);
    expect([...conformanceServer!.servers.keys()].sort()).toEqual([WEB1, DB1, SCRATCH]);
    expect(conformanceServer!.drives.size).toBe(2);
  });

  it('maps server records: values with spaces, = and ":", DHCP addresses, sizes; never the VNC password', async () => {
    const nodes = Object.fromEntries((await h.driver.listNodes()).map((n) => [n.id, n])) as Record<string, Node>;
    expect(nodes[WEB1]).toMatchObject({ name: 'web-1', state: 'running', publicIps: ['91.203.56.132'], privateIps: [], sizeId: 'small', locationId: 'zrh', tags: {}, createdAt: null });
    expect(nodes[WEB1]!.extra).toMatchObject({
      cpuMhz: 2000,
      smp: 1,
      memMib: 2048,
      persistent: true,
      startedAt: '2024-03-11T08:14:02.000Z',
      boot: 'ide:0:0',
      drives: { 'ide:0:0': { uuid: '6e1d2c3b-4a5f-4e6d-9c8b-7a6f5e4d3c01', media: 'disk' }, 'ide:0:1': { uuid: CDROM, media: 'cdrom' } },
      nics: [
        { index: 0, model: 'e1000', dhcp: '91.203.56.132', vlan: null, block: ['tcp/25', 'tcp/43594', 'udp/53'] },
        { index: 1, model: 'virtio', dhcp: null, vlan: '5c4b3a29-1807-4f6e-9d5c-4b3a29180701', block: [] },
      ],
      vncIp: '178.22.66.28',
      rxBytes: 760681,
      txBytes: 2568,
    });
    expect(nodes[DB1]).toMatchObject({ name: 'db 1 = primary: do not stop', state: 'stopped', publicIps: [], sizeId: 'medium' });
    expect(nodes[SCRATCH]).toMatchObject({ state: 'error', publicIps: ['91.203.56.140'], sizeId: null, extra: { smp: 'auto', persistent: false } });
    expect(JSON.stringify(Object.values(nodes))).not.toContain('Fixture-VNC');
    expect(NODE_STATE).toEqual({ active: 'running', stopped: 'stopped', paused: 'paused', dumped: 'stopped', dead: 'error' });
  });

  it('lists any number of servers with one GET /servers/info, never one call per server', async () => {
    const template = h.server.servers.get(DB1)!;
    for (let i = 0; i < 40; i++) {
      const id = `bbbbbbbb-0000-4000-8000-${String(i).padStart(12, '0')}`;
      h.server.servers.set(id, new Map([...template, ['server', id], ['name', `bulk ${i}`]]));
    }
    h.ctx.resetCalls();
    expect(await h.driver.listNodes()).toHaveLength(43);
    expect([...h.ctx.calls.entries()]).toEqual([['GET /servers/info', 1]]);
    expect(h.server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /servers/info']);
    h.ctx.resetCalls();
    expect((await h.driver.getNodes!([SCRATCH, MISSING, WEB1])).map((n) => n?.id ?? null)).toEqual([SCRATCH, null, WEB1]);
    expect(h.ctx.totalCalls()).toBe(1);
  });

  it('lists the standard library disks as images; CD-ROMs are left out', async () => {
    const images = await h.driver.listImages();
    expect(images.map((i) => i.id)).toEqual([UBUNTU, WINDOWS]);
    expect(images[1]).toMatchObject({ name: 'Windows Server Web 2008 R2 64bit English', extra: { os: 'windows', bits: '64', driveType: 'preinstalled', sizeGb: 20, licenses: ['msft_lwa_00135'], free: false } });
    expect((await h.driver.getImages!([WINDOWS, CDROM])).map((i) => i?.id ?? null)).toEqual([WINDOWS, null]);
  });

  it('sizes are the standard menu at indicative rates unless options.prices says otherwise', async () => {
    const sizes = await h.driver.listSizes();
    expect(sizes.map((s) => [s.id, s.price])).toEqual(STANDARD_SIZES.map((s) => [s.id, sizePrice(s, INDICATIVE_RATES)]));
    expect(sizes[0]!.extra).toMatchObject({ priceSource: 'indicative' });
    expect(h.ctx.totalCalls()).toBe(0);
    await h.close();
    h = await harness({ account: { options: { prices: { large: 0.2 } } } });
    expect((await h.driver.listSizes()).find((s) => s.id === 'large')).toMatchObject({ price: 0.2, extra: { priceSource: 'options.prices' } });
    expect(await h.driver.listLocations()).toEqual([{ id: 'zrh', name: 'Zurich, Switzerland', country: 'CH', extra: { endpoint: 'https://api.zrh.cloudsigma.com/' } }]);
  });

  it('creates a node: clones the image at the larger of its size and the size\'s disk, waits for imaging, creates a persistent server', async () => {
    const node = await h.driver.createNode({ name: 'app 7', sizeId: 'small', imageId: UBUNTU });
    expect(node).toMatchObject({ name: 'app 7', state: 'running', sizeId: 'small' });
    const clone = h.server.requests.find((r) => r.path.endsWith('/clone'))!;
    expect(clone.body.toString()).toBe(`name app 7\nsize ${20 * GIB}\n`);
    expect(clone.headers['content-type']).toMatch(/^text\/plain/);
    const def = h.server.created[0]!;
    expect(Object.fromEntries([...def].filter(([k]) => k !== 'vnc:password' && k !== 'ide:0:0'))).toEqual({
      name: 'app 7', cpu: '2000', smp: '1', mem: '2048', persistent: 'true', boot: 'ide:0:0', 'nic:0:model': 'e1000', 'nic:0:dhcp': 'auto', 'vnc:ip': 'auto',
    });
    expect(h.server.drives.get(def.get('ide:0:0')!)).toBeDefined();
    // the clone was polled until it stopped imaging
    expect(h.server.requests.filter((r) => r.path === `/drives/${def.get('ide:0:0')!}/info`).length).toBeGreaterThan(1);
    expect(JSON.stringify(node)).not.toContain(def.get('vnc:password')!);

    await h.driver.createNode({ name: 'win', sizeId: 'micro', imageId: WINDOWS });
    expect(h.server.requests.filter((r) => r.path.endsWith('/clone')).at(-1)!.body.toString()).toBe(`name win\nsize ${20 * GIB}\n`);
  });

  it('refuses what API 1.0 cannot do, and CD-ROM or unknown images, before cloning', async () => {
    const base = { name: 'x', sizeId: 'micro', imageId: UBUNTU };
    await expectTypedError(h.driver.createNode({ ...base, tags: { env: 'prod' } }), InvalidInputError, 'tags');
    await expectTypedError(h.driver.createNode({ ...base, keyName: 'k' }), InvalidInputError, 'keyName');
    await expectTypedError(h.driver.createNode({ ...base, sshKey: 'ssh-ed25519 AAAA' }), InvalidInputError, 'sshKey');
    await expectTypedError(h.driver.createNode({ ...base, userData: '#!/bin/sh' }), InvalidInputError, 'userData');
    await expectTypedError(h.driver.createNode({ ...base, name: 'two\nlines' }), InvalidInputError, 'name');
    await expectTypedError(h.driver.createNode({ ...base, imageId: CDROM }), InvalidInputError, 'imageId');
    await expectTypedError(h.driver.createNode({ ...base, imageId: MISSING }), InvalidInputError, 'imageId');
    expect(h.server.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('destroys the cloned drive when the server cannot be created, without leaking the VNC password', async () => {
    await h.close();
    h = await harness({ server: { failCreate: { status: 402, text: 'Insufficient funds' } } });
    const err = await expectTypedError(h.driver.createNode({ name: 'broke', sizeId: 'micro', imageId: UBUNTU }), ProviderError);
    expect(err.message).toContain('402');
    expect([...h.server.drives.values()].map((d) => d.get('name'))).toEqual(['web-1', 'db-1']);
  });

  it('destroys a running node: stop, destroy, then its disk (not the CD-ROM)', async () => {
    await h.driver.destroyNode(WEB1);
    expect(h.server.servers.has(WEB1)).toBe(false);
    expect(h.server.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual([
      `/servers/${WEB1}/stop`,
      `/servers/${WEB1}/destroy`,
      '/drives/6e1d2c3b-4a5f-4e6d-9c8b-7a6f5e4d3c01/destroy',
    ]);
    expect(h.server.drives.has('6e1d2c3b-4a5f-4e6d-9c8b-7a6f5e4d3c01')).toBe(false);
  });

  it('reboots with reset, starts and stops; state conflicts and unknown ids are typed', async () => {
    await h.driver.rebootNode!(WEB1);
    await h.driver.startNode!(DB1);
    expect(h.server.requests.filter((r) => r.method === 'POST').map((r) => r.path.split('/').pop())).toEqual(['reset', 'start']);
    const err = await expectTypedError(h.driver.startNode!(WEB1), ConflictError);
    expect(err.message).toContain('already running');
    await expectTypedError(h.driver.stopNode!(MISSING), NotFoundError);
  });

  it('answers 401 with AuthenticationError; the password is in no error, stack or log line', async () => {
    await h.close();
    const wrong = 'wrong-secret-key-0000-1111';
    h = await harness({ server: { echoCredentials: true }, account: { credentials: { username: CS1_USERNAME, password: wrong } } });
    const err = await expectTypedError(h.driver.listNodes(), AuthenticationError);
    for (const text of [err.message, String(err.stack), JSON.stringify(h.ctx.logs)]) expect(text).not.toContain(wrong);
    expect(err.message).toContain('[REDACTED]');
  });
});

describe('cloudsigma: the key/value format on the wire', () => {
  const withAnswer = async (body: string, run: (driver: ComputeDriver) => Promise<void>) => {
    const replay = await startReplayServer([{ method: 'GET', path: '/servers/info', headers: { 'content-type': 'text/plain' }, body }]);
    const instance = createCloudSigmaInstance(cloudSigmaContext(CS1, `${replay.url}/`), CLOUDSIGMA_FAST);
    try {
      await run(instance.compute!);
    } finally {
      await instance.close?.();
      await replay.close();
    }
  };

  it('reads several records, CRLF and runs of blank lines, and an empty account', async () => {
    await withAnswer('\r\nserver a1\r\nname first one\r\nstatus active\r\n\r\n\r\n\r\nserver b2\r\nname =second: x\r\nstatus paused\r\nvnc:ip\r\n', async (driver) => {
      expect((await driver.listNodes()).map((n) => [n.id, n.name, n.state])).toEqual([['a1', 'first one', 'running'], ['b2', '=second: x', 'paused']]);
    });
    await withAnswer('', async (driver) => expect(await driver.listNodes()).toEqual([]));
  });

  it('a body that is not key/value text, or a record without its uuid, is a MalformedResponseError', async () => {
    await withAnswer('<html><body>502 Bad Gateway</body></html>', async (driver) => {
      const err = await expectTypedError(driver.listNodes(), MalformedResponseError);
      expect(err.message).toContain('not valid key/value text');
    });
    await withAnswer('{"servers": []}', async (driver) => void (await expectTypedError(driver.listNodes(), MalformedResponseError)));
    await withAnswer('name orphan\nstatus active\n', async (driver) => {
      const err = await expectTypedError(driver.listNodes(), MalformedResponseError);
      expect(err.message).toContain('without "server"');
    });
  });

  it('an answer that breaks off inside a line is a MalformedResponseError, not a shorter list', async () => {
    await withAnswer('server a1\nname first one\nstatus active\n\nserver b2\nname sec', async (driver) => {
      const err = await expectTypedError(driver.listNodes(), MalformedResponseError);
      expect(err.message).toContain('breaks off inside a line');
    });
  });
});

describe('cloudsigma: accounts and registry', () => {
  const base: AccountConfig = { id: 'cs', driver: 'cloudsigma', regions: ['zrh'], credentials: { username: 'me@example.com', password: 'secret-pw-1' }, options: {}, pollIntervalMs: 1, timeoutMs: 1 };

  it('validates accounts naming fields, never values', () => {
    expect(validateCloudSigma1Account(base)).toEqual([]);
    expect(validateCloudSigma1Account({ ...base, regions: ['wdc'], credentials: { password: 'secret-pw-1' } })).toEqual([
      expect.stringContaining('credentials.username is required'),
      expect.stringContaining('regions[0] is not a cloudsigma location (known: zrh, lvs)'),
    ]);
    const problems = validateCloudSigma1Account({ ...base, endpoint: 'not a url', options: { prices: 'secret-cheap' } });
    expect(problems).toEqual([expect.stringContaining('endpoint must be an absolute URL'), expect.stringContaining('options.prices must map size ids')]);
    expect(problems.join()).not.toContain('secret');
  });

  it('is registered, regional, zrh by default', async () => {
    expect(await loadProvider('cloudsigma')).toMatchObject({ name: 'cloudsigma', services: ['COMPUTE'], regional: true, defaultRegion: 'zrh' });
  });
});
