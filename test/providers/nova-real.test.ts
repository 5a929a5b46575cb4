/**
 * The `openstack` driver against a real Nova compute API (scripts/nova-fake.py: Debian's
 * python3-nova with the fake virt driver, behind the real keystonemiddleware). Needs the Debian
 * packages scripts/install-test-deps.sh installs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, NotFoundError } from '../../src/providers/errors.ts';
import { OPENSTACK_VARIANT, createNovaInstance } from '../../src/providers/openstack/nova/index.ts';
import type { ComputeDriver, ProviderInstance } from '../../src/providers/types.ts';
import { expectTypedError, pollUntil, uniqueName } from '../conformance/assertions.ts';
import { testComputeDriver } from '../conformance/compute.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { NOVA_DEMO_USER, startRealNova, type RealNova } from '../helpers/nova.ts';

const FAST = { retry: { baseDelayMs: 5, maxDelayMs: 20 } };
const waitFor = pollUntil({ intervalMs: 150, timeoutMs: 30_000 });

let nova: RealNova | undefined;
let starting: Promise<RealNova> | undefined;
/** one Nova for the whole file: it takes ~5 s to start */
const shared = () => (starting ??= startRealNova());

function keystoneDriver(n: RealNova): ProviderInstance {
  const credentials = {
    auth_url: n.keystoneUrl,
    username: NOVA_DEMO_USER.name,
    password: NOVA_DEMO_USER.password,
    project_name: NOVA_DEMO_USER.project,
    user_domain_name: 'Default',
    project_domain_name: 'Default',
  };
  const ctx = testDriverContext({ id: `real-nova-${uniqueName()}`, driver: 'openstack', regions: ['RegionOne'], credentials }, { region: 'RegionOne' });
  return createNovaInstance(ctx, OPENSTACK_VARIANT, FAST);
}

afterAll(async () => {
  await (await starting?.catch(() => undefined))?.close();
});

testComputeDriver({
  name: 'openstack (real Nova, fake virt driver)',
  async create() {
    nova = await shared();
    const instance = keystoneDriver(nova);
    return { driver: instance.compute!, cleanup: () => instance.close?.() ?? Promise.resolve() };
  },
  capabilities: ['getNodes', 'getImages', 'rebootNode', 'startNode', 'stopNode', 'listKeyPairs', 'getKeyPair', 'createKeyPair', 'importKeyPair', 'deleteKeyPair'],
  // why: the fixture Neutron has no auto-allocated topology; a server without a network boots fine
  createNodeInput: (sizes, images) => ({ name: uniqueName(), sizeId: sizes.find((s) => s.name === 'm1.tiny')!.id, imageId: images[0]!.id, ex: { networks: 'none' } }),
  waitFor,
  waitTimeoutMs: 30_000,
  missingNodeId: '00000000-dead-4bad-8bad-000000000000',
  missingImageId: '00000000-dead-4bad-8bad-000000000001',
  secrets: [NOVA_DEMO_USER.password],
});

describe('openstack: real Nova', () => {
  let instance: ProviderInstance;
  let driver: ComputeDriver;
  let n: RealNova;
  beforeAll(async () => {
    n = await shared();
    instance = keystoneDriver(n);
    driver = instance.compute!;
  }, 60_000);
  afterAll(async () => {
    await instance?.close?.();
  });

  it('sees a new server in BUILD, then ACTIVE; stops, starts and destroys it', { timeout: 60_000 }, async () => {
    const sizes = await driver.listSizes();
    const [image] = await driver.listImages();
    const node = await driver.createNode({ name: uniqueName(), sizeId: sizes.find((s) => s.name === 'm1.tiny')!.id, imageId: image!.id, ex: { networks: 'none', metadata: { suite: 'nova-real' } } });
    expect(node.state).toBe('pending');
    expect(node.extra.status).toBe('BUILD');
    const state = async () => (await driver.getNodes!([node.id]))[0]?.state;
    await waitFor(async () => (await state()) === 'running', 'ACTIVE');
    const active = (await driver.getNodes!([node.id]))[0]!;
    expect(active.extra).toMatchObject({ status: 'ACTIVE' });
    expect(active.tags).toEqual({ suite: 'nova-real' });
    await driver.stopNode!(node.id);
    await waitFor(async () => (await state()) === 'stopped', 'SHUTOFF');
    await driver.startNode!(node.id);
    await waitFor(async () => (await state()) === 'running', 'ACTIVE again');
    await driver.destroyNode(node.id);
    await waitFor(async () => (await state()) === undefined, 'gone');
    await expectTypedError(driver.destroyNode(node.id), NotFoundError);
  });

  it('is refused with a bad token (keystonemiddleware answers 401), and the token stays out of the error', async () => {
    const ctx = testDriverContext({ driver: 'openstack', endpoint: n.computeUrl, credentials: { token: 'gAAAAAB-not-a-valid-token-9z8y7x' } });
    const bad = createNovaInstance(ctx, OPENSTACK_VARIANT, FAST);
    try {
      const err = await expectTypedError(bad.compute!.listNodes(), AuthenticationError);
      expect(err.status).toBe(401);
      expect(err.message).not.toContain('gAAAAAB-not-a-valid-token-9z8y7x');
      expect(n.identityCalls).toContain('validate unknown');
    } finally {
      await bad.close?.();
    }
  });

  it('accepts the preset-token mode with a valid token', async () => {
    const ctx = testDriverContext({ driver: 'openstack', endpoint: n.computeUrl, credentials: { token: n.token } });
    const preset = createNovaInstance(ctx, OPENSTACK_VARIANT, FAST);
    try {
      expect((await preset.compute!.listSizes()).map((s) => s.name)).toContain('m1.tiny');
    } finally {
      await preset.close?.();
    }
  });
});
