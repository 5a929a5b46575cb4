import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { EC2_TEST_KEY_ID, EC2_TEST_SECRET, startEc2Server, type Ec2Server } from '../helpers/ec2-server/index.ts';
import { NOVA_DEMO_USER, startRealNova, type RealNova } from '../helpers/nova.ts';

// The README's cross-cloud query, run against recorded EC2 responses and a real Nova API.
const QUERY = `{
  nodes(filter: { accounts: ["aws-prod", "openstack"] }, first: 100) {
    totalCount
    edges { node { name state region publicIps size { name ram price } image { name } } }
    failures { account code message }
  }
}`;

describe('api: one query across EC2 and OpenStack', () => {
  let ec2: Ec2Server;
  let nova: RealNova;
  let t: TestApp;
  beforeAll(async () => {
    [ec2, nova] = await Promise.all([startEc2Server(), startRealNova()]);
    t = await startTestApp({
      accounts: [
        { id: 'aws-prod', driver: 'ec2', regions: ['us-east-1'], endpoint: ec2.url, credentials: { accessKeyId: EC2_TEST_KEY_ID, secretAccessKey: EC2_TEST_SECRET } },
        {
          id: 'openstack',
          driver: 'openstack',
          region: 'RegionOne',
          credentials: {
            auth_url: nova.keystoneUrl,
            username: NOVA_DEMO_USER.name,
            password: NOVA_DEMO_USER.password,
            project_name: NOVA_DEMO_USER.project,
            user_domain_name: 'Default',
            project_domain_name: 'Default',
          },
        },
      ],
    });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await Promise.all([ec2?.close(), nova?.close()]);
  });

  it('lists nodes of both clouds in one answer, with sizes and images resolved per cloud', async () => {
    const flavors = await t.gql<{ sizes: { nodes: { nativeId: string; name: string }[] }; images: { nodes: { nativeId: string }[] } }>(
      '{ sizes(filter: { accounts: ["openstack"] }) { nodes { nativeId name } } images(filter: { accounts: ["openstack"] }, first: 1) { nodes { nativeId } } }',
    );
    expect(flavors.errors).toBeUndefined();
    const created = await t.gql<{ createNode: { node: { id: string } } }>(
      'mutation($s: ID!, $i: ID!) { createNode(input: { account: "openstack", name: "os-web-1", size: $s, image: $i }) { node { id } } }',
      { s: flavors.data!.sizes.nodes[0]!.nativeId, i: flavors.data!.images.nodes[0]!.nativeId },
    );
    expect(created.errors).toBeUndefined();

    const r = await t.gql<{ nodes: { totalCount: number; failures: unknown[]; edges: { node: { name: string; region: string; size: { name: string } | null; image: { name: string } | null } }[] } }>(QUERY);
    expect(r.errors).toBeUndefined();
    expect(r.data!.nodes.failures).toEqual([]);
    const names = r.data!.nodes.edges.map((e) => e.node.name);
    expect(names).toContain('os-web-1');
    const fromAws = r.data!.nodes.edges.filter((e) => e.node.region === 'us-east-1');
    const fromOpenStack = r.data!.nodes.edges.filter((e) => e.node.region === 'RegionOne');
    expect(fromAws.length).toBeGreaterThan(0);
    expect(fromOpenStack.length).toBeGreaterThan(0);
    expect(fromOpenStack.find((e) => e.node.name === 'os-web-1')!.node.size?.name).toBe(flavors.data!.sizes.nodes[0]!.name);
    expect(fromAws.every((e) => e.node.size?.name)).toBe(true);
    expect(t.calls('aws-prod', 'DescribeInstances')).toBeGreaterThanOrEqual(1);
    expect(ec2.failures).toEqual([]);
  }, 120_000);
});
