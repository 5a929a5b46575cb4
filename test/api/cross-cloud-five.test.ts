/**
 * The README's cross-cloud query over seven providers at once, through the real server: EC2,
 * OpenStack Nova, Compute Engine, Azure, DigitalOcean, Hetzner and Linode, each on its own
 * provider test's stand-in and account shape. Every account answers, sizes and images resolve
 * per provider, and each account costs the same upstream calls however many nodes it holds;
 * with one stand-in stopped, that account is a failure with a code and the others still answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProvider } from '../../src/providers/registry.ts';
import { startTestApp, type GraphQLResult, type TestApp } from '../helpers/app.ts';
import { ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_RG, ARM_SUBNET, ARM_SUBSCRIPTION, ARM_TENANT, startArmServer, type ArmTestServer } from '../helpers/azure-arm-server.ts';
import { DIGITALOCEAN_TEST_TOKEN, startDigitalOceanServer, type DigitalOceanTestServer } from '../helpers/digitalocean-server.ts';
import { EC2_TEST_KEY_ID, EC2_TEST_SECRET, startEc2Server, type Ec2Server } from '../helpers/ec2-server/index.ts';
import { startGceServer, type GceTestServer } from '../helpers/gce-server/index.ts';
import { HETZNER_TEST_TOKEN, startHetznerServer, type HetznerTestServer } from '../helpers/hetzner-server.ts';
import { LINODE_TEST_TOKEN, startLinodeServer, type LinodeTestServer } from '../helpers/linode-server.ts';
import { OPENSTACK_TEST_TOKEN, startNovaServer, type NovaTestServer } from '../helpers/openstack-server.ts';

const ACCOUNTS = ['aws', 'os', 'gcp', 'az', 'do', 'hz', 'li'];
const QUERY = `{
  nodes(filter: { accounts: ${JSON.stringify(ACCOUNTS)} }, first: 500) {
    totalCount
    edges { node { name state region account { id provider } size { name price } image { name } } }
    failures { account code message }
  }
}`;
/** providers that publish prices; Azure and Nova sizes carry none */
const PRICED = ['aws', 'gcp', 'do', 'hz', 'li'];
const REGION: Record<string, string | null> = { aws: 'us-east-1', os: 'RegionOne', gcp: 'us-central1', az: 'eastus', do: null, hz: null, li: null };
/**
 * The upstream calls of one query once tokens are held: one listing per account and region, one
 * size listing, one image batch (DigitalOcean: its distribution and private image lists), and
 * Azure's network interfaces and public addresses listed once for every VM.
 */
const CALLS_PER_QUERY: Record<string, Record<string, number>> = {
  aws: { DescribeInstances: 1, DescribeImages: 1 },
  os: { 'GET /servers/detail': 1, 'GET /flavors/detail': 1, 'GET /v2/images': 1 },
  gcp: { 'GET aggregated/instances': 1, 'GET machineTypes': 1 },
  az: { ListVirtualMachines: 1, ListNetworkInterfaces: 1, ListPublicIPAddresses: 1, ListVirtualMachineSizes: 1, ListImages: 1 },
  do: { 'GET /droplets': 1, 'GET /sizes': 1, 'GET /images': 2 },
  hz: { 'GET /servers': 1, 'GET /server_types': 1, 'GET /images': 1 },
  li: { 'GET /linode/instances': 1, 'GET /linode/types': 1, 'GET /images': 1 },
};

interface Answer {
  nodes: {
    totalCount: number;
    edges: { node: { name: string; state: string; region: string | null; account: { id: string; provider: string }; size: { name: string; price: number | null } | null; image: { name: string } | null } }[];
    failures: { account: string; code: string; message: string }[];
  };
}
type Json = Record<string, unknown>;
type AnswerNode = Answer['nodes']['edges'][number]['node'];

const groupBy = (nodes: AnswerNode[]): Map<string, AnswerNode[]> => {
  const out = new Map<string, AnswerNode[]>();
  for (const n of nodes) out.set(n.account.id, [...(out.get(n.account.id) ?? []), n]);
  return out;
};

describe('api: one query across seven clouds', () => {
  let ec2: Ec2Server;
  let nova: NovaTestServer;
  let gce: GceTestServer;
  let arm: ArmTestServer;
  let digitalocean: DigitalOceanTestServer;
  let hetzner: HetznerTestServer;
  let linode: LinodeTestServer;
  let hetznerStopped = false;
  let t: TestApp;
  const titles = new Map<string, string>();

  /** upstream calls so far, per account and operation (from /metrics) */
  const calls = async (): Promise<Record<string, Record<string, number>>> => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const out: Record<string, Record<string, number>> = {};
    for (const m of text.matchAll(/^skygraph_upstream_calls_total\{account="([^"]+)",operation="([^"]+)"\} (\d+)$/gm)) (out[m[1]!] ??= {})[m[2]!] = Number(m[3]);
    return out;
  };
  const delta = (after: Record<string, Record<string, number>>, before: Record<string, Record<string, number>>) => {
    const out: Record<string, Record<string, number>> = {};
    for (const [account, ops] of Object.entries(after)) {
      for (const [op, n] of Object.entries(ops)) {
        const d = n - (before[account]?.[op] ?? 0);
        if (d) (out[account] ??= {})[op] = d;
      }
    }
    return out;
  };
  /** the names each stand-in holds (EC2's are recorded and fixed: checked by count) */
  const expectedNames = (): Record<string, string[]> => ({
    os: [...nova.servers.values()].map((s) => String(s.name)),
    gcp: [...gce.compute.instances.values()].filter((i) => /\/zones\/us-central1-[a-z]$/.test(String(i.zone))).map((i) => String(i.name)),
    az: [...arm.vms.values()].filter((v) => v.location === 'eastus').map((v) => String(v.name)),
    do: [...digitalocean.droplets.values()].map((d) => String(d.name)),
    hz: [...hetzner.servers.values()].map((s) => String(s.name)),
    li: [...linode.instances.values()].map((l) => String(l.label)),
  });
  /** three more nodes in every stand-in that can grow (EC2's listing is recorded); Nova's through its own API */
  const grow = async (): Promise<void> => {
    const clone = <T extends Json>(map: Map<string, T>, key: string | undefined, make: (base: T, i: number) => [string, T]) => {
      const base = map.get(key ?? [...map.keys()][0]!)!;
      for (let i = 0; i < 3; i++) map.set(...make(structuredClone(base), i));
    };
    const web = [...nova.servers.values()].find((s) => s.name === 'web-1')!;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${nova.computeUrl}/servers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': OPENSTACK_TEST_TOKEN, 'x-openstack-nova-api-version': '2.37' },
        body: JSON.stringify({ server: { name: `bulk-os-${i}`, imageRef: (web.image as Json).id, flavorRef: (web.flavor as Json).id, networks: 'auto' } }),
      });
      expect(res.status).toBe(202);
      await res.arrayBuffer();
    }
    clone(gce.compute.instances, 'us-central1-a/web-1', (s, i) => [
      `us-central1-a/bulk-gcp-${i}`,
      { ...s, id: String(9_000_000_000 + i), name: `bulk-gcp-${i}`, selfLink: String(s.selfLink).replace(/web-1$/, `bulk-gcp-${i}`) },
    ]);
    arm.addVms(3);
    clone(digitalocean.droplets, undefined, (d, i) => [String(990_000 + i), { ...d, id: 990_000 + i, name: `bulk-do-${i}` }]);
    clone(hetzner.servers, undefined, (s, i) => [String(880_000 + i), { ...s, id: 880_000 + i, name: `bulk-hz-${i}` }]);
    clone(linode.instances, undefined, (l, i) => [String(770_000 + i), { ...l, id: 770_000 + i, label: `bulk-li-${i}` }]);
  };
  const query = () => t.gql<Answer>(QUERY);

  beforeAll(async () => {
    [ec2, nova, gce, arm, digitalocean, hetzner, linode] = await Promise.all([
      startEc2Server(),
      startNovaServer(),
      startGceServer(),
      // why: pages larger than the VMs it will hold, so growing the account adds no page
      startArmServer({ pageSize: 50 }),
      startDigitalOceanServer(),
      startHetznerServer(),
      startLinodeServer(),
    ]);
    const accounts = [
      { id: 'aws', driver: 'ec2', regions: ['us-east-1'], endpoint: ec2.url, credentials: { accessKeyId: EC2_TEST_KEY_ID, secretAccessKey: EC2_TEST_SECRET } },
      { id: 'os', driver: 'openstack', endpoint: nova.computeUrl, credentials: { token: OPENSTACK_TEST_TOKEN }, options: { imageEndpoint: nova.imageUrl } },
      { id: 'gcp', driver: 'gce', regions: ['us-central1'], endpoint: gce.url, credentials: { serviceAccountJson: gce.serviceAccountJson } },
      {
        id: 'az',
        driver: 'azure',
        regions: ['eastus'],
        endpoint: arm.url,
        credentials: { tenantId: ARM_TENANT, clientId: ARM_CLIENT_ID, clientSecret: ARM_CLIENT_SECRET },
        options: { subscriptionId: ARM_SUBSCRIPTION, loginEndpoint: arm.url, resourceGroup: ARM_RG, subnetId: ARM_SUBNET, operationPollMs: 0 },
      },
      { id: 'do', driver: 'digitalocean', endpoint: digitalocean.endpoint, credentials: { token: DIGITALOCEAN_TEST_TOKEN } },
      { id: 'hz', driver: 'hetzner', endpoint: hetzner.endpoint, credentials: { token: HETZNER_TEST_TOKEN } },
      { id: 'li', driver: 'linode', endpoint: linode.endpoint, credentials: { token: LINODE_TEST_TOKEN } },
    ];
    for (const a of accounts) titles.set(a.id, (await loadProvider(a.driver))!.title);
    // why: no result cache, so every query reaches the stand-ins and its calls can be counted
    t = await startTestApp({ accounts: accounts.map((a) => ({ ...a, cacheTtlMs: 0 })) }, { http: { retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 5 } } });
  }, 20_000);

  afterAll(async () => {
    await t?.stop();
    await Promise.all([ec2?.close(), nova?.close(), gce?.close(), arm?.close(), digitalocean?.close(), hetznerStopped ? undefined : hetzner?.close(), linode?.close()]);
  });

  it('lists every account\'s nodes in one answer, each under its own account and provider, with sizes and images resolved', async () => {
    const r = await query();
    expect(r.errors).toBeUndefined();
    const { edges, failures, totalCount } = r.data!.nodes;
    expect(failures).toEqual([]);
    expect(totalCount).toBe(edges.length);
    const byAccount = groupBy(edges.map((e) => e.node));
    expect([...byAccount.keys()].sort()).toEqual([...ACCOUNTS].sort());
    for (const [account, names] of Object.entries(expectedNames())) expect(byAccount.get(account)!.map((n) => n.name).sort(), account).toEqual(names.sort());
    expect(byAccount.get('aws')!.length).toBe(5);
    for (const [account, nodes] of byAccount) {
      for (const n of nodes) {
        expect(n.account.provider, account).toBe(titles.get(account));
        expect(n.region, account).toBe(REGION[account]);
        expect(n.size?.name, `${account} ${n.name} has its size`).toEqual(expect.any(String));
        if (PRICED.includes(account)) expect(n.size!.price, `${account} ${n.name} has a price`).toBeGreaterThan(0);
        else expect(n.size!.price).toBeNull();
      }
    }
    // every provider here but Compute Engine (no image on the instance) names its nodes' images
    for (const account of ACCOUNTS.filter((a) => a !== 'gcp')) expect(byAccount.get(account)!.some((n) => n.image?.name), `${account} resolves images`).toBe(true);
    expect(byAccount.get('aws')!.find((n) => n.name === 'web-1')).toMatchObject({ state: 'RUNNING', size: { name: 't3.micro' }, image: { name: 'skygraph-web-2024-05' } });
    expect(byAccount.get('hz')!.find((n) => n.name === 'db-1')).toMatchObject({ state: 'STOPPED', size: { name: 'CX32' }, image: { name: 'debian-12' } });
    for (const server of [ec2, nova, gce, arm, digitalocean, hetzner, linode]) expect(server.failures).toEqual([]);
  });

  it('costs each account the same upstream calls however many nodes it holds: one listing, one size listing, one image batch', async () => {
    // why: the first query of a process also fetches OAuth tokens and Compute Engine's zones, once
    await query();
    const before = await calls();
    const small = await query();
    expect(delta(await calls(), before)).toEqual(CALLS_PER_QUERY);
    await grow();
    const mid = await calls();
    const large = await query();
    expect(large.data!.nodes.failures).toEqual([]);
    expect(delta(await calls(), mid)).toEqual(CALLS_PER_QUERY);
    const grown = groupBy(large.data!.nodes.edges.map((e) => e.node));
    for (const [account, names] of Object.entries(expectedNames())) expect(grown.get(account)!.map((n) => n.name).sort(), account).toEqual(names.sort());
    expect(large.data!.nodes.totalCount).toBe(small.data!.nodes.totalCount + 18);
    expect(grown.get('li')!.find((n) => n.name === 'bulk-li-0')!.size?.name).toEqual(expect.any(String));
  });

  it('answers for the others when one cloud is down: that account is a failure with a code, at the nodes field', async () => {
    await hetzner.close();
    hetznerStopped = true;
    const r: GraphQLResult<Answer> = await query();
    const { edges, failures } = r.data!.nodes;
    expect(failures).toEqual([{ account: 'hz', code: 'CONNECTION_FAILED', message: expect.stringMatching(/^\[hetzner\] /) }]);
    expect(r.errors?.map((e) => [e.path, e.extensions?.code, e.extensions?.account])).toEqual([[['nodes'], 'CONNECTION_FAILED', 'hz']]);
    const answered = new Set(edges.map((e) => e.node.account.id));
    expect([...answered].sort()).toEqual(ACCOUNTS.filter((a) => a !== 'hz').sort());
    expect(edges.every((e) => e.node.size?.name)).toBe(true);
  });
});
