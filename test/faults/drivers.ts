/**
 * Every remote driver of the fault matrix (test/faults/fault-matrix.test.ts) and the soak test:
 * one entry each, building the account against an arbitrary endpoint URL and naming the list
 * field whose upstream call gets the faults. Adding a remote driver to the matrix is adding one
 * entry here.
 */
import { generateKeyPairSync } from 'node:crypto';
import { EXPECTED_CODE, type FaultKind, type PassAnswer, type WireFormat } from './fault-server.ts';

/** A root list field: its resolver calls the driver's list operation for every account. */
export type ListField = 'nodes' | 'containers' | 'loadBalancers' | 'zones';

export interface FaultDriver {
  /** matrix label; also the account id */
  name: string;
  /** what the driver parses, so truncated and oversized bodies look like its own */
  format: WireFormat;
  /** the list field queried (and the driver operation under it) */
  list: ListField;
  /** the account config (without `id`), every upstream call of the list going to `endpoint` */
  account(endpoint: string): Record<string, unknown>;
  /** requests answered healthy rather than faulted (a login in front of the call under test), by path */
  pass?: (path: string) => PassAnswer | undefined;
  /**
   * Faults whose right answer for this driver differs from EXPECTED_CODE: another code, or null
   * where the wire format cannot tell the fault from a true answer with no items.
   */
  expect?: Partial<Record<FaultKind, string | null>>;
}

/** The code the driver's failure must carry for a fault; null: the account must answer, with no items. */
export function expectedCode(driver: FaultDriver, kind: FaultKind): string | null {
  const own = driver.expect?.[kind];
  return own === undefined ? EXPECTED_CODE[kind] : own;
}

const AWS_KEYS = { accessKeyId: 'AKIDFAULTMATRIX', secretAccessKey: 'fault-matrix-secret-key' };
/** OpenStack "preset token + endpoint": no identity call, every request goes to the service */
const PRESET = { token: 'fault-matrix-token' };
/** the bearer clouds' API token */
const TOKEN = { token: 'fault-matrix-api-token' };
/** Google's "ready access token": no token exchange, every request goes to the API */
const GOOGLE_TOKEN = { accessToken: 'ya29.fault-matrix-token' };
const GOOGLE_PROJECT = 'fault-matrix-1';
const AZURE_PRINCIPAL = { tenantId: 'fault-matrix-tenant', clientId: '00000000-0000-4000-8000-0000000000c1', clientSecret: 'fault-matrix-client-secret' };
const AZURE_SUBSCRIPTION = '00000000-0000-4000-8000-0000000000a1';
/** Entra ID answers the token request; the ARM call after it gets the fault */
const ENTRA_TOKEN: PassAnswer = { status: 200, type: 'application/json', body: JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: 'fault-matrix-arm-token' }) };
const passEntraLogin = (path: string) => (path.endsWith('/oauth2/v2.0/token') ? ENTRA_TOKEN : undefined);
const azureAccount = (driver: string) => (endpoint: string) => ({
  driver,
  regions: ['eastus'],
  endpoint,
  credentials: AZURE_PRINCIPAL,
  options: { subscriptionId: AZURE_SUBSCRIPTION, loginEndpoint: endpoint },
});

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
  // GET /servers/info (API 1.0, key/value text)
  {
    name: 'cloudsigma',
    format: 'kv',
    list: 'nodes',
    account: (endpoint) => ({ driver: 'cloudsigma', region: 'zrh', endpoint, credentials: { username: 'fault@example.com', password: 'fault-matrix-password' } }),
    // why: API 1.0 lists are lines of `key value`; an account without servers answers no lines, the very bytes of an empty 200
    expect: { empty200: null },
  },
  // GET /servers/detail/
  { name: 'cloudsigma2', format: 'json', list: 'nodes', account: (endpoint) => ({ driver: 'cloudsigma2', region: 'zrh', endpoint, credentials: { username: 'fault@example.com', password: 'fault-matrix-password' } }) },
  // GET /api/blocks.json
  { name: 'bluebox', format: 'json', list: 'nodes', account: (endpoint) => ({ driver: 'bluebox', endpoint, credentials: { customerId: 'c1001', apiKey: 'fault-matrix-api-key' } }) },
  // GET /apis/kubevirt.io/v1/namespaces/{ns}/virtualmachines
  { name: 'kubevirt', format: 'json', list: 'nodes', account: (endpoint) => ({ driver: 'kubevirt', endpoint, credentials: { token: 'fault-matrix-sa-token' }, options: { namespace: 'vms' } }) },
  // GET .../providers/Microsoft.Compute/virtualMachines (the Entra ID token passes)
  { name: 'azure', format: 'json', list: 'nodes', account: azureAccount('azure'), pass: passEntraLogin },
  // POST /{tenant}/oauth2/v2.0/token: the Entra ID login of the ARM drivers
  { name: 'azure-identity', format: 'json', list: 'nodes', account: azureAccount('azure') },
  // GET .../providers/Microsoft.Network/loadBalancers (the Entra ID token passes)
  { name: 'azure-lb', format: 'json', list: 'loadBalancers', account: azureAccount('azure-lb'), pass: passEntraLogin },
  // GET /?comp=list (path-style, as Azurite)
  {
    name: 'azure-blob',
    format: 'xml',
    list: 'containers',
    account: (endpoint) => ({ driver: 'azure-blob', endpoint: `${endpoint}/faultmatrix`, credentials: { accountName: 'faultmatrix', accountKey: Buffer.from('fault-matrix-account-key').toString('base64') } }),
  },
  // GET /compute/v1/projects/{project}/aggregated/instances
  { name: 'gce', format: 'json', list: 'nodes', account: (endpoint) => ({ driver: 'gce', region: 'us-central1', endpoint, credentials: GOOGLE_TOKEN, options: { project: GOOGLE_PROJECT } }) },
  // POST /token: the service-account token exchange of every Google driver
  {
    name: 'google-token',
    format: 'json',
    list: 'nodes',
    account: (endpoint) => ({ driver: 'gce', region: 'us-central1', endpoint, credentials: { serviceAccountJson: serviceAccountJson(`${endpoint}/token`) } }),
  },
  // GET /compute/v1/projects/{project}/regions/{region}/forwardingRules
  { name: 'gce-lb', format: 'json', list: 'loadBalancers', account: (endpoint) => ({ driver: 'gce-lb', region: 'us-central1', endpoint, credentials: GOOGLE_TOKEN, options: { project: GOOGLE_PROJECT } }) },
  // GET /storage/v1/b?project=
  { name: 'gcs', format: 'json', list: 'containers', account: (endpoint) => ({ driver: 'gcs', endpoint, credentials: GOOGLE_TOKEN, options: { project: GOOGLE_PROJECT } }) },
  // GET /dns/v1/projects/{project}/managedZones
  { name: 'google-dns', format: 'json', list: 'zones', account: (endpoint) => ({ driver: 'google-dns', endpoint, credentials: GOOGLE_TOKEN, options: { project: GOOGLE_PROJECT } }) },
  // GET /droplets
  { name: 'digitalocean', format: 'json', list: 'nodes', account: (endpoint) => ({ driver: 'digitalocean', endpoint, credentials: TOKEN }) },
  // GET /load_balancers
  { name: 'digitalocean-lb', format: 'json', list: 'loadBalancers', account: (endpoint) => ({ driver: 'digitalocean-lb', endpoint, credentials: TOKEN }) },
  // GET /servers
  { name: 'hetzner', format: 'json', list: 'nodes', account: (endpoint) => ({ driver: 'hetzner', endpoint, credentials: TOKEN }) },
  // GET /load_balancers
  { name: 'hetzner-lb', format: 'json', list: 'loadBalancers', account: (endpoint) => ({ driver: 'hetzner-lb', endpoint, credentials: TOKEN }) },
  // GET /linode/instances
  { name: 'linode', format: 'json', list: 'nodes', account: (endpoint) => ({ driver: 'linode', endpoint, credentials: TOKEN }) },
  // GET /nodebalancers
  { name: 'linode-lb', format: 'json', list: 'loadBalancers', account: (endpoint) => ({ driver: 'linode-lb', endpoint, credentials: TOKEN }) },
  // GET /instances
  { name: 'vultr', format: 'json', list: 'nodes', account: (endpoint) => ({ driver: 'vultr', endpoint, credentials: TOKEN }) },
  // GET /load-balancers
  { name: 'vultr-lb', format: 'json', list: 'loadBalancers', account: (endpoint) => ({ driver: 'vultr-lb', endpoint, credentials: TOKEN }) },
  // GET /2013-04-01/hostedzone
  { name: 'route53', format: 'xml', list: 'zones', account: (endpoint) => ({ driver: 'route53', endpoint, credentials: AWS_KEYS }) },
  // GET /api/v1/servers/localhost/zones
  { name: 'powerdns', format: 'json', list: 'zones', account: (endpoint) => ({ driver: 'powerdns', endpoint, credentials: { apiKey: 'fault-matrix-api-key' } }) },
  // GET /v2/zones
  { name: 'designate', format: 'json', list: 'zones', account: (endpoint) => ({ driver: 'designate', region: 'RegionOne', endpoint: `${endpoint}/v2`, credentials: PRESET }) },
  // GET /domains
  { name: 'rackspace-dns', format: 'json', list: 'zones', account: (endpoint) => ({ driver: 'rackspace-dns', endpoint, credentials: PRESET }) },
  // GET /v2/domains
  { name: 'digitalocean-dns', format: 'json', list: 'zones', account: (endpoint) => ({ driver: 'digitalocean-dns', endpoint, credentials: TOKEN }) },
];

// --- Internal helpers ---

/** A service-account key whose token_uri is the fault server (http is allowed for 127.0.0.1). */
function serviceAccountJson(tokenUri: string): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return JSON.stringify({
    type: 'service_account',
    project_id: GOOGLE_PROJECT,
    private_key_id: 'fault-matrix-key',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: `fault-matrix@${GOOGLE_PROJECT}.iam.gserviceaccount.com`,
    token_uri: tokenUri,
  });
}
