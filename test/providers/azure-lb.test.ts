/**
 * The azure-lb driver against the stateful ARM stand-in (test/helpers/azure-arm-server.ts): the
 * load-balancer conformance suite (one backend port for every member, as Azure has), then
 * listing, the public IP made and removed with a balancer, internal balancers, long-running
 * operations (followed, and failing), member rules, updates with If-Match, and validation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { azureLbProvider, validateAzureLbAccount } from '../../src/providers/azure/arm/index.ts';
import { ConflictError, InvalidInputError, NotFoundError, ProviderError } from '../../src/providers/errors.ts';
import type { AccountConfig, CreateBalancerInput, LoadBalancerDriver } from '../../src/providers/types.ts';
import { expectTypedError, pollUntil } from '../conformance/assertions.ts';
import { testLoadBalancerDriver } from '../conformance/loadbalancer.ts';
import {
  ARM_CLIENT_ID,
  ARM_CLIENT_SECRET,
  ARM_RG,
  ARM_SUBNET,
  ARM_SUBSCRIPTION,
  ARM_TENANT,
  ARM_VNET,
  startArmServer,
  type ArmServerOptions,
  type ArmTestServer,
} from '../helpers/azure-arm-server.ts';
import { testDriverContext, type TestDriverContext } from '../helpers/driver-context.ts';

const LB = (name: string, rg = ARM_RG) => `/subscriptions/${ARM_SUBSCRIPTION}/resourceGroups/${rg}/providers/Microsoft.Network/loadBalancers/${name}`;
const IP = (name: string) => `/subscriptions/${ARM_SUBSCRIPTION}/resourceGroups/${ARM_RG}/providers/Microsoft.Network/publicIPAddresses/${name}`;

function lbDriver(server: ArmTestServer, options: Record<string, unknown> = {}) {
  const account: Partial<AccountConfig> & { driver: string } = {
    driver: 'azure-lb',
    regions: ['eastus'],
    endpoint: server.url,
    credentials: { tenantId: ARM_TENANT, clientId: ARM_CLIENT_ID, clientSecret: ARM_CLIENT_SECRET },
    options: { subscriptionId: ARM_SUBSCRIPTION, loginEndpoint: server.url, resourceGroup: ARM_RG, virtualNetworkId: ARM_VNET, operationPollMs: 0, ...options },
  };
  const ctx = testDriverContext(account, { region: 'eastus' });
  const instance = azureLbProvider.create(ctx);
  return { ctx, driver: instance.loadBalancer!, close: () => instance.close?.() ?? Promise.resolve() };
}

testLoadBalancerDriver({
  name: 'azure-lb (recorded ARM)',
  capabilities: ['updateBalancer'],
  async create() {
    const server = await startArmServer({ transitionMs: 20 });
    const { driver, close } = lbDriver(server);
    return {
      driver,
      cleanup: async () => {
        await close();
        await server.close();
        expect(server.failures).toEqual([]);
      },
    };
  },
  memberIps: ['10.20.1.11', '10.20.1.12'],
  memberPorts: [8080, 8080],
  missingBalancerId: LB('no-such-lb'),
  waitFor: pollUntil({ intervalMs: 20, timeoutMs: 5000 }),
  secrets: [ARM_CLIENT_SECRET],
});

describe('azure-lb: driver details', () => {
  let server: ArmTestServer;
  let ctx: TestDriverContext;
  let driver: LoadBalancerDriver;
  let close: () => Promise<void>;
  const start = async (serverOpts: ArmServerOptions = {}, options: Record<string, unknown> = {}) => {
    server = await startArmServer({ transitionMs: 20, ...serverOpts });
    ({ ctx, driver, close } = lbDriver(server, options));
  };
  const input = (over: Partial<CreateBalancerInput> = {}): CreateBalancerInput => ({
    name: 'api-lb',
    port: 80,
    protocol: 'tcp',
    algorithm: 'RANDOM',
    members: [
      { ip: '10.20.1.21', port: 8080 },
      { ip: '10.20.1.22', port: 8080 },
    ],
    ...over,
  });

  afterEach(async () => {
    await close?.();
    await server?.close();
    expect(server.failures).toEqual([]);
  });

  it('lists the region\'s balancers with their frontend address, rule and members, one call per page', async () => {
    await start();
    const balancers = await driver.listBalancers();
    expect(balancers).toEqual([
      {
        id: LB('web-lb'),
        name: 'web-lb',
        state: 'running',
        ip: '20.62.150.9',
        port: 443,
        protocol: 'tcp',
        algorithm: 'SOURCE_IP',
        extra: expect.objectContaining({ resourceGroup: ARM_RG, sku: 'Standard', frontend: 'public', backendPort: 8443, loadDistribution: 'SourceIP', tags: { env: 'prod' } }),
      },
    ]);
    expect(Object.fromEntries(ctx.calls)).toEqual({ GetToken: 1, ListLoadBalancers: 1, ListPublicIPAddresses: 2 });
    const members = await driver.listMembers(LB('web-lb'));
    expect(members.map((m) => [m.id, m.ip, m.port])).toEqual([
      ['m-10-20-1-4', '10.20.1.4', 8443],
      ['legacy-web', '10.20.1.30', 8443],
    ]);
    expect(members[0]!.extra.networkInterfaceIPConfiguration).toMatch(/web-1-nic\/ipConfigurations\/ipconfig1$/);
    expect(await driver.getBalancer(LB('web-lb'))).toEqual(balancers[0]);
  });

  it('creates a public balancer with its own Standard static IP, waiting for each operation, and removes both', async () => {
    await start();
    const created = await driver.createBalancer(input());
    expect(created).toMatchObject({ id: LB('api-lb'), name: 'api-lb', state: 'running', port: 80, protocol: 'tcp', algorithm: 'RANDOM', extra: { frontend: 'public', backendPort: 8080 } });
    expect(created.ip).toMatch(/^20\.62\./);
    expect(server.polls()).toBeGreaterThanOrEqual(2);
    const lb = server.balancers.get(LB('api-lb').toLowerCase()) as { tags: Record<string, string>; properties: { loadBalancingRules: { properties: Record<string, unknown> }[] } };
    expect(lb.tags).toEqual({ 'skygraph-public-ip': IP('api-lb-ip') });
    expect(lb.properties.loadBalancingRules[0]!.properties).toMatchObject({ protocol: 'Tcp', frontendPort: 80, backendPort: 8080, loadDistribution: 'Default', disableOutboundSnat: true });
    expect((await driver.listMembers(created.id)).map((m) => [m.ip, m.port])).toEqual([
      ['10.20.1.21', 8080],
      ['10.20.1.22', 8080],
    ]);
    await driver.destroyBalancer(created.id);
    expect(server.balancers.has(LB('api-lb').toLowerCase())).toBe(false);
    expect(server.publicIps.has(IP('api-lb-ip').toLowerCase())).toBe(false);
    await expectTypedError(driver.getBalancer(created.id), NotFoundError);
  });

  it('creates an internal balancer in the configured subnet, with no public IP', async () => {
    await start({}, { subnetId: ARM_SUBNET, virtualNetworkId: undefined });
    const created = await driver.createBalancer(input({ name: 'internal-lb', algorithm: 'SOURCE_IP', protocol: 'udp', port: 53, members: [{ ip: '10.20.1.40', port: 53 }] }));
    expect(created).toMatchObject({ protocol: 'udp', algorithm: 'SOURCE_IP', port: 53, extra: { frontend: 'internal' } });
    expect(created.ip).toMatch(/^10\.20\.1\./);
    expect(server.requests.some((r) => r.method === 'PUT' && r.path.includes('/publicIPAddresses/'))).toBe(false);
  });

  it('reports a failed create operation as ProviderError and removes what it made', async () => {
    await start();
    const err = await expectTypedError(driver.createBalancer(input({ name: 'broken-fail' })), ProviderError);
    expect(err.message).toBe('[azure-lb] CreateLoadBalancer: Failed InternalServerError: An error occurred while provisioning the load balancer.');
    expect(server.balancers.has(LB('broken-fail').toLowerCase())).toBe(false);
    expect(server.publicIps.has(IP('broken-fail-ip').toLowerCase())).toBe(false);
  });

  it('keeps every member on the rule\'s backend port, and refuses duplicates and unknown members', async () => {
    await start();
    ctx.resetCalls();
    await expectTypedError(driver.createBalancer(input({ members: [{ ip: '10.20.1.21', port: 80 }, { ip: '10.20.1.22', port: 81 }] })), InvalidInputError, 'members');
    await expectTypedError(driver.createBalancer(input({ protocol: 'http' })), InvalidInputError, 'protocol');
    await expectTypedError(driver.createBalancer(input({ name: 'bad name' })), InvalidInputError, 'name');
    await expectTypedError(driver.createBalancer(input({ members: [{ ip: 'web-1', port: 8080 }] })), InvalidInputError, 'members[0].ip');
    expect(ctx.totalCalls()).toBe(0);
    await expectTypedError(driver.attachMember(LB('web-lb'), { ip: '10.20.1.50', port: 8080 }), InvalidInputError, 'port');
    await expectTypedError(driver.attachMember(LB('web-lb'), { ip: '10.20.1.4', port: 8443 }), ConflictError);
    await expectTypedError(driver.detachMember(LB('web-lb'), 'm-10-9-9-9'), NotFoundError);
    const member = await driver.attachMember(LB('web-lb'), { ip: '10.20.1.50', port: 8443 });
    expect(member).toMatchObject({ id: 'm-10-20-1-50', ip: '10.20.1.50', port: 8443, nodeId: null });
    await driver.detachMember(LB('web-lb'), 'legacy-web');
    expect((await driver.listMembers(LB('web-lb'))).map((m) => m.id)).toEqual(['m-10-20-1-4', 'm-10-20-1-50']);
    const poolPuts = server.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/backendAddressPools/backend'));
    expect(poolPuts.length).toBe(2);
    expect(JSON.parse(poolPuts[0]!.body.toString()).properties.loadBalancerBackendAddresses[2]).toEqual({
      name: 'm-10-20-1-50',
      properties: { ipAddress: '10.20.1.50', virtualNetwork: { id: ARM_VNET } },
    });
  });

  it('updates port, protocol and algorithm with If-Match on the etag it read, and refuses a rename', async () => {
    await start();
    const etag = (server.balancers.get(LB('web-lb').toLowerCase()) as { etag: string }).etag;
    const updated = await driver.updateBalancer!(LB('web-lb'), { port: 8443, algorithm: 'RANDOM', protocol: 'udp' });
    expect(updated).toMatchObject({ port: 8443, algorithm: 'RANDOM', protocol: 'udp', state: 'running' });
    const put = server.requests.find((r) => r.method === 'PUT' && r.path === LB('web-lb'))!;
    expect(put.headers['if-match']).toBe(etag);
    expect((await driver.listMembers(LB('web-lb'))).length).toBe(2);
    await expectTypedError(driver.updateBalancer!(LB('web-lb'), { name: 'renamed' }), InvalidInputError, 'name');
  });

  it('answers NotFoundError for unknown ids and InvalidInputError for ids that are not ARM ids', async () => {
    await start();
    await expectTypedError(driver.destroyBalancer(LB('gone', 'other-rg')), NotFoundError);
    await expectTypedError(driver.getBalancer('web-lb'), InvalidInputError, 'id');
  });
});

describe('azure-lb: account validation', () => {
  const account = (options: Record<string, unknown>): AccountConfig => ({
    id: 'a',
    driver: 'azure-lb',
    regions: ['eastus'],
    credentials: { tenantId: ARM_TENANT, clientId: ARM_CLIENT_ID, clientSecret: ARM_CLIENT_SECRET },
    options: { subscriptionId: ARM_SUBSCRIPTION, ...options },
    pollIntervalMs: 1,
    timeoutMs: 1,
  });

  it('accepts a complete account and names bad options without their values', () => {
    expect(validateAzureLbAccount(account({ resourceGroup: ARM_RG, subnetId: ARM_SUBNET, virtualNetworkId: ARM_VNET }), {})).toEqual([]);
    const problems = validateAzureLbAccount(account({ virtualNetworkId: 'vnet-secret-name', subnetId: 'x', adminUsername: 'root' }), {});
    expect(problems).toEqual([
      'options.adminUsername is not an azure-lb option (known: subscriptionId, loginEndpoint, scope, operationPollMs, resourceGroup, subnetId, virtualNetworkId)',
      'options.subnetId must be a subnet resource id',
      'options.virtualNetworkId must be a virtual network resource id',
    ]);
    expect(problems.join('\n')).not.toContain('vnet-secret-name');
  });
});
