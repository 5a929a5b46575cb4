import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConflictError,
  InvalidInputError,
  MalformedResponseError,
  NotFoundError,
  ProviderError,
} from '../../src/providers/errors.ts';
import { STANDARD_SIZES, sizePrice } from '../../src/providers/cloudsigma/common.ts';
import {
  CLOUDSIGMA2_REGIONS,
  createCloudSigma2Instance,
  NODE_STATE,
  parseCloudSigma2Error,
  validateCloudSigma2Account,
} from '../../src/providers/cloudsigma/v2/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, ComputeDriver, Node } from '../../src/providers/types.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { computeCapabilitiesExcept, opensshEd25519PublicKey, testComputeDriver } from '../conformance/compute.ts';
import { CLOUDSIGMA_FAST, CLOUDSIGMA_WAIT, cloudSigmaContext, cloudSigmaHarness, type CloudSigmaTarget } from '../helpers/cloudsigma.ts';
import { conformanceTarget, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { CS2_PASSWORD, CS2_USERNAME, startCs2Server, type Cs2ServerOptions, type Cs2TestServer } from '../helpers/cloudsigma2-server.ts';
import { startReplayServer } from '../helpers/replay-server.ts';

const CS2: CloudSigmaTarget = { driver: 'cloudsigma2', credentials: { username: CS2_USERNAME, password: CS2_PASSWORD }, create: createCloudSigma2Instance };
const MISSING = '00000000-0000-4000-8000-000000000000';
const WEB1 = '9b1f6a3e-2c4d-4e5f-8a7b-1c2d3e4f5a01';
const DB1 = '9b1f6a3e-2c4d-4e5f-8a7b-1c2d3e4f5a02';
const BUILD = '9b1f6a3e-2c4d-4e5f-8a7b-1c2d3e4f5a03';
const UBUNTU = '2a5f9c1e-7b3d-4e8a-9c0b-6d1e2f3a4b01';
const DEBIAN = '2a5f9c1e-7b3d-4e8a-9c0b-6d1e2f3a4b02';
const GIB = 1024 ** 3;

type Harness = DriverHarness<Cs2TestServer, ComputeDriver>;

const harness = async (opts: { server?: Cs2ServerOptions; account?: Partial<AccountConfig> } = {}): Promise<Harness> => cloudSigmaHarness(await startCs2Server(opts.server), CS2, opts.account);

let conformanceServer: Cs2TestServer | undefined;
testComputeDriver({
  name: 'cloudsigma2',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: computeCapabilitiesExcept(
    'createImage', 'deleteImage', 'copyImage', 'listVolumes', 'createVolume', 'attachVolume', 'detachVolume', 'destroyVolume',
    'listVolumeSnapshots', 'createVolumeSnapshot', 'destroyVolumeSnapshot', 'createKeyPair',
  ),
  ...CLOUDSIGMA_WAIT,
  missingNodeId: MISSING,
  missingImageId: MISSING,
  secrets: [CS2_PASSWORD, 'Fixture-VNC', 'FIXTURE-PRIVATE-KEY-MUST-NOT-LEAK', 'fixture-user-data-secret'],
});

describe('cloudsigma2: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run authenticated every request and left no server or drive behind', () => {
    const reqs = conformanceServer!.requests;
    expect(reqs.length).toBeGreaterThan(20);
    const basic = `Basic ${Buffer.from(`${CS2_USERNAME}:${CS2_PASSWORD}`).toString('base64')}`;
    expect(reqs.every((r) => r.headers.authorization === basic)).toBe(true);
    expect([...conformanceServer!.servers.keys()].sort()).toEqual([WEB1, DB1, BUILD].sort());
    expect(conformanceServer!.drives.size).toBe(2);
    // the cheapest size's 10 GB disk is larger than the 5 GiB image: the clone was grown before use
    expect(reqs.some((r) => r.path.endsWith('/action/') && r.query.get('do') === 'resize')).toBe(true);
  });

  it('maps servers: states, DHCP and static addresses, sizes, tags; never the VNC password or user data', async () => {
    const nodes = Object.fromEntries((await h.driver.listNodes()).map((n) => [n.name, n])) as Record<string, Node>;
    expect(nodes['web-1']).toMatchObject({ id: WEB1, state: 'running', publicIps: ['185.12.5.20'], privateIps: [], sizeId: 'small', locationId: 'zrh', tags: { env: 'prod', web: '' } });
    expect(nodes['web-1']!.extra).toMatchObject({ cpuMhz: 2000, smp: 1, memMib: 2048, activeSince: '2024-03-11T08:14:02+00:00', pubkeys: ['5a0e6c1d-2b3f-4c5d-8e9f-0a1b2c3d4e01'] });
    expect(nodes['db-1']).toMatchObject({ state: 'stopped', publicIps: ['185.12.5.30'], sizeId: 'medium', tags: {} });
    expect(nodes['build-agent']).toMatchObject({ state: 'running', publicIps: ['185.12.5.41', '2a02:ea0:1::41'], privateIps: [], sizeId: null, tags: { team: 'ci' } });
    const text = JSON.stringify(Object.values(nodes));
    expect(text).not.toContain('Fixture-VNC');
    expect(text).not.toContain('fixture-user-data-secret');
    expect(NODE_STATE).toEqual({ running: 'running', starting: 'starting', stopping: 'stopping', stopped: 'stopped', paused: 'paused', unavailable: 'unknown' });
  });

  it('lists any number of servers in two calls (servers/detail and tags, limit=0), never one per server', async () => {
    const template = h.server.servers.get(DB1)!;
    for (let i = 0; i < 60; i++) {
      const uuid = `aaaaaaaa-0000-4000-8000-${String(i).padStart(12, '0')}`;
      h.server.servers.set(uuid, { ...structuredClone(template), uuid, name: `bulk-${i}` });
    }
    h.ctx.resetCalls();
    const nodes = await h.driver.listNodes();
    expect(nodes).toHaveLength(63);
    expect(h.ctx.totalCalls()).toBe(2);
    expect([...h.ctx.calls.entries()].sort()).toEqual([['GET /servers/detail/', 1], ['GET /tags/', 1]]);
    expect(h.server.requests.map((r) => `${r.path}?${r.query.toString()}`).sort()).toEqual(['/api/2.0/servers/detail/?limit=0', '/api/2.0/tags/?limit=0']);
    h.ctx.resetCalls();
    expect((await h.driver.getNodes!([BUILD, MISSING, WEB1])).map((n) => n?.id ?? null)).toEqual([BUILD, null, WEB1]);
    expect(h.ctx.totalCalls()).toBe(2);
  });

  it('lists the disk library drives as images (CD-ROM installers left out) in one call', async () => {
    const images = await h.driver.listImages();
    expect(images.map((i) => i.name)).toEqual(['Ubuntu 22.04 LTS', 'Debian 12']);
    expect(images[0]!.extra).toMatchObject({ os: 'linux', arch: '64', media: 'disk', sizeBytes: 5 * GIB, sizeGb: 5, paid: false });
    expect((await h.driver.listImages({ name: 'Debian 12' })).map((i) => i.id)).toEqual([DEBIAN]);
    h.ctx.resetCalls();
    expect((await h.driver.getImages!([DEBIAN, MISSING, UBUNTU])).map((i) => i?.id ?? null)).toEqual([DEBIAN, null, UBUNTU]);
    expect(h.ctx.totalCalls()).toBe(1);
  });

  it('prices the standard sizes from /pricing/ at the account\'s current USD level; options.prices win', async () => {
    const sizes = await h.driver.listSizes();
    expect(sizes.map((s) => s.id)).toEqual(STANDARD_SIZES.map((s) => s.id));
    // current levels: cpu 1 (0.011), mem 1 (0.015), dssd 0 (0.146 / GB-month)
    const micro = sizes.find((s) => s.id === 'micro')!;
    expect(micro).toMatchObject({ ram: 1024, disk: 10, bandwidth: null, extra: { cpuMhz: 1000, smp: 1, priceSource: 'pricing' } });
    expect(micro.price).toBeCloseTo(0.011 + 0.015 + (10 * 0.146) / 730, 4);
    expect(sizes.find((s) => s.id === 'large')!.price).toBe(sizePrice(STANDARD_SIZES[3]!, { cpuGhzHour: 0.011, memGbHour: 0.015, diskGbMonth: 0.146 }));
    await h.close();
    h = await harness({ account: { options: { prices: { micro: 0.5 } } } });
    const priced = await h.driver.listSizes();
    expect(priced.find((s) => s.id === 'micro')).toMatchObject({ price: 0.5, extra: { priceSource: 'options.prices' } });
  });

  it('the location is the account region, one API endpoint', async () => {
    expect(await h.driver.listLocations()).toEqual([{ id: 'zrh', name: 'Zurich, Switzerland', country: 'CH', extra: { endpoint: 'https://zrh.cloudsigma.com/api/2.0/' } }]);
    expect(Object.keys(CLOUDSIGMA2_REGIONS)).toEqual(expect.arrayContaining(['zrh', 'lvs', 'wdc', 'sjc', 'hnl', 'mel', 'per', 'fra', 'tyo']));
  });

  it('creates a node: clones and grows the drive, reuses and creates tags, installs the key, starts the server', async () => {
    const node = await h.driver.createNode({
      name: 'app-7',
      sizeId: 'small',
      imageId: UBUNTU,
      locationId: 'zrh',
      keyName: 'ops',
      sshKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureSecondKey me@laptop',
      userData: '#cloud-config\npackages: [nginx]\n',
      tags: { env: 'prod', role: 'app' },
    });
    expect(node).toMatchObject({ name: 'app-7', sizeId: 'small', tags: { env: 'prod', role: 'app' }, locationId: 'zrh' });
    expect(['starting', 'running']).toContain(node.state);
    const def = h.server.created[0]!;
    const tagByName = new Map([...h.server.tags.values()].map((t) => [t.name, t.uuid]));
    expect(def).toMatchObject({
      name: 'app-7',
      cpu: 2000,
      smp: 1,
      mem: 2 * GIB,
      nics: [{ ip_v4_conf: { conf: 'dhcp', ip: null }, model: 'virtio' }],
      pubkeys: ['5a0e6c1d-2b3f-4c5d-8e9f-0a1b2c3d4e01'],
      tags: [tagByName.get('env=prod'), tagByName.get('role=app')],
      meta: { ssh_public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureSecondKey me@laptop', 'cloudinit-user-data': '#cloud-config\npackages: [nginx]\n' },
    });
    expect(typeof def.vnc_password).toBe('string');
    const driveUuid = ((def.drives as Record<string, unknown>[])[0]!.drive) as string;
    expect(h.server.drives.get(driveUuid)).toMatchObject({ name: 'app-7', size: 20 * GIB });
    // env=prod existed: only role=app was created, in one call
    const tagPosts = h.server.requests.filter((r) => r.method === 'POST' && r.path === '/api/2.0/tags/');
    expect(tagPosts.map((r) => JSON.parse(r.body.toString()) as unknown)).toEqual([{ objects: [{ name: 'role=app' }] }]);
    expect(JSON.stringify(node)).not.toContain(def.vnc_password as string);
  });

  it('refuses bad create input before cloning anything, naming the field', async () => {
    await expectTypedError(h.driver.createNode({ name: 'x', sizeId: 'huge', imageId: UBUNTU }), InvalidInputError, 'sizeId');
    await expectTypedError(h.driver.createNode({ name: 'x', sizeId: 'micro', imageId: UBUNTU, locationId: 'wdc' }), InvalidInputError, 'locationId');
    await expectTypedError(h.driver.createNode({ name: 'x', sizeId: 'micro', imageId: UBUNTU, keyName: 'nobody' }), InvalidInputError, 'keyName');
    await expectTypedError(h.driver.createNode({ name: 'x', sizeId: 'micro', imageId: UBUNTU, tags: { 'a=b': 'c' } }), InvalidInputError, 'tags.a=b');
    await expectTypedError(h.driver.createNode({ name: 'x', sizeId: 'micro', imageId: 'not a uuid', tags: { new: 'tag' } }), InvalidInputError, 'imageId');
    await expectTypedError(h.driver.createNode({ name: 'x', sizeId: 'micro', imageId: UBUNTU, sshKey: 'ssh-ed25519 AAAA\nvnc_password: x' }), InvalidInputError, 'sshKey');
    await expectTypedError(h.driver.createNode({ name: 'x', sizeId: 'micro', imageId: UBUNTU, ex: { meta: { a: 1 } } }), InvalidInputError, 'ex.meta');
    expect(h.server.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('removes the server and its cloned disk when the start fails', async () => {
    await h.close();
    h = await harness({ server: { failStart: { status: 402, type: 'billing', message: 'Not enough funds for 5 days of burst usage' } } });
    const err = await expectTypedError(h.driver.createNode({ name: 'broke', sizeId: 'micro', imageId: DEBIAN }), ProviderError);
    expect(err.message).toContain('402 billing: Not enough funds');
    expect(err.retryable).toBe(false);
    expect([...h.server.servers.values()].map((s) => s.name)).not.toContain('broke');
    expect([...h.server.drives.values()].map((d) => d.name)).not.toContain('broke');
  });

  it('destroys a running node: stops it, waits, deletes it with its disks', async () => {
    await h.driver.destroyNode(WEB1);
    expect(h.server.servers.has(WEB1)).toBe(false);
    expect(h.server.drives.has('0c4d1a62-8f0e-4b7e-9d1c-5a2f3e6b7c01')).toBe(false);
    const actions = h.server.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.query.toString()}`);
    expect(actions).toEqual(['POST do=stop', 'DELETE recurse=disks']);
  });

  it('destroys a node that is still starting once it runs', async () => {
    await h.close();
    // why: slow transitions, so the node is surely still starting when destroyNode begins
    h = await harness({ server: { transitionMs: 400 } });
    const node = await h.driver.createNode({ name: 'short-lived', sizeId: 'micro', imageId: DEBIAN });
    expect(h.server.servers.get(node.id)!.status).toBe('starting');
    await h.driver.destroyNode(node.id);
    expect(h.server.servers.has(node.id)).toBe(false);
    expect([...h.server.drives.values()].map((d) => d.name)).not.toContain('short-lived');
  });

  it('reboots softly with an ACPI shutdown and hard with a stop, then starts', async () => {
    await h.driver.rebootNode!(WEB1);
    await h.driver.rebootNode!(BUILD, { hard: true });
    const actions = h.server.requests.filter((r) => r.method === 'POST').map((r) => `${r.path.split('/')[4]} ${r.query.get('do')}`);
    expect(actions).toEqual([`${WEB1} shutdown`, `${WEB1} start`, `${BUILD} stop`, `${BUILD} start`]);
  });

  it('maps a start of a running server to ConflictError and an unknown id to NotFoundError', async () => {
    const err = await expectTypedError(h.driver.startNode!(WEB1), ConflictError);
    expect(err.message).toContain('Cannot start guest in state');
    await expectTypedError(h.driver.stopNode!(MISSING), NotFoundError);
  });

  it('key pairs: listed without private keys, imported once, deleted by name', async () => {
    const keys = await h.driver.listKeyPairs!();
    expect(keys.map((k) => k.name)).toEqual(['ops', 'generated-by-webapp']);
    expect(JSON.stringify(keys)).not.toContain('PRIVATE');
    expect(keys.every((k) => k.privateKey === undefined)).toBe(true);
    const publicKey = opensshEd25519PublicKey('ci@example.com');
    const imported = await h.driver.importKeyPair!('ci', publicKey);
    expect(imported).toMatchObject({ name: 'ci', publicKey });
    await expectTypedError(h.driver.importKeyPair!('ci', publicKey), ConflictError);
    await expectTypedError(h.driver.importKeyPair!('bad', 'not a key'), InvalidInputError, 'publicKey');
    await h.driver.deleteKeyPair!('ci');
    await expectTypedError(h.driver.deleteKeyPair!('ci'), NotFoundError);
    await expectTypedError(h.driver.getKeyPair!('ci'), NotFoundError);
  });

  it('answers 401 with AuthenticationError; the password is in no error, stack or log line', async () => {
    await h.close();
    const wrong = 'Wr0ng-password-that-leaks-1234';
    h = await harness({ server: { echoCredentials: true }, account: { credentials: { username: CS2_USERNAME, password: wrong } } });
    const err = await expectTypedError(h.driver.listNodes(), AuthenticationError);
    expect(err.message).toContain('permission');
    for (const text of [err.message, String(err.stack), JSON.stringify(h.ctx.logs)]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(Buffer.from(`${CS2_USERNAME}:${wrong}`).toString('base64'));
    }
    expect(err.message).toContain('[REDACTED]');
  });
});

describe('cloudsigma2: malformed answers and error bodies', () => {

  it('a listing without objects, or not JSON, is a MalformedResponseError', async () => {
    const replay = await startReplayServer([
      { method: 'GET', path: '/api/2.0/servers/detail/', times: 1, headers: { 'content-type': 'application/json' }, body: '{"meta": {"total_count": 0}}' },
      { method: 'GET', path: '/api/2.0/servers/detail/', times: 1, headers: { 'content-type': 'text/html' }, body: '<html>maintenance</html>' },
      { method: 'GET', path: '/api/2.0/tags/', headers: { 'content-type': 'application/json' }, body: '{"objects": []}' },
    ]);
    const instance = createCloudSigma2Instance(cloudSigmaContext(CS2, `${replay.url}/api/2.0/`), CLOUDSIGMA_FAST);
    try {
      await expectTypedError(instance.compute!.listNodes(), MalformedResponseError);
      await expectTypedError(instance.compute!.listNodes(), MalformedResponseError);
    } finally {
      await instance.close?.();
      await replay.close();
    }
  });

  it('maps the error list by type and status', () => {
    const info = (status: number, body: unknown) => ({ status, headers: {}, bodyText: JSON.stringify(body), operation: 'X' });
    const e = (type: string, message: string) => [{ error_point: null, error_type: type, error_message: message }];
    expect(parseCloudSigma2Error(info(404, e('notexist', 'Server x does not exist')))).toBeInstanceOf(NotFoundError);
    expect(parseCloudSigma2Error(info(403, e('permission', 'Cannot stop guest in state "stopped"')))).toBeInstanceOf(ConflictError);
    expect(parseCloudSigma2Error(info(403, e('permission', 'You do not have permission')))).toBeInstanceOf(AuthenticationError);
    const busy = parseCloudSigma2Error(info(409, e('concurrency', 'Object is being modified')))!;
    expect([busy.constructor.name, busy.retryable]).toEqual(['ProviderError', true]);
    const validation = parseCloudSigma2Error(info(400, [{ error_point: 'cpu', error_type: 'validation', error_message: 'Too low' }]))!;
    expect(validation.message).toBe('[cloudsigma2] X 400 validation: Too low (cpu)');
    expect(parseCloudSigma2Error(info(500, e('backend', 'unknown error')))!.retryable).toBe(true);
    expect(parseCloudSigma2Error(info(503, e('backend', 'maintenance')))).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(parseCloudSigma2Error({ status: 502, headers: {}, bodyText: '<html>bad gateway</html>', operation: 'X' })).toBeUndefined();
  });
});

describe('cloudsigma2: accounts and registry', () => {
  const base: AccountConfig = { id: 'cs', driver: 'cloudsigma2', regions: ['zrh'], credentials: { username: 'me@example.com', password: 'secret-pw-1' }, options: {}, pollIntervalMs: 1, timeoutMs: 1 };

  it('validates accounts naming fields, never values', () => {
    expect(validateCloudSigma2Account(base)).toEqual([]);
    const problems = validateCloudSigma2Account({ ...base, regions: ['zrh', 'atlantis'], credentials: { username: 'me:you', token: 'secret-tok' }, options: { prices: { tiny: 1 }, colour: 'secret-opt' } });
    expect(problems).toEqual([
      expect.stringContaining('credentials.password is required'),
      expect.stringContaining('credentials.username must not contain ":"'),
      expect.stringContaining('credentials.token is not a cloudsigma2 credential'),
      expect.stringContaining('regions[1] is not a cloudsigma2 location'),
      expect.stringContaining('options.prices.tiny is not a size id'),
      expect.stringContaining('options.colour is not a cloudsigma2 option'),
    ]);
    expect(problems.join()).not.toMatch(/secret|me:you|atlantis/);
    expect(validateCloudSigma2Account({ ...base, credentials: {} })).toEqual([expect.stringContaining('credentials.username is required'), expect.stringContaining('credentials.password is required')]);
    // with an endpoint, region names are the deployment's own
    expect(validateCloudSigma2Account({ ...base, regions: ['lab-1'], endpoint: 'https://cloud.example.net/api/2.0/' })).toEqual([]);
  });

  it('is registered, regional, zrh by default', async () => {
    const def = await loadProvider('cloudsigma2');
    expect(def).toMatchObject({ name: 'cloudsigma2', services: ['COMPUTE'], regional: true, defaultRegion: 'zrh' });
  });
});
