/**
 * The azure compute driver against a stateful ARM stand-in (test/helpers/azure-arm-server.ts,
 * seeded from fixtures/azure-arm) that checks tokens, api-versions, paths and bodies: the compute
 * conformance suite, then listing cost, mapping, create bodies, Entra ID tokens (form, cache,
 * refresh before expiry and on 401), throttling, long-running operations, error mapping and
 * account validation.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateArmAccount } from '../../src/providers/azure/arm/account.ts';
import { azureAdTokenSource } from '../../src/providers/azure/arm/auth.ts';
import { createArmClient, parseArmError } from '../../src/providers/azure/arm/client.ts';
import { azureProvider, validateAzureAccount } from '../../src/providers/azure/arm/index.ts';
import {
  AuthenticationError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
} from '../../src/providers/errors.ts';
import type { AccountConfig, ComputeDriver, CreateNodeInput } from '../../src/providers/types.ts';
import { expectTypedError, pollUntil, uniqueName } from '../conformance/assertions.ts';
import { defaultNodeInput, opensshEd25519PublicKey, testComputeDriver } from '../conformance/compute.ts';
import {
  ARM_CLIENT_ID,
  ARM_CLIENT_SECRET,
  ARM_RG,
  ARM_SUBNET,
  ARM_SUBSCRIPTION,
  ARM_TENANT,
  startArmServer,
  type ArmServerOptions,
  type ArmTestServer,
} from '../helpers/azure-arm-server.ts';
import { testDriverContext, type TestDriverContext } from '../helpers/driver-context.ts';

const VM = (name: string, rg = ARM_RG) => `/subscriptions/${ARM_SUBSCRIPTION}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
const UBUNTU = 'Canonical:ubuntu-24_04-lts:server:latest';

function azureAccount(server: ArmTestServer, over: Partial<AccountConfig> = {}): Partial<AccountConfig> & { driver: string } {
  return {
    driver: 'azure',
    regions: ['eastus'],
    endpoint: server.url,
    credentials: { tenantId: ARM_TENANT, clientId: ARM_CLIENT_ID, clientSecret: ARM_CLIENT_SECRET },
    options: { subscriptionId: ARM_SUBSCRIPTION, loginEndpoint: server.url, resourceGroup: ARM_RG, subnetId: ARM_SUBNET, operationPollMs: 0 },
    ...over,
  };
}

function azureDriver(server: ArmTestServer, over: Partial<AccountConfig> = {}) {
  const ctx = testDriverContext(azureAccount(server, over), { region: 'eastus' });
  const instance = azureProvider.create(ctx);
  return { ctx, driver: instance.compute!, close: () => instance.close?.() ?? Promise.resolve() };
}

testComputeDriver({
  name: 'azure (recorded ARM)',
  capabilities: ['getNodes', 'getImages', 'rebootNode', 'startNode', 'stopNode'],
  async create() {
    const server = await startArmServer();
    const { driver, close } = azureDriver(server);
    return {
      driver,
      cleanup: async () => {
        await close();
        await server.close();
        expect(server.failures).toEqual([]);
      },
    };
  },
  createNodeInput: (sizes, images, locations) => ({ ...defaultNodeInput(sizes, images, locations), sshKey: opensshEd25519PublicKey('conformance@skygraph') }),
  waitFor: pollUntil({ intervalMs: 20, timeoutMs: 5000 }),
  missingNodeId: VM('no-such-vm'),
  missingImageId: `/subscriptions/${ARM_SUBSCRIPTION}/resourceGroups/${ARM_RG}/providers/Microsoft.Compute/images/no-such-image`,
  secrets: [ARM_CLIENT_SECRET],
});

describe('azure: driver details', () => {
  let server: ArmTestServer;
  let ctx: TestDriverContext;
  let driver: ComputeDriver;
  let close: () => Promise<void>;
  const start = async (serverOpts: ArmServerOptions = {}, over: Partial<AccountConfig> = {}) => {
    server = await startArmServer(serverOpts);
    ({ ctx, driver, close } = azureDriver(server, over));
  };
  const input = (over: Partial<CreateNodeInput> = {}): CreateNodeInput => ({
    name: uniqueName('vm'),
    sizeId: 'Standard_B1s',
    imageId: UBUNTU,
    sshKey: opensshEd25519PublicKey('ops@skygraph'),
    ...over,
  });

  afterEach(async () => {
    await close?.();
    await server?.close();
    expect(server.failures).toEqual([]);
  });

  it('lists the region\'s VMs with states, addresses, sizes, images and tags from three list calls', async () => {
    await start();
    const nodes = await driver.listNodes();
    expect(nodes.map((n) => n.name).sort()).toEqual(['batch-7', 'web-1']);
    const web = nodes.find((n) => n.name === 'web-1')!;
    expect(web).toMatchObject({
      id: VM('web-1'),
      state: 'running',
      publicIps: ['20.62.133.17'],
      privateIps: ['10.20.1.4'],
      sizeId: 'Standard_B2s',
      imageId: 'Canonical:ubuntu-24_04-lts:server:latest',
      locationId: 'eastus',
      tags: { env: 'prod', role: 'web' },
      extra: { resourceGroup: ARM_RG, powerState: 'running', osType: 'Linux', zones: ['1'] },
    });
    expect(web.createdAt?.toISOString()).toBe('2025-11-03T09:12:44.123Z');
    const batch = nodes.find((n) => n.name === 'batch-7')!;
    expect(batch).toMatchObject({
      state: 'stopped',
      publicIps: [],
      privateIps: ['10.20.1.9', '10.20.1.10'],
      imageId: `/subscriptions/${ARM_SUBSCRIPTION}/resourceGroups/${ARM_RG}/providers/Microsoft.Compute/images/batch-golden`,
      tags: {},
    });
    // 3 VMs, 3 NICs and 3 public IPs at 2 per page: one call per page, plus the token
    expect(Object.fromEntries(ctx.calls)).toEqual({ GetToken: 1, ListVirtualMachines: 2, ListNetworkInterfaces: 2, ListPublicIPAddresses: 2 });
  });

  it('costs the same number of calls for 40 more VMs (one per page, not one per VM)', async () => {
    await start({ pageSize: 100 });
    await driver.listNodes();
    const before = ctx.totalCalls();
    server.addVms(40);
    ctx.resetCalls();
    const nodes = await driver.listNodes();
    expect(nodes.length).toBe(42);
    expect(ctx.totalCalls()).toBe(3);
    expect(before).toBe(4);
    expect(await driver.getNodes!([VM('bulk-7'), VM('nope'), VM('web-1').toUpperCase()])).toMatchObject([{ name: 'bulk-7' }, null, { name: 'web-1' }]);
    expect(ctx.totalCalls()).toBe(6);
  });

  it('follows nextLink to the end', async () => {
    await start({ pageSize: 1 });
    server.addVms(4);
    expect((await driver.listNodes()).length).toBe(6);
    expect(ctx.calls.get('ListVirtualMachines')).toBe(7);
    const lists = server.requests.filter((r) => r.path.endsWith('/Microsoft.Compute/virtualMachines'));
    expect(lists.map((r) => r.query.get('$skiptoken'))).toEqual([null, '1', '2', '3', '4', '5', '6']);
    expect(lists.every((r) => r.query.get('statusOnly') === 'true' && r.query.get('api-version') === '2024-07-01')).toBe(true);
  });

  it('lists managed images of the region and the marketplace catalog, and sizes and physical locations', async () => {
    await start();
    const custom = azureDriver(server, { options: { ...azureAccount(server).options, marketplaceImages: [UBUNTU] } });
    const images = await custom.driver.listImages();
    await custom.close();
    expect((await driver.listImages()).length).toBe(6);
    expect(images.map((i) => i.id)).toEqual([`/subscriptions/${ARM_SUBSCRIPTION}/resourceGroups/${ARM_RG}/providers/Microsoft.Compute/images/batch-golden`, UBUNTU]);
    expect(images[1]).toMatchObject({ extra: { source: 'marketplace', publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' } });
    expect((await driver.listImages({ owner: 'self' })).map((i) => i.name)).toEqual(['batch-golden']);
    const sizes = await driver.listSizes();
    expect(sizes.find((s) => s.id === 'Standard_B2s')).toMatchObject({ ram: 4096, disk: 8, price: null, bandwidth: null, extra: { cores: 2 } });
    const locations = await driver.listLocations();
    expect(locations.map((l) => [l.id, l.name, l.country])).toEqual([
      ['eastus', 'East US', 'US'],
      ['westeurope', 'West Europe', 'NL'],
      ['japaneast', 'Japan East', 'JP'],
    ]);
  });

  it('creates a VM that makes its own NIC and public IP, deleted with it, with tags, key and custom data', async () => {
    await start();
    const node = await driver.createNode(input({ name: 'api-1', userData: '#cloud-config\n', tags: { team: 'core' }, ex: { tags: { team: 'x', cost: 'a1' }, zone: '2' } }));
    expect(node).toMatchObject({ id: VM('api-1'), name: 'api-1', state: 'pending', sizeId: 'Standard_B1s', imageId: UBUNTU, tags: { team: 'core', cost: 'a1' } });
    const body = server.created[0]!;
    expect(body).toMatchObject({
      location: 'eastus',
      zones: ['2'],
      tags: { team: 'core', cost: 'a1' },
      properties: {
        storageProfile: { imageReference: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' }, osDisk: { deleteOption: 'Delete' } },
        osProfile: { adminUsername: 'azureuser', customData: Buffer.from('#cloud-config\n').toString('base64'), linuxConfiguration: { disablePasswordAuthentication: true } },
        networkProfile: {
          networkInterfaceConfigurations: [
            { name: 'api-1-nic', properties: { deleteOption: 'Delete', ipConfigurations: [{ properties: { subnet: { id: ARM_SUBNET }, publicIPAddressConfiguration: { properties: { deleteOption: 'Delete' } } } }] } },
          ],
        },
      },
    });
    await pollUntil({ intervalMs: 20, timeoutMs: 3000 })(async () => (await driver.getNodes!([node.id]))[0]?.state === 'running', 'running');
    const [running] = await driver.getNodes!([node.id]);
    expect(running!.publicIps.length).toBe(1);
    expect(running!.privateIps.length).toBe(1);
    await driver.destroyNode(node.id);
    await pollUntil({ intervalMs: 20, timeoutMs: 3000 })(async () => (await driver.getNodes!([node.id]))[0] === null, 'gone');
    expect([...server.publicIps.keys()].some((k) => k.endsWith('/api-1-ip'))).toBe(false);
  });

  it('creates without a public IP when asked, and refuses to overwrite an existing VM', async () => {
    await start();
    await driver.createNode(input({ name: 'private-1', ex: { publicIp: false } }));
    const config = (server.created[0]!.properties as { networkProfile: { networkInterfaceConfigurations: { properties: { ipConfigurations: { properties: object }[] } }[] } })
      .networkProfile.networkInterfaceConfigurations[0]!.properties.ipConfigurations[0]!.properties;
    expect(config).not.toHaveProperty('publicIPAddressConfiguration');
    await expectTypedError(driver.createNode(input({ name: 'web-1' })), ConflictError);
  });

  it('checks create input before calling ARM, and maps ARM\'s InvalidParameter to InvalidInputError', async () => {
    await start();
    ctx.resetCalls();
    await expectTypedError(driver.createNode(input({ sshKey: undefined })), InvalidInputError, 'sshKey');
    await expectTypedError(driver.createNode(input({ imageId: 'ubuntu' })), InvalidInputError, 'imageId');
    await expectTypedError(driver.createNode(input({ name: 'bad name!' })), InvalidInputError, 'name');
    await expectTypedError(driver.createNode(input({ keyName: 'mine' })), InvalidInputError, 'keyName');
    await expectTypedError(driver.createNode(input({ ex: { subnetId: 42 } })), InvalidInputError, 'ex.subnetId');
    await expectTypedError(driver.destroyNode('web-1'), InvalidInputError, 'id');
    await expectTypedError(driver.createNode(input({ locationId: 'westeurope' })), InvalidInputError, 'locationId');
    expect(ctx.totalCalls()).toBe(0);
    const err = await expectTypedError(driver.createNode(input({ sizeId: 'Standard_Nope' })), InvalidInputError, 'vmSize');
    expect(err.message).toMatch(/^\[azure\] CreateVirtualMachine 400 InvalidParameter: The value Standard_Nope/);
    const noGroup = azureDriver(server, { options: { subscriptionId: ARM_SUBSCRIPTION, loginEndpoint: server.url } });
    await expectTypedError(noGroup.driver.createNode(input()), InvalidInputError, 'options.resourceGroup');
    await noGroup.close();
  });

  it('deallocates on stopNode, powers off with ex.powerOff, and restarts only a running VM', async () => {
    await start();
    const wait = pollUntil({ intervalMs: 20, timeoutMs: 3000 });
    const state = async () => (await driver.getNodes!([VM('web-1')]))[0]!.state;
    await driver.stopNode!(VM('web-1'));
    await wait(async () => (await state()) === 'stopped', 'stopped');
    expect((await driver.getNodes!([VM('web-1')]))[0]!.extra.powerState).toBe('deallocated');
    await expectTypedError(driver.rebootNode!(VM('web-1')), ConflictError);
    await driver.startNode!(VM('web-1'));
    await wait(async () => (await state()) === 'running', 'running');
    await driver.ex!.powerOff!(VM('web-1') as never);
    await wait(async () => (await state()) === 'stopped', 'stopped');
    expect((await driver.getNodes!([VM('web-1')]))[0]!.extra.powerState).toBe('stopped');
    const actions = server.requests.filter((r) => r.method === 'POST' && r.path.includes('/virtualMachines/')).map((r) => r.path.split('/').pop());
    expect(actions).toEqual(['deallocate', 'restart', 'start', 'powerOff']);
  });

  it('answers NotFoundError for VMs of another subscription without calling ARM', async () => {
    await start();
    ctx.resetCalls();
    await expectTypedError(driver.startNode!(VM('web-1').replace(ARM_SUBSCRIPTION, '00000000-0000-0000-0000-000000000000')), NotFoundError);
    expect(ctx.totalCalls()).toBe(0);
  });
});

describe('azure: Entra ID tokens', () => {
  let server: ArmTestServer;
  beforeEach(async () => {
    server = await startArmServer({ tokenLifetime: 3600 });
  });
  afterEach(async () => {
    await server.close();
  });

  it('posts the client-credentials form once and reuses the token until shortly before it expires', async () => {
    const { ctx, driver, close } = azureDriver(server);
    try {
      ctx.clock.set(Date.parse('2026-01-01T00:00:00Z'));
      await driver.listLocations();
      await driver.listSizes();
      await Promise.all([driver.listLocations(), driver.listLocations()]);
      expect(ctx.calls.get('GetToken')).toBe(1);
      const form = server.tokenForms[0]!;
      expect(Object.fromEntries(form)).toEqual({
        grant_type: 'client_credentials',
        client_id: ARM_CLIENT_ID,
        client_secret: ARM_CLIENT_SECRET,
        scope: 'https://management.azure.com/.default',
      });
      ctx.clock.advance(54 * 60_000);
      await driver.listLocations();
      expect(ctx.calls.get('GetToken')).toBe(1);
      ctx.clock.advance(2 * 60_000);
      await driver.listLocations();
      expect(ctx.calls.get('GetToken')).toBe(2);
      const bearers = server.requests.filter((r) => r.path.endsWith('/locations')).map((r) => r.headers.authorization);
      expect(new Set(bearers).size).toBe(2);
    } finally {
      await close();
    }
    expect(server.failures).toEqual([]);
  });

  it('fetches a new token once when ARM answers 401, and goes on', async () => {
    const { ctx, driver, close } = azureDriver(server);
    try {
      await driver.listLocations();
      server.revokeTokens();
      expect((await driver.listLocations()).length).toBe(3);
      expect(ctx.calls.get('GetToken')).toBe(2);
      expect(ctx.calls.get('ListLocations')).toBe(3);
    } finally {
      await close();
    }
  });

  it('maps a refused client secret to AuthenticationError without the secret', async () => {
    const wrongSecret = 'Wr0ng~Secret.Value_0123456789abcdefghij';
    const { driver, close } = azureDriver(server, { credentials: { tenantId: ARM_TENANT, clientId: ARM_CLIENT_ID, clientSecret: wrongSecret } });
    try {
      const err = await expectTypedError(driver.listNodes(), AuthenticationError);
      expect(err.message).toMatch(/^\[azure\] GetToken 401 invalid_client: AADSTS7000215: Invalid client secret provided/);
      expect(err.message).not.toContain('Trace ID');
      for (const text of [err.message, String(err.stack), JSON.stringify(err)]) {
        expect(text).not.toContain(wrongSecret);
        expect(text).not.toContain(ARM_CLIENT_SECRET);
      }
    } finally {
      await close();
    }
  });

  it('names an unknown tenant as an authentication failure', async () => {
    const { driver, close } = azureDriver(server, { credentials: { tenantId: 'contoso.onmicrosoft.com', clientId: ARM_CLIENT_ID, clientSecret: ARM_CLIENT_SECRET } });
    try {
      const err = await expectTypedError(driver.listLocations(), AuthenticationError);
      expect(err.message).toContain('AADSTS90002');
    } finally {
      await close();
    }
  });

  it('takes the service principal from AZURE_* variables when the account has none', () => {
    const account = { id: 'a', driver: 'azure', regions: ['eastus'], credentials: {}, options: {}, pollIntervalMs: 1, timeoutMs: 1 };
    const env = { AZURE_TENANT_ID: ARM_TENANT, AZURE_CLIENT_ID: ARM_CLIENT_ID, AZURE_CLIENT_SECRET: 'x', AZURE_SUBSCRIPTION_ID: ARM_SUBSCRIPTION };
    expect(validateArmAccount(account, env)).toEqual([]);
    expect(validateArmAccount(account, {})).toEqual([
      'credentials.tenantId is required (or AZURE_TENANT_ID)',
      'credentials.clientId is required (or AZURE_CLIENT_ID)',
      'credentials.clientSecret is required (or AZURE_CLIENT_SECRET)',
      'options.subscriptionId is required (or AZURE_SUBSCRIPTION_ID)',
    ]);
  });

  it('shares one token request among concurrent callers and drops a token on invalidate()', async () => {
    const calls: string[] = [];
    const source = azureAdTokenSource({
      provider: 'azure',
      loginEndpoint: new URL(server.url),
      principal: { tenantId: ARM_TENANT, clientId: ARM_CLIENT_ID, clientSecret: ARM_CLIENT_SECRET },
      scope: 'https://management.azure.com/.default',
      recordCall: (op) => calls.push(op),
      now: () => new Date(),
    });
    try {
      const [a, b] = await Promise.all([source.token(new Date()), source.token(new Date())]);
      expect(a).toBe(b);
      source.invalidate!();
      expect(await source.token(new Date())).not.toBe(a);
      expect(calls).toEqual(['GetToken', 'GetToken']);
    } finally {
      await source.close();
    }
  });
});

describe('azure: throttling and long-running operations', () => {
  let server: ArmTestServer;
  afterEach(async () => {
    await server.close();
  });

  const armClient = (s: ArmTestServer) => {
    const calls: string[] = [];
    const tokens = azureAdTokenSource({
      provider: 'azure',
      loginEndpoint: new URL(s.url),
      principal: { tenantId: ARM_TENANT, clientId: ARM_CLIENT_ID, clientSecret: ARM_CLIENT_SECRET },
      scope: 'https://management.azure.com/.default',
      recordCall: (op) => calls.push(op),
      now: () => new Date(),
    });
    const arm = createArmClient({ provider: 'azure', endpoint: new URL(s.url), tokens, recordCall: (op) => calls.push(op), now: () => new Date(), pollIntervalMs: 0 });
    return { arm, calls, close: () => Promise.all([arm.close(), tokens.close()]) };
  };

  it('retries a 429 after Retry-After and answers RateLimitedError with retryAfterMs when throttling goes on', async () => {
    server = await startArmServer();
    const { ctx, driver, close } = azureDriver(server);
    try {
      await driver.listLocations();
      server.throttle(1, 0);
      expect((await driver.listLocations()).length).toBe(3);
      server.throttle(10, 0);
      const err = await expectTypedError(driver.listLocations(), RateLimitedError);
      expect(err.retryAfterMs).toBe(0);
      expect(err.message).toMatch(/^\[azure\] ListLocations 429 TooManyRequests: The request is being throttled/);
      expect(ctx.calls.get('ListLocations')).toBe(1 + 2 + 4);
    } finally {
      await close();
    }
  });

  it('polls Azure-AsyncOperation until the operation succeeds', async () => {
    server = await startArmServer({ transitionMs: 120 });
    const { arm, calls, close } = armClient(server);
    try {
      const res = await arm.request({ operation: 'Deallocate', method: 'POST', path: `${VM('web-1').slice(1)}/deallocate`, apiVersion: '2024-07-01', responseType: 'none' });
      expect(res.status).toBe(202);
      await arm.waitFor('Deallocate', res);
      expect(calls.filter((c) => c === 'Deallocate (status)').length).toBeGreaterThan(1);
      const vm = server.vms.get(VM('web-1').toLowerCase()) as { properties: { instanceView: { statuses: { code: string }[] } } };
      expect(vm.properties.instanceView.statuses.map((s) => s.code)).toContain('PowerState/deallocated');
    } finally {
      await close();
    }
    expect(server.failures).toEqual([]);
  });

  it('follows a Location header when there is no Azure-AsyncOperation', async () => {
    server = await startArmServer({ transitionMs: 60, lroStyle: 'location' });
    const { arm, close } = armClient(server);
    try {
      const res = await arm.request({ operation: 'Start', method: 'POST', path: `${VM('batch-7').slice(1)}/start`, apiVersion: '2024-07-01', responseType: 'none' });
      expect(res.headers['azure-asyncoperation']).toBeUndefined();
      await arm.waitFor('Start', res);
      expect(server.requests.some((r) => r.path.includes('/operationResults/'))).toBe(true);
      const vm = server.vms.get(VM('batch-7').toLowerCase()) as { properties: { instanceView: { statuses: { code: string }[] } } };
      expect(vm.properties.instanceView.statuses.map((s) => s.code)).toContain('PowerState/running');
    } finally {
      await close();
    }
  });
});

describe('azure: ARM error bodies', () => {
  const info = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    headers: { 'content-type': 'application/json', ...headers },
    bodyText: JSON.stringify(body),
    operation: 'GetVirtualMachine',
    requestId: 'req-9',
  });
  const now = new Date('2026-01-01T00:00:00Z');

  it('maps codes and statuses to typed errors', () => {
    expect(parseArmError(info(404, { error: { code: 'ResourceGroupNotFound', message: "Resource group 'x' could not be found." } }), 'azure', now)).toBeInstanceOf(NotFoundError);
    expect(parseArmError(info(403, { error: { code: 'AuthorizationFailed', message: 'no access' } }), 'azure', now)).toBeInstanceOf(AuthenticationError);
    const conflict = parseArmError(info(409, { error: { code: 'AnotherOperationInProgress', message: 'busy' } }), 'azure', now);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict.retryable).toBe(true);
    const invalid = parseArmError(info(400, { error: { code: 'InvalidParameter', message: 'bad', target: 'adminUsername' } }), 'azure', now);
    expect(invalid).toMatchObject({ field: 'adminUsername', requestId: 'req-9' });
    const throttled = parseArmError(info(429, { error: { code: 'TooManyRequests', message: 'slow down' } }, { 'retry-after': '17' }), 'azure', now);
    expect(throttled).toBeInstanceOf(RateLimitedError);
    expect((throttled as RateLimitedError).retryAfterMs).toBe(17_000);
    const server = parseArmError(info(500, { error: { code: 'InternalServerError', message: 'oops' } }), 'azure', now);
    expect(server).toBeInstanceOf(ProviderError);
    expect(server.retryable).toBe(true);
    expect(server.message).toBe('[azure] GetVirtualMachine 500 InternalServerError: oops');
    const unavailable = parseArmError(info(503, { error: { code: 'ServiceUnavailable', message: 'try later' } }), 'azure', now);
    expect(unavailable).toMatchObject({ code: 'UNAVAILABLE', status: 503, retryable: true, requestId: 'req-9' });
  });
});

describe('azure: account validation', () => {
  const account = (options: Record<string, unknown>, over: Partial<AccountConfig> = {}): AccountConfig => ({
    id: 'a',
    driver: 'azure',
    regions: ['eastus'],
    credentials: { tenantId: ARM_TENANT, clientId: ARM_CLIENT_ID, clientSecret: ARM_CLIENT_SECRET },
    options: { subscriptionId: ARM_SUBSCRIPTION, ...options },
    pollIntervalMs: 1,
    timeoutMs: 1,
    ...over,
  });

  it('accepts a complete account', () => {
    expect(validateAzureAccount(account({ resourceGroup: ARM_RG, subnetId: ARM_SUBNET, marketplaceImages: [UBUNTU], publicIp: false }), {})).toEqual([]);
  });

  it('names each bad field without echoing values', () => {
    const problems = validateAzureAccount(
      account(
        { subscriptionId: 'my-sub', subnetId: 'default', publicIp: 'yes', marketplaceImages: ['ubuntu'], colour: 'blue', loginEndpoint: 'login' },
        { regions: ['East US'], credentials: { tenantId: ARM_TENANT, clientId: ARM_CLIENT_ID, clientSecret: ARM_CLIENT_SECRET, password: 'hunter2' } },
      ),
      {},
    );
    expect(problems).toEqual([
      'credentials.password is not an Azure credential (known: tenantId, clientId, clientSecret)',
      'options.subscriptionId must be a subscription GUID',
      'options.loginEndpoint must be an absolute http(s) URL',
      'options.colour is not an azure option (known: subscriptionId, loginEndpoint, scope, operationPollMs, resourceGroup, subnetId, adminUsername, publicIp, osDiskType, marketplaceImages)',
      'options.subnetId must be a subnet resource id',
      'options.publicIp must be true or false',
      'options.marketplaceImages[0] must be publisher:offer:sku:version',
      'regions[0] must be an Azure location name such as eastus',
    ]);
    expect(problems.join('\n')).not.toMatch(/hunter2|my-sub|East US/);
  });
});
