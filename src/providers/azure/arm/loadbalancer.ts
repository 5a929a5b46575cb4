/**
 * Azure Load Balancer (Standard SKU, layer 4) through Azure Resource Manager (Microsoft.Network).
 *
 * A skygraph balancer is one ARM load balancer with one frontend (a Standard static public IP the
 * driver creates, or a private address in `subnetId` for an internal balancer), one IP-based
 * backend pool (`backend`), one TCP probe on the backend port and one load-balancing rule.
 * Members are the pool's backend addresses; Azure sends every member traffic on the rule's one
 * backend port, so a member's port is that port and a member on another port is refused.
 * Algorithms: RANDOM is Azure's default five-tuple hash distribution, SOURCE_IP its SourceIP
 * (client IP affinity); Azure has no round robin or least-connections. Protocols: tcp and udp.
 * Every change waits for its long-running operation, so the balancer is usable when it returns.
 *
 * https://learn.microsoft.com/rest/api/load-balancer/load-balancers
 * https://learn.microsoft.com/azure/load-balancer/backend-pool-management#configure-backend-pool-by-ip-address-and-virtual-network
 * https://learn.microsoft.com/azure/load-balancer/distribution-mode-concepts
 */
import { isIP } from 'node:net';
import { ConflictError, InvalidInputError, MalformedResponseError, NotFoundError } from '../../errors.ts';
import type { Algorithm, CreateBalancerInput, LoadBalancer, LoadBalancerDriver, Member } from '../../types.ts';
import { idPath, parseResourceId, resourceId, sameId, type ArmClient } from './client.ts';
import { NETWORK_API } from './compute.ts';
import { backendAddress, toBalancer, toMember, type ArmBackendAddress, type ArmLoadBalancer, type ArmPool } from './lb-mappers.ts';
import type { ArmPublicIp } from './mappers.ts';

/** Settings of one driver instance (see AzureLbOptions in index.ts for the account options). */
export interface AzureLoadBalancerOptions {
  provider: string;
  arm: ArmClient;
  subscriptionId: string;
  location: string;
  /** where createBalancer puts balancers (ex.resourceGroup wins) */
  resourceGroup: string | undefined;
  /** a subnet makes new balancers internal (private frontend); ex.subnetId wins */
  subnetId: string | undefined;
  /** the virtual network of member addresses; default the subnet's network */
  virtualNetworkId: string | undefined;
}


const PROTOCOLS: Record<string, string> = { tcp: 'Tcp', udp: 'Udp' };
const ALGORITHM_TO_DISTRIBUTION: Partial<Record<Algorithm, string>> = { RANDOM: 'Default', SOURCE_IP: 'SourceIP' };
const POOL = 'backend';
/** tag naming the public IP the driver created for a balancer, so destroyBalancer removes it too */
const PUBLIC_IP_TAG = 'skygraph-public-ip';
const LB_NAME = /^(?=.{1,77}$)[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$/;

export function azureLoadBalancerDriver(opts: AzureLoadBalancerOptions): LoadBalancerDriver {
  const { arm, provider, subscriptionId } = opts;
  const sub = `subscriptions/${encodeURIComponent(subscriptionId)}`;
  const invalid = (message: string, field: string) => new InvalidInputError(message, { provider, field });

  const lbPath = (id: string): string => {
    const parsed = typeof id === 'string' ? parseResourceId(id) : undefined;
    if (!parsed || parsed.type.toLowerCase() !== 'microsoft.network/loadbalancers') {
      throw invalid('balancer ids are ARM load balancer ids: /subscriptions/…/resourceGroups/…/providers/Microsoft.Network/loadBalancers/<name>', 'id');
    }
    if (parsed.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase()) throw new NotFoundError(`load balancer ${parsed.name} is not in this account's subscription`, { provider });
    return idPath(id);
  };

  // https://learn.microsoft.com/rest/api/load-balancer/load-balancers/get
  const getLb = async (id: string): Promise<ArmLoadBalancer> => {
    const res = await arm.request<ArmLoadBalancer>({ operation: 'GetLoadBalancer', path: lbPath(id), apiVersion: NETWORK_API });
    if (!res.body?.id) throw new MalformedResponseError('GetLoadBalancer: the response has no load balancer', { provider, requestId: res.requestId });
    return res.body;
  };

  // https://learn.microsoft.com/rest/api/virtualnetwork/public-ip-addresses/get
  const frontendAddress = async (lb: ArmLoadBalancer): Promise<string | null> => {
    const frontend = lb.properties?.frontendIPConfigurations?.[0]?.properties;
    if (frontend?.privateIPAddress) return frontend.privateIPAddress;
    const ipId = frontend?.publicIPAddress?.id;
    if (!ipId) return null;
    const res = await arm.request<ArmPublicIp>({ operation: 'GetPublicIPAddress', path: idPath(ipId), apiVersion: NETWORK_API });
    return res.body?.properties?.ipAddress ?? null;
  };

  const describe = async (id: string): Promise<LoadBalancer> => {
    const lb = await getLb(id);
    return toBalancer(lb, await frontendAddress(lb));
  };

  /** Replaces the backend pool's addresses and waits until ARM has applied them. */
  const putPool = async (lb: ArmLoadBalancer, pool: ArmPool, addresses: ArmBackendAddress[]) => {
    // https://learn.microsoft.com/rest/api/load-balancer/load-balancer-backend-address-pools/create-or-update
    const res = await arm.request({
      operation: 'PutBackendAddressPool',
      method: 'PUT',
      path: `${idPath(lb.id)}/backendAddressPools/${encodeURIComponent(pool.name ?? POOL)}`,
      apiVersion: NETWORK_API,
      json: { properties: { loadBalancerBackendAddresses: addresses } },
      responseType: 'none',
    });
    await arm.waitFor('PutBackendAddressPool', res);
  };

  const deleteResource = async (operation: string, id: string): Promise<boolean> => {
    const res = await arm.request({ operation, method: 'DELETE', path: idPath(id), apiVersion: NETWORK_API, expect: [200, 202, 204], responseType: 'none' });
    if (res.status === 204) return false;
    await arm.waitFor(operation, res);
    return true;
  };

  const virtualNetworkFor = (subnetId: string | undefined): string => {
    const vnet = opts.virtualNetworkId ?? (subnetId ?? opts.subnetId)?.replace(/\/subnets\/[^/]+$/i, '');
    if (!vnet) throw invalid('member addresses need their virtual network: options.virtualNetworkId (or options.subnetId)', 'options.virtualNetworkId');
    return vnet;
  };

  return {
    async listProtocols() {
      return Object.keys(PROTOCOLS);
    },

    listAlgorithms: () => Object.keys(ALGORITHM_TO_DISTRIBUTION) as Algorithm[],

    // https://learn.microsoft.com/rest/api/load-balancer/load-balancers/list-all
    async listBalancers() {
      const [lbs, ips] = await Promise.all([
        arm.list<ArmLoadBalancer>('ListLoadBalancers', `${sub}/providers/Microsoft.Network/loadBalancers`, NETWORK_API),
        arm.list<ArmPublicIp>('ListPublicIPAddresses', `${sub}/providers/Microsoft.Network/publicIPAddresses`, NETWORK_API),
      ]);
      const addresses = new Map(ips.map((ip) => [ip.id.toLowerCase(), ip.properties?.ipAddress ?? null]));
      return lbs
        .filter((lb) => sameLocation(lb.location, opts.location))
        .map((lb) => {
          const frontend = lb.properties?.frontendIPConfigurations?.[0]?.properties;
          const ip = frontend?.privateIPAddress ?? addresses.get(frontend?.publicIPAddress?.id?.toLowerCase() ?? '') ?? null;
          return toBalancer(lb, ip);
        });
    },

    getBalancer: describe,

    // https://learn.microsoft.com/rest/api/load-balancer/load-balancers/create-or-update
    async createBalancer(input: CreateBalancerInput) {
      const ex = input.ex ?? {};
      if (typeof input.name !== 'string' || !LB_NAME.test(input.name)) {
        throw invalid('balancer names are 1-77 letters, digits, ".", "_" and "-", starting with a letter or digit and not ending with "." or "-"', 'name');
      }
      const protocol = PROTOCOLS[String(input.protocol).toLowerCase()];
      if (!protocol) throw invalid(`protocol must be one of ${Object.keys(PROTOCOLS).join(', ')} (Azure Load Balancer works at layer 4)`, 'protocol');
      const distribution = ALGORITHM_TO_DISTRIBUTION[input.algorithm];
      if (!distribution) throw invalid(`algorithm must be one of ${Object.keys(ALGORITHM_TO_DISTRIBUTION).join(', ')}; Azure distributes by hash (RANDOM) or client IP (SOURCE_IP)`, 'algorithm');
      checkPort(input.port, 'port');
      const members = Array.isArray(input.members) ? input.members : [];
      const ports = new Set(members.map((m) => m.port));
      if (ports.size > 1) throw invalid('Azure sends every member traffic on one backend port; give all members the same port', 'members');
      const backendPort = members[0]?.port ?? (typeof ex.backendPort === 'number' ? ex.backendPort : input.port);
      checkPort(backendPort, 'members');
      members.forEach((m, i) => checkIp(m.ip, `members[${i}].ip`));
      const resourceGroup = typeof ex.resourceGroup === 'string' ? ex.resourceGroup : opts.resourceGroup;
      if (!resourceGroup) throw invalid('creating a balancer needs a resource group: options.resourceGroup or ex.resourceGroup', 'options.resourceGroup');
      const subnetId = typeof ex.subnetId === 'string' ? ex.subnetId : opts.subnetId;
      const vnet = virtualNetworkFor(subnetId);

      const id = resourceId(subscriptionId, resourceGroup, 'Microsoft.Network/loadBalancers', input.name);
      const ref = (kind: string, name: string) => ({ id: `${id}/${kind}/${name}` });
      let publicIpId: string | undefined;
      if (!subnetId) {
        // https://learn.microsoft.com/rest/api/virtualnetwork/public-ip-addresses/create-or-update
        publicIpId = resourceId(subscriptionId, resourceGroup, 'Microsoft.Network/publicIPAddresses', `${input.name}-ip`);
        const res = await arm.request({
          operation: 'CreatePublicIPAddress',
          method: 'PUT',
          path: idPath(publicIpId),
          apiVersion: NETWORK_API,
          headers: { 'if-none-match': '*' },
          json: { location: opts.location, sku: { name: 'Standard', tier: 'Regional' }, properties: { publicIPAllocationMethod: 'Static', publicIPAddressVersion: 'IPv4' } },
          idempotent: false,
          responseType: 'none',
        });
        await arm.waitFor('CreatePublicIPAddress', res);
      }
      const body = {
        location: opts.location,
        sku: { name: 'Standard', tier: 'Regional' },
        tags: publicIpId ? { [PUBLIC_IP_TAG]: publicIpId } : {},
        properties: {
          frontendIPConfigurations: [
            {
              name: 'frontend',
              properties: publicIpId ? { publicIPAddress: { id: publicIpId } } : { subnet: { id: subnetId }, privateIPAllocationMethod: 'Dynamic' },
            },
          ],
          backendAddressPools: [{ name: POOL, properties: { loadBalancerBackendAddresses: members.map((m) => backendAddress(m.ip, vnet)) } }],
          probes: [{ name: 'probe', properties: { protocol: 'Tcp', port: backendPort, intervalInSeconds: 5, probeThreshold: 1 } }],
          loadBalancingRules: [
            {
              name: 'rule',
              properties: {
                frontendIPConfiguration: ref('frontendIPConfigurations', 'frontend'),
                backendAddressPool: ref('backendAddressPools', POOL),
                probe: ref('probes', 'probe'),
                protocol,
                frontendPort: input.port,
                backendPort,
                loadDistribution: distribution,
                idleTimeoutInMinutes: 4,
                enableFloatingIP: false,
                disableOutboundSnat: true,
              },
            },
          ],
        },
      };
      let accepted = false;
      try {
        const res = await arm.request({
          operation: 'CreateLoadBalancer',
          method: 'PUT',
          path: idPath(id),
          apiVersion: NETWORK_API,
          // why: a PUT on an existing name would rewrite that balancer; this makes it fail instead
          headers: { 'if-none-match': '*' },
          json: body,
          idempotent: false,
          responseType: 'none',
        });
        accepted = true;
        await arm.waitFor('CreateLoadBalancer', res);
      } catch (err) {
        // why: a create that failed midway leaves a Failed balancer; it and its public IP were made for this call alone
        if (accepted) await deleteResource('DeleteLoadBalancer', id).catch(() => undefined);
        if (publicIpId) await deleteResource('DeletePublicIPAddress', publicIpId).catch(() => undefined);
        throw err;
      }
      return describe(id);
    },

    async updateBalancer(id, patch) {
      if (patch.name !== undefined) throw invalid('ARM resources cannot be renamed', 'name');
      const lb = await getLb(id);
      const rule = lb.properties?.loadBalancingRules?.[0];
      if (!rule?.properties) throw invalid('the balancer has no load-balancing rule to update', 'id');
      if (patch.port !== undefined) {
        checkPort(patch.port, 'port');
        rule.properties.frontendPort = patch.port;
      }
      if (patch.protocol !== undefined) {
        const protocol = PROTOCOLS[String(patch.protocol).toLowerCase()];
        if (!protocol) throw invalid(`protocol must be one of ${Object.keys(PROTOCOLS).join(', ')}`, 'protocol');
        rule.properties.protocol = protocol;
      }
      if (patch.algorithm !== undefined) {
        const distribution = ALGORITHM_TO_DISTRIBUTION[patch.algorithm];
        if (!distribution) throw invalid(`algorithm must be one of ${Object.keys(ALGORITHM_TO_DISTRIBUTION).join(', ')}`, 'algorithm');
        rule.properties.loadDistribution = distribution;
      }
      const res = await arm.request({
        operation: 'UpdateLoadBalancer',
        method: 'PUT',
        path: idPath(lb.id),
        apiVersion: NETWORK_API,
        // why: someone else's change since our GET makes ARM answer 412 instead of losing it
        headers: lb.etag ? { 'if-match': lb.etag } : {},
        json: { location: lb.location, sku: lb.sku, tags: lb.tags, properties: lb.properties },
        responseType: 'none',
      });
      await arm.waitFor('UpdateLoadBalancer', res);
      return describe(lb.id);
    },

    // https://learn.microsoft.com/rest/api/load-balancer/load-balancers/delete
    async destroyBalancer(id) {
      const lb = await getLb(id);
      await deleteResource('DeleteLoadBalancer', lb.id);
      const publicIp = lb.tags?.[PUBLIC_IP_TAG];
      if (publicIp && sameId(publicIp, lb.properties?.frontendIPConfigurations?.[0]?.properties?.publicIPAddress?.id)) {
        await deleteResource('DeletePublicIPAddress', publicIp);
      }
    },

    async listMembers(balancerId) {
      return toMembers(await getLb(balancerId));
    },

    async attachMember(balancerId, member) {
      checkIp(member.ip, 'ip');
      const lb = await getLb(balancerId);
      const { pool, backendPort } = poolOf(lb);
      if (backendPort !== null && member.port !== backendPort) {
        throw invalid(`this balancer sends members traffic on port ${backendPort}; Azure has one backend port per rule`, 'port');
      }
      const addresses = pool.properties?.loadBalancerBackendAddresses ?? [];
      if (addresses.some((a) => a.properties?.ipAddress === member.ip)) throw new ConflictError(`${member.ip} is already a member`, { provider });
      const added = backendAddress(member.ip, virtualNetworkFor(undefined));
      await putPool(lb, pool, [...addresses, added]);
      return toMember(added, backendPort, pool.name ?? POOL);
    },

    async detachMember(balancerId, memberId) {
      const lb = await getLb(balancerId);
      const { pool } = poolOf(lb);
      const addresses = pool.properties?.loadBalancerBackendAddresses ?? [];
      const kept = addresses.filter((a) => a.name !== memberId);
      if (kept.length === addresses.length) throw new NotFoundError(`no member ${memberId} in balancer ${lb.name}`, { provider });
      await putPool(lb, pool, kept);
    },
  };

  function checkPort(port: unknown, field: string): asserts port is number {
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw invalid('ports are integers from 1 to 65535', field);
  }

  function checkIp(ip: unknown, field: string): void {
    if (typeof ip !== 'string' || isIP(ip) === 0) throw invalid('member addresses must be IP addresses', field);
  }

  function poolOf(lb: ArmLoadBalancer): { pool: ArmPool; backendPort: number | null } {
    const pools = lb.properties?.backendAddressPools ?? [];
    const pool = pools.find((p) => p.name === POOL) ?? pools[0];
    if (!pool) throw invalid(`balancer ${lb.name} has no backend pool`, 'balancerId');
    const rules = lb.properties?.loadBalancingRules ?? [];
    const rule = pool.id === undefined ? rules[0] : rules.find((r) => sameId(r.properties?.backendAddressPool?.id, pool.id));
    return { pool, backendPort: rule?.properties?.backendPort ?? null };
  }

  function toMembers(lb: ArmLoadBalancer): Member[] {
    const rules = lb.properties?.loadBalancingRules ?? [];
    return (lb.properties?.backendAddressPools ?? []).flatMap((pool) => {
      const port = rules.find((r) => sameId(r.properties?.backendAddressPool?.id, pool.id))?.properties?.backendPort ?? null;
      return (pool.properties?.loadBalancerBackendAddresses ?? []).map((a) => toMember(a, port, pool.name ?? POOL));
    });
  }
}

// --- Internal helpers ---

function sameLocation(a: string | undefined, b: string): boolean {
  return (a ?? '').replace(/\s+/g, '').toLowerCase() === b.replace(/\s+/g, '').toLowerCase();
}
