/**
 * `cloud: NAME` (options.cloud) for the drivers behind accountAuth (openstack, rackspace, octavia,
 * rackspace-clb): clouds.yaml + secure.yaml read on first use, against real HTTP Keystone routes.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.ts';
import { AuthenticationError, InvalidInputError, NotFoundError } from '../../src/providers/errors.ts';
import { OPENSTACK_VARIANT, RACKSPACE_VARIANT, createNovaInstance, validateNovaAccount } from '../../src/providers/openstack/nova/index.ts';
import { createOctaviaInstance, validateOctaviaAccount } from '../../src/providers/openstack/octavia/index.ts';
import { validateClbAccount } from '../../src/providers/rackspace/clb/index.ts';
import type { AccountConfig } from '../../src/providers/types.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { KEYSTONE_TEST_USER, OPENSTACK_TEST_TOKEN, startNovaServer, startOctaviaServer, type NovaTestServer, type OctaviaTestServer } from '../helpers/openstack-server.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';

const FAST = { retry: { baseDelayMs: 1, maxDelayMs: 5 } };
const WRONG_PASSWORD = 'Wr0ng-Passw0rd-from-clouds-yaml';

let dir: string;
const saved = { config: process.env.OS_CLIENT_CONFIG_FILE, secure: process.env.OS_CLIENT_SECURE_FILE };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sg-os-clouds-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  // why: each test writes its own files; a name no test writes makes a missing file explicit
  process.env.OS_CLIENT_CONFIG_FILE = join(dir, `clouds-${randomUUID()}.yaml`);
  process.env.OS_CLIENT_SECURE_FILE = join(dir, `secure-${randomUUID()}.yaml`);
});
afterEach(() => {
  for (const [key, value] of [['OS_CLIENT_CONFIG_FILE', saved.config], ['OS_CLIENT_SECURE_FILE', saved.secure]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** Writes clouds.yaml (without the password) and secure.yaml (with it) where the env points. */
async function writeClouds(authUrl: string, opts: { regionName?: string; password?: string; extraAuth?: string; interface?: string } = {}): Promise<void> {
  const region = opts.regionName ? `    region_name: ${opts.regionName}\n` : '';
  await writeFile(
    process.env.OS_CLIENT_CONFIG_FILE!,
    `clouds:\n  mycloud:\n${region}    interface: ${opts.interface ?? 'public'}\n    auth:\n      auth_url: ${authUrl}\n      username: ${KEYSTONE_TEST_USER.username}\n` +
      `      project_name: ${KEYSTONE_TEST_USER.project}\n      user_domain_name: Default\n      project_domain_name: Default\n${opts.extraAuth ?? ''}`,
  );
  await writeFile(process.env.OS_CLIENT_SECURE_FILE!, `clouds:\n  mycloud:\n    auth:\n      password: ${opts.password ?? KEYSTONE_TEST_USER.password}\n`);
}

/** A Keystone v3 password route answering a catalog of `services` (public unless they say) in `region`. */
async function startKeystone(services: { type: string; url: string; interface?: string }[], region: string): Promise<ReplayServer> {
  const keystone = await startReplayServer();
  keystone.route({
    method: 'POST',
    path: '/identity/v3/auth/tokens',
    body(req): { status: number; headers: Record<string, string>; body: string } {
      const auth = (JSON.parse(req.body.toString('utf8')) as { auth: { identity: { password?: { user?: { name?: string; password?: string } } } } }).auth;
      const user = auth.identity.password?.user;
      if (user?.name !== KEYSTONE_TEST_USER.username || user.password !== KEYSTONE_TEST_USER.password) {
        return { status: 401, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } }) };
      }
      const types = [...new Set(services.map((svc) => svc.type))];
      const catalog = types.map((type) => ({
        type,
        name: type,
        id: randomUUID(),
        endpoints: services.filter((svc) => svc.type === type).map((svc) => ({ id: randomUUID(), interface: svc.interface ?? 'public', region_id: region, region, url: svc.url })),
      }));
      const token = { methods: ['password'], expires_at: new Date(Date.now() + 3600_000).toISOString(), project: { id: 'p1', name: 'demo' }, catalog };
      return { status: 201, headers: { 'content-type': 'application/json', 'x-subject-token': OPENSTACK_TEST_TOKEN }, body: JSON.stringify({ token }) };
    },
  });
  return keystone;
}

const tokenRequests = (server: { requests: { method: string; path: string }[] }) => server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/auth/tokens')).length;

describe('openstack (Nova) with options.cloud', () => {
  let nova: NovaTestServer;
  beforeEach(async () => {
    nova = await startNovaServer();
  });
  afterEach(async () => {
    await nova.close();
  });

  it('authenticates from clouds.yaml + secure.yaml and lists nodes end to end', async () => {
    await writeClouds(`${nova.url}/identity/v3`, { regionName: 'RegionOne' });
    const ctx = testDriverContext({ driver: 'openstack', regions: ['RegionOne'], options: { cloud: 'mycloud' } }, { region: 'RegionOne' });
    expect(validateNovaAccount(ctx.account, OPENSTACK_VARIANT)).toEqual([]);
    const instance = createNovaInstance(ctx, OPENSTACK_VARIANT, FAST);
    try {
      const nodes = await instance.compute!.listNodes();
      expect(nodes.length).toBeGreaterThan(0);
      expect(nodes.every((n) => n.id && n.name)).toBe(true);
      await instance.compute!.listNodes();
      expect(tokenRequests(nova)).toBe(1);
      const computeCalls = nova.requests.filter((r) => r.path.includes('/compute/'));
      expect(computeCalls.length).toBeGreaterThan(0);
      expect(computeCalls.every((r) => r.headers['x-auth-token'] === OPENSTACK_TEST_TOKEN)).toBe(true);
      expect(nova.failures).toEqual([]);
    } finally {
      await instance.close?.();
    }
  });

  it('explicit credentials win over clouds.yaml values', async () => {
    await writeClouds(`${nova.url}/identity/v3`, { password: WRONG_PASSWORD });
    const wrong = createNovaInstance(testDriverContext({ driver: 'openstack', id: 'wrong-pw', regions: ['RegionOne'], options: { cloud: 'mycloud' } }, { region: 'RegionOne' }), OPENSTACK_VARIANT, FAST);
    const right = createNovaInstance(
      testDriverContext({ driver: 'openstack', id: 'right-pw', regions: ['RegionOne'], credentials: { password: KEYSTONE_TEST_USER.password }, options: { cloud: 'mycloud' } }, { region: 'RegionOne' }),
      OPENSTACK_VARIANT,
      FAST,
    );
    try {
      const err = await expectTypedError(wrong.compute!.listNodes(), AuthenticationError);
      expect(err.message).not.toContain(WRONG_PASSWORD);
      expect((await right.compute!.listNodes()).length).toBeGreaterThan(0);
    } finally {
      await wrong.close?.();
      await right.close?.();
    }
  });

  it('a failed read names options.cloud, quotes no secret, and is retried on the next call', async () => {
    const ctx = testDriverContext({ driver: 'openstack', regions: ['RegionOne'], options: { cloud: 'mycloud' } }, { region: 'RegionOne' });
    const instance = createNovaInstance(ctx, OPENSTACK_VARIANT, FAST);
    try {
      const missing = await expectTypedError(instance.compute!.listNodes(), InvalidInputError, 'options.cloud');
      expect(missing.message).toContain('mycloud');
      // a cloud whose credentials are incomplete fails after reading, naming fields only
      await writeClouds(`${nova.url}/identity/v3`, { extraAuth: '      token_typo: x\n' });
      const invalid = await expectTypedError(instance.compute!.listNodes(), InvalidInputError, 'credentials');
      expect(invalid.message).toContain('credentials.token_typo');
      expect(invalid.message).toContain('options.cloud');
      expect(invalid.message).not.toContain(KEYSTONE_TEST_USER.password);
      await writeClouds(`${nova.url}/identity/v3`);
      expect((await instance.compute!.listNodes()).length).toBeGreaterThan(0);
      expect(tokenRequests(nova)).toBe(1);
    } finally {
      await instance.close?.();
    }
  });

  it('uses the clouds.yaml region_name when the account names no region, and the named region otherwise', async () => {
    const keystone = await startKeystone([{ type: 'compute', url: nova.computeUrl }], 'RegionTwo');
    try {
      await writeClouds(`${keystone.url}/identity/v3`, { regionName: 'RegionTwo' });
      // the config loader gives an account without regions the provider's default, RegionOne
      const config = await validateConfig({ accounts: [{ id: 'via-cloud', driver: 'openstack', cloud: 'mycloud' }] }, '<test>', {});
      const account = config.accounts[0]!;
      expect(account.regions).toEqual(['RegionOne']);
      const defaulted = createNovaInstance(testDriverContext(account, { region: 'RegionOne' }), OPENSTACK_VARIANT, FAST);
      const named = createNovaInstance(testDriverContext({ ...account, id: 'named', regions: ['RegionThree'] }, { region: 'RegionThree' }), OPENSTACK_VARIANT, FAST);
      try {
        expect((await defaulted.compute!.listNodes()).length).toBeGreaterThan(0);
        const err = await expectTypedError(named.compute!.listNodes(), NotFoundError);
        expect(err.message).toContain('RegionThree');
      } finally {
        await defaulted.close?.();
        await named.close?.();
      }
      expect(keystone.failures).toEqual([]);
    } finally {
      await keystone.close();
    }
  });
});

describe('openstack (Nova) endpoint interface from clouds.yaml', () => {
  let nova: NovaTestServer;
  beforeEach(async () => {
    nova = await startNovaServer();
  });
  afterEach(async () => {
    await nova.close();
  });

  async function imagesThrough(services: { type: string; url: string; interface?: string }[]): Promise<string[]> {
    const keystone = await startKeystone(services, 'RegionOne');
    const instance = createNovaInstance(testDriverContext({ driver: 'openstack', regions: ['RegionOne'], options: { cloud: 'mycloud' } }, { region: 'RegionOne' }), OPENSTACK_VARIANT, FAST);
    try {
      await writeClouds(`${keystone.url}/identity/v3`, { regionName: 'RegionOne', interface: 'internal' });
      expect((await instance.compute!.listImages()).length).toBeGreaterThan(0);
      return nova.requests.map((r) => `${r.method} ${r.path}`);
    } finally {
      await instance.close?.();
      await keystone.close();
    }
  }

  it('takes Glance from the interface clouds.yaml names', async () => {
    const requests = await imagesThrough([
      { type: 'compute', url: nova.computeUrl, interface: 'internal' },
      { type: 'image', url: nova.imageUrl, interface: 'internal' },
      { type: 'image', url: `${nova.url}/public-glance-not-to-be-used`, interface: 'public' },
    ]);
    expect(requests).toContain('GET /image/v2/images');
    expect(requests.filter((r) => r.includes('public-glance'))).toEqual([]);
  });

  it('falls back to the public Glance when the catalog has none on that interface', async () => {
    const requests = await imagesThrough([
      { type: 'compute', url: nova.computeUrl, interface: 'internal' },
      { type: 'image', url: nova.imageUrl, interface: 'public' },
    ]);
    expect(requests).toContain('GET /image/v2/images');
    expect(nova.failures).toEqual([]);
  });
});

describe('octavia with options.cloud', () => {
  let octavia: OctaviaTestServer;
  let keystone: ReplayServer;
  beforeEach(async () => {
    octavia = await startOctaviaServer();
    // why: catalogs list Octavia with its version; the driver strips it
    keystone = await startKeystone([{ type: 'load-balancer', url: `${octavia.url}/v2` }], 'RegionOne');
  });
  afterEach(async () => {
    await octavia.close();
    await keystone.close();
  });

  it('authenticates from clouds.yaml + secure.yaml and lists load balancers end to end', async () => {
    await writeClouds(`${keystone.url}/identity/v3`, { regionName: 'RegionOne' });
    const ctx = testDriverContext({ driver: 'octavia', regions: ['RegionOne'], options: { cloud: 'mycloud' } }, { region: 'RegionOne' });
    expect(validateOctaviaAccount(ctx.account)).toEqual([]);
    const instance = createOctaviaInstance(ctx, FAST);
    try {
      const balancers = await instance.loadBalancer!.listBalancers();
      expect(balancers.length).toBeGreaterThan(0);
      expect(tokenRequests(keystone)).toBe(1);
      const lbCalls = octavia.requests.filter((r) => r.path.startsWith('/v2/'));
      expect(lbCalls.length).toBeGreaterThan(0);
      expect(lbCalls.every((r) => r.headers['x-auth-token'] === OPENSTACK_TEST_TOKEN)).toBe(true);
      expect(octavia.failures).toEqual([]);
      expect(keystone.failures).toEqual([]);
    } finally {
      await instance.close?.();
    }
  });

  it('a missing cloud is an InvalidInputError on options.cloud', async () => {
    await writeClouds(`${keystone.url}/identity/v3`);
    const ctx = testDriverContext({ driver: 'octavia', regions: ['RegionOne'], options: { cloud: 'othercloud' } }, { region: 'RegionOne' });
    const instance = createOctaviaInstance(ctx, FAST);
    try {
      const err = await expectTypedError(instance.loadBalancer!.listBalancers(), InvalidInputError, 'options.cloud');
      expect(err.message).toContain('othercloud');
      expect(err.message).not.toContain(KEYSTONE_TEST_USER.password);
      expect(tokenRequests(keystone)).toBe(0);
    } finally {
      await instance.close?.();
    }
  });
});

describe('validators and config with options.cloud', () => {
  const account = (driver: string, extra: Partial<AccountConfig> = {}): AccountConfig => ({
    id: 'a', driver, regions: [], credentials: {}, endpoint: undefined, options: {}, pollIntervalMs: 5000, timeoutMs: 30_000, ...extra,
  });

  it('accept cloud without credentials, and still check credentials without it', () => {
    expect(validateNovaAccount(account('openstack', { regions: ['RegionOne'], options: { cloud: 'mycloud' } }), OPENSTACK_VARIANT)).toEqual([]);
    expect(validateNovaAccount(account('rackspace', { regions: ['DFW'], options: { cloud: 'rax' } }), RACKSPACE_VARIANT)).toEqual([]);
    expect(validateOctaviaAccount(account('octavia', { regions: ['RegionOne'], options: { cloud: 'mycloud' } }))).toEqual([]);
    expect(validateClbAccount(account('rackspace-clb', { regions: ['DFW'], options: { cloud: 'rax' } }))).toEqual([]);
    expect(validateNovaAccount(account('openstack', { regions: ['RegionOne'] }), OPENSTACK_VARIANT)).toEqual([expect.stringContaining('credentials.token'), expect.stringContaining('endpoint')]);
    expect(validateClbAccount(account('rackspace-clb', { regions: ['DFW'] }))).toEqual([expect.stringContaining('credentials.token')]);
  });

  it('reject an empty or non-string cloud', () => {
    expect(validateNovaAccount(account('openstack', { regions: ['RegionOne'], options: { cloud: '' } }), OPENSTACK_VARIANT)).toEqual([expect.stringContaining('options.cloud')]);
    expect(validateOctaviaAccount(account('octavia', { regions: ['RegionOne'], options: { cloud: 5 } }))).toEqual([expect.stringContaining('options.cloud')]);
    expect(validateClbAccount(account('rackspace-clb', { regions: ['DFW'], options: { cloud: ' ' } }))).toEqual([expect.stringContaining('options.cloud')]);
  });

  it('validateConfig accepts a `cloud:` account for openstack, octavia and rackspace-clb', async () => {
    const config = await validateConfig(
      {
        accounts: [
          { id: 'os', driver: 'openstack', cloud: 'mycloud' },
          { id: 'lb', driver: 'octavia', cloud: 'mycloud' },
          { id: 'clb', driver: 'rackspace-clb', region: 'DFW', cloud: 'rax' },
        ],
      },
      '<test>',
      {},
    );
    expect(config.accounts.map((a) => [a.id, a.options.cloud, a.regions])).toEqual([
      ['os', 'mycloud', ['RegionOne']],
      ['lb', 'mycloud', ['RegionOne']],
      ['clb', 'rax', ['DFW']],
    ]);
  });
});
