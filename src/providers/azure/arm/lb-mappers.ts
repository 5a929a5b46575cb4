/**
 * ARM load balancer responses -> skygraph models, and the backend address the driver writes.
 *
 * https://learn.microsoft.com/rest/api/load-balancer/load-balancers/get#loadbalancer
 * https://learn.microsoft.com/rest/api/load-balancer/load-balancer-backend-address-pools/get#loadbalancerbackendaddress
 */
import { isIP } from 'node:net';
import type { Algorithm, BalancerState, LoadBalancer, Member } from '../../types.ts';
import { parseResourceId } from './client.ts';

/** The parts of a load balancer this driver reads and writes. */
export interface ArmLoadBalancer {
  id: string;
  name: string;
  location?: string;
  etag?: string;
  tags?: Record<string, string>;
  sku?: { name?: string };
  properties?: {
    provisioningState?: string;
    frontendIPConfigurations?: { name?: string; id?: string; properties?: { privateIPAddress?: string; publicIPAddress?: { id?: string }; subnet?: { id?: string } } }[];
    backendAddressPools?: ArmPool[];
    loadBalancingRules?: ArmRule[];
    probes?: { name?: string; id?: string; properties?: Record<string, unknown> }[];
  } & Record<string, unknown>;
}

export interface ArmPool {
  name?: string;
  id?: string;
  properties?: { loadBalancerBackendAddresses?: ArmBackendAddress[] } & Record<string, unknown>;
}

export interface ArmBackendAddress {
  name?: string;
  properties?: { ipAddress?: string; virtualNetwork?: { id?: string }; networkInterfaceIPConfiguration?: { id?: string } };
}

export interface ArmRule {
  name?: string;
  properties?: {
    protocol?: string;
    frontendPort?: number;
    backendPort?: number;
    loadDistribution?: string;
    backendAddressPool?: { id?: string };
  } & Record<string, unknown>;
}

/** Azure's distribution modes -> algorithms: Default is a five-tuple hash, SourceIP(Protocol) keep a client on one member. */
const DISTRIBUTION_TO_ALGORITHM: Record<string, Algorithm> = { default: 'RANDOM', sourceip: 'SOURCE_IP', sourceipprotocol: 'SOURCE_IP' };
/** provisioningState -> BalancerState */
const STATE: Record<string, BalancerState> = { succeeded: 'running', creating: 'pending', updating: 'pending', deleting: 'deleted', failed: 'error' };

/** An IP-based backend address; its name (the member id) is made from the address. */
export function backendAddress(ip: string, virtualNetworkId: string): ArmBackendAddress {
  return { name: `m-${ip.replace(/[.:]/g, '-')}`, properties: { ipAddress: ip, virtualNetwork: { id: virtualNetworkId } } };
}

export function toMember(address: ArmBackendAddress, port: number | null, pool: string): Member {
  const ip = address.properties?.ipAddress;
  return {
    id: address.name ?? ip ?? '',
    ip: ip && isIP(ip) ? ip : null,
    port,
    nodeId: null,
    extra: {
      pool,
      virtualNetwork: address.properties?.virtualNetwork?.id ?? null,
      networkInterfaceIPConfiguration: address.properties?.networkInterfaceIPConfiguration?.id ?? null,
    },
  };
}

export function toBalancer(lb: ArmLoadBalancer, ip: string | null): LoadBalancer {
  const rule = lb.properties?.loadBalancingRules?.[0]?.properties;
  const frontend = lb.properties?.frontendIPConfigurations?.[0]?.properties;
  const distribution = rule?.loadDistribution ?? 'Default';
  return {
    id: lb.id,
    name: lb.name,
    state: STATE[(lb.properties?.provisioningState ?? '').toLowerCase()] ?? 'unknown',
    ip: ip && isIP(ip) ? ip : null,
    port: rule?.frontendPort ?? null,
    protocol: rule?.protocol ? rule.protocol.toLowerCase() : null,
    algorithm: rule ? (DISTRIBUTION_TO_ALGORITHM[distribution.toLowerCase()] ?? null) : null,
    extra: {
      resourceGroup: parseResourceId(lb.id)?.resourceGroup ?? null,
      location: lb.location ?? null,
      sku: lb.sku?.name ?? null,
      provisioningState: lb.properties?.provisioningState ?? null,
      frontend: frontend?.publicIPAddress ? 'public' : 'internal',
      backendPort: rule?.backendPort ?? null,
      loadDistribution: rule ? distribution : null,
      tags: { ...(lb.tags ?? {}) },
    },
  };
}
