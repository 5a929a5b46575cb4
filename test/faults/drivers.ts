/**
 * Every remote driver of the fault matrix (test/faults/fault-matrix.test.ts) and the soak test:
 * one entry each, building the account against an arbitrary endpoint URL and naming the list
 * field whose upstream call gets the faults. Adding a remote driver to the matrix is adding one
 * entry here.
 */
import type { WireFormat } from './fault-server.ts';

/** A root list field: its resolver calls the driver's list operation for every account. */
export type ListField = 'nodes' | 'containers' | 'loadBalancers';

export interface FaultDriver {
  /** matrix label; also the account id */
  name: string;
  /** what the driver parses, so truncated and oversized bodies look like its own */
  format: WireFormat;
  /** the list field queried (and the driver operation under it) */
  list: ListField;
  /** the account config (without `id`), every upstream call of the list going to `endpoint` */
  account(endpoint: string): Record<string, unknown>;
}

const AWS_KEYS = { accessKeyId: 'AKIDFAULTMATRIX', secretAccessKey: 'fault-matrix-secret-key' };
/** OpenStack "preset token + endpoint": no identity call, every request goes to the service */
const PRESET = { token: 'fault-matrix-token' };

export const FAULT_DRIVERS: readonly FaultDriver[] = [
  // DescribeInstances
  { name: 'ec2', format: 'xml', list: 'nodes', account: (endpoint) => ({ driver: 'ec2', region: 'us-east-1', endpoint, credentials: AWS_KEYS }) },
  // ListBuckets
  { name: 's3', format: 'xml', list: 'containers', account: (endpoint) => ({ driver: 's3', region: 'us-east-1', endpoint, credentials: AWS_KEYS }) },
  // DescribeLoadBalancers (2012-06-01)
  { name: 'elb', format: 'xml', list: 'loadBalancers', account: (endpoint) => ({ driver: 'elb', region: 'us-east-1', endpoint, credentials: AWS_KEYS }) },
  // DescribeLoadBalancers (2015-12-01)
  { name: 'alb', format: 'xml', list: 'loadBalancers', account: (endpoint) => ({ driver: 'alb', region: 'us-east-1', endpoint, credentials: AWS_KEYS }) },
  // GET /servers/detail
  { name: 'nova', format: 'json', list: 'nodes', account: (endpoint) => ({ driver: 'openstack', region: 'RegionOne', endpoint, credentials: PRESET }) },
  // GET /?format=json (containers of the account)
  { name: 'swift', format: 'json', list: 'containers', account: (endpoint) => ({ driver: 'swift', endpoint, credentials: PRESET }) },
  // GET /v2/lbaas/loadbalancers
  { name: 'octavia', format: 'json', list: 'loadBalancers', account: (endpoint) => ({ driver: 'octavia', region: 'RegionOne', endpoint, credentials: PRESET }) },
  // GET /loadbalancers
  { name: 'rackspace-clb', format: 'json', list: 'loadBalancers', account: (endpoint) => ({ driver: 'rackspace-clb', region: 'DFW', endpoint, credentials: PRESET }) },
  // POST /v3/auth/tokens: the Keystone path every OpenStack driver takes before its first call
  {
    name: 'openstack-identity',
    format: 'json',
    list: 'nodes',
    account: (endpoint) => ({
      driver: 'openstack',
      region: 'RegionOne',
      credentials: { auth_url: `${endpoint}/v3`, username: 'demo', password: 'fault-matrix-password', project_name: 'demo', user_domain_name: 'Default', project_domain_name: 'Default' },
    }),
  },
];
