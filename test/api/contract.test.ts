/**
 * API 1.0's contract, through the HTTP API: resources link to their accounts, lists share one
 * resolver between Query and Account, errors carry their real paths, health reflects every call,
 * connections page both ways and order, and the result cache spares repeated listings.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTestConfig, startTestApp, type TestApp } from '../helpers/app.ts';
import { EC2_TEST_KEY_ID, EC2_TEST_SECRET, startEc2Server, type Ec2Server } from '../helpers/ec2-server/index.ts';

const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb0X6yLZ3ahh8ZyRk5VwqYy0yB3qz6h2f7G1sQq1m9K test@skygraph';

describe('api contract: resources and accounts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(
      defaultTestConfig([
        { id: 'broken', driver: 'sandbox', options: { fail: 'RATE_LIMITED' } },
        { id: 'idle', driver: 'sandbox' },
      ]),
    );
  });
  afterAll(() => t.stop());

  it('says an account whose every call fails is FAILING, one never called UNKNOWN, and a healthy one OK', async () => {
    await t.gql('{ sizes(filter: { accounts: ["broken", "sandbox"] }) { totalCount } }');
    const r = await t.gql<{ accounts: { id: string; health: { status: string; ok: boolean; consecutiveFailures: number; lastError: { code: string } | null } }[] }>(
      '{ accounts { id health { status ok consecutiveFailures lastError { code message } lastSuccessAt lastFailureAt } } }',
    );
    const health = Object.fromEntries(r.data!.accounts.map((a) => [a.id, a.health]));
    expect(health.broken).toMatchObject({ status: 'FAILING', ok: false, lastError: { code: 'RATE_LIMITED' } });
    expect(health.broken!.consecutiveFailures).toBeGreaterThanOrEqual(1);
    expect(health.idle).toMatchObject({ status: 'UNKNOWN', ok: true, consecutiveFailures: 0, lastError: null });
    expect(health.sandbox).toMatchObject({ status: 'OK', ok: true });
    // not-found answers do not count against an account
    await t.gql('query($id: ID!) { node(id: $id) { id } }', { id: Buffer.from(JSON.stringify(['Node', 'idle', '', 'nope'])).toString('base64url') });
    const idle = await t.gql<{ account: { health: { status: string } } }>('{ account(id: "idle") { health { status } } }');
    expect(idle.data!.account.health.status).toBe('OK');
  });

  it('links every resource type to its account, with nativeId and region, through its own field and through resource(id)', async () => {
    const LINK = 'id nativeId region account { id driver provider }';
    const setup = await t.gql<{
      importKeyPair: { keyPair: { id: string } };
      createVolume: { volume: { id: string } };
      createContainer: { container: { id: string } };
    }>(
      `mutation($k: String!) {
        importKeyPair(input: { account: "sandbox", name: "contract", publicKey: $k }) { keyPair { id } }
        createVolume(input: { account: "sandbox", name: "contract", size: 1 }) { volume { id } }
        createContainer(input: { account: "local", name: "contract" }) { container { id } }
      }`,
      { k: PUBLIC_KEY },
    );
    expect(setup.errors).toBeUndefined();
    const snapshot = await t.gql<{ createVolumeSnapshot: { snapshot: { id: string } } }>(
      'mutation($v: ID!) { createVolumeSnapshot(input: { volume: $v }) { snapshot { id } } }',
      { v: setup.data!.createVolume.volume.id },
    );
    const put = await fetch(`${t.url}/objects/${setup.data!.createContainer.container.id}/hello.txt`, { method: 'PUT', body: 'hi' });
    const object = (await put.json()) as { id: string };

    const r = await t.gql<Record<string, { nodes: Record<string, unknown>[] } | Record<string, unknown>>>(
      `query($snap: ID!, $object: ID!) {
        nodes(filter: { accounts: ["sandbox"] }, first: 1) { nodes { ${LINK} image { ${LINK} } size { ${LINK} } location { ${LINK} } } }
        keyPairs(filter: { accounts: ["sandbox"] }) { nodes { ${LINK} } }
        volumes(filter: { accounts: ["sandbox"] }) { nodes { ${LINK} } }
        snap: resource(id: $snap) { ${LINK} }
        containers { nodes { ${LINK} } }
        object: resource(id: $object) { ${LINK} }
        loadBalancers(filter: { accounts: ["sandbox"] }, first: 1) { nodes { ${LINK} members { nodes { ${LINK} } } } }
      }`,
      { snap: snapshot.data!.createVolumeSnapshot.snapshot.id, object: object.id },
    );
    expect(r.errors).toBeUndefined();
    const d = r.data as Record<string, { nodes: Record<string, Record<string, unknown>>[] }> & Record<string, Record<string, unknown>>;
    const node = d.nodes!.nodes[0]!;
    const lb = d.loadBalancers!.nodes[0]!;
    const resources: [string, Record<string, unknown>][] = [
      ['Node', node],
      ['Image', node.image!],
      ['Size', node.size!],
      ['Location', node.location!],
      ['KeyPair', d.keyPairs!.nodes[0]!],
      ['Volume', d.volumes!.nodes[0]!],
      ['VolumeSnapshot', d.snap!],
      ['Container', d.containers!.nodes[0]!],
      ['Object', d.object!],
      ['LoadBalancer', lb],
      ['Member', (lb.members as unknown as { nodes: Record<string, unknown>[] }).nodes[0]!],
    ];
    for (const [type, value] of resources) {
      const storage = type === 'Container' || type === 'Object';
      expect(value, type).toMatchObject({
        nativeId: expect.any(String),
        region: null,
        account: storage ? { id: 'local', driver: 'local', provider: 'Local folders' } : { id: 'sandbox', driver: 'sandbox', provider: 'skygraph sandbox' },
      });
      const again = await t.gql<{ resource: Record<string, unknown> }>(`query($id: ID!) { resource(id: $id) { __typename ${LINK} } }`, { id: value.id });
      const { id, nativeId, region, account } = value;
      expect(again.data!.resource, type).toEqual({ __typename: type, id, nativeId, region, account });
    }
  });

  it('reports failures at the path that saw them, under aliases and nested fields', async () => {
    const r = await t.gql<{ mine: { totalCount: number }; accounts: { id: string; nodes: { failures: { account: string; code: string }[] } }[] }>(
      '{ mine: nodes(filter: { accounts: ["broken", "sandbox"] }) { totalCount } accounts { id nodes { failures { account code } } } }',
    );
    const paths = r.errors!.map((e) => e.path);
    const index = r.data!.accounts.findIndex((a) => a.id === 'broken');
    expect(paths).toEqual(expect.arrayContaining([['mine'], ['accounts', index, 'nodes']]));
    expect(r.errors).toHaveLength(2);
    expect(r.errors!.every((e) => e.extensions?.code === 'RATE_LIMITED' && e.extensions?.account === 'broken')).toBe(true);
    expect(r.data!.accounts[index]!.nodes.failures).toEqual([{ account: 'broken', code: 'RATE_LIMITED' }]);
    // the storage account simply has no nodes
    const local = r.data!.accounts.find((a) => a.id === 'local');
    expect(local!.nodes.failures).toEqual([]);
  });

  it('names capabilities after GraphQL fields and refuses missing ones with the same name', async () => {
    const r = await t.gql<{ accounts: { id: string; capabilities: string[] }[] }>('{ accounts { id capabilities } }');
    const caps = Object.fromEntries(r.data!.accounts.map((a) => [a.id, a.capabilities]));
    expect(caps.sandbox).toEqual(expect.arrayContaining(['NODES', 'CREATE_NODE', 'DELETE_NODE', 'REBOOT_NODE', 'VOLUMES', 'KEY_PAIRS', 'LOAD_BALANCERS', 'UPDATE_LOAD_BALANCER']));
    expect(caps.local).not.toContain('ENABLE_CONTAINER_CDN');
    const containers = await t.gql<{ containers: { nodes: { id: string }[] } }>('{ containers(filter: { accounts: ["local"] }) { nodes { id } } }');
    const cdn = await t.gql('mutation($id: ID!) { enableContainerCdn(input: { id: $id }) { cdnUrl } }', { id: containers.data!.containers.nodes[0]!.id });
    expect(cdn.errors?.[0]?.extensions).toMatchObject({ code: 'UNSUPPORTED', capability: 'ENABLE_CONTAINER_CDN' });
  });

  it('pages backward with last/before and orders nodes, refusing a cursor of another order', async () => {
    type Page = { nodes: { edges: { cursor: string; node: { name: string; state: string; createdAt: string } }[]; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean } } };
    const q = `query($o: NodeOrder, $first: Int, $last: Int, $after: String, $before: String) {
      nodes(filter: { accounts: ["sandbox"] }, orderBy: $o, first: $first, last: $last, after: $after, before: $before) {
        edges { cursor node { name state createdAt } } pageInfo { hasNextPage hasPreviousPage }
      }
    }`;
    const all = (await t.gql<Page>(q, { o: { field: 'NAME', direction: 'DESC' }, first: 1000 })).data!.nodes.edges;
    const names = all.map((e) => e.node.name);
    expect(names).toEqual([...names].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
    expect(names.length).toBeGreaterThan(3);

    const tail = await t.gql<Page>(q, { o: { field: 'NAME', direction: 'DESC' }, last: 2 });
    expect(tail.data!.nodes.edges.map((e) => e.node.name)).toEqual(names.slice(-2));
    expect(tail.data!.nodes.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
    const before = await t.gql<Page>(q, { o: { field: 'NAME', direction: 'DESC' }, last: 2, before: tail.data!.nodes.edges[0]!.cursor });
    expect(before.data!.nodes.edges.map((e) => e.node.name)).toEqual(names.slice(-4, -2));
    expect(before.data!.nodes.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: names.length > 4 });

    const byCreated = (await t.gql<Page>(q, { o: { field: 'CREATED_AT' }, first: 1000 })).data!.nodes.edges.map((e) => e.node.createdAt);
    expect(byCreated.filter((c) => c !== null)).toEqual([...byCreated.filter((c) => c !== null)].sort());
    const byState = (await t.gql<Page>(q, { o: { field: 'STATE', direction: 'ASC' }, first: 1000 })).data!.nodes.edges.map((e) => e.node.state);
    expect(byState).toEqual([...byState].sort());

    const foreign = await t.gql(q, { o: { field: 'STATE' }, first: 1, after: all[0]!.cursor });
    expect(foreign.errors?.[0]).toMatchObject({ message: 'argument "after" is not a cursor of this list and order', extensions: { code: 'INVALID_INPUT', argument: 'after' } });
  });

  it('counts objects where it can, null where it cannot, and reports a failing listing in failures at its path', async () => {
    const c = await t.gql<{ createContainer: { container: { id: string } } }>('mutation { createContainer(input: { account: "local", name: "counted" }) { container { id } } }');
    const cid = c.data!.createContainer.container.id;
    for (const name of ['p/1', 'p/2', 'p/3', 'q']) expect((await fetch(`${t.url}/objects/${cid}/${name}`, { method: 'PUT', body: name })).status).toBe(201);
    const count = async (args: string) =>
      (await t.gql<{ container: { objects: { totalCount: number | null } } }>(`query($id: ID!) { container(id: $id) { objects(${args}) { totalCount } } }`, { id: cid })).data!
        .container.objects.totalCount;
    expect(await count('first: 2')).toBe(4);
    expect(await count('prefix: "p/", first: 3')).toBe(3);
    expect(await count('prefix: "p/", first: 2')).toBeNull();

    // the listing of containers is cached; the folder goes away behind skygraph's back
    const listed = await t.gql<{ containers: { nodes: { name: string }[] } }>('{ containers(filter: { accounts: ["local"] }) { nodes { name } } }');
    const index = listed.data!.containers.nodes.findIndex((n) => n.name === 'counted');
    rmSync(path.join(t.dataDir, 'counted'), { recursive: true, force: true });
    const r = await t.gql<{ containers: { nodes: { name: string; objects: { totalCount: number | null; failures: { account: string; code: string }[] } }[] } }>(
      '{ containers(filter: { accounts: ["local"] }) { nodes { name objects { totalCount failures { account code } } } } }',
    );
    expect(r.data!.containers.nodes[index]).toEqual({ name: 'counted', objects: { totalCount: 0, failures: [{ account: 'local', code: 'NOT_FOUND' }] } });
    expect(r.errors).toEqual([expect.objectContaining({ path: ['containers', 'nodes', index, 'objects'], extensions: expect.objectContaining({ code: 'NOT_FOUND', account: 'local' }) })]);
  });
});

describe('api contract: regions and the result cache (EC2, two regions)', () => {
  let ec2: Ec2Server;
  let t: TestApp;
  const credentials = { accessKeyId: EC2_TEST_KEY_ID, secretAccessKey: EC2_TEST_SECRET };
  beforeAll(async () => {
    ec2 = await startEc2Server({ generated: 10_000, pageSize: 1000 });
    t = await startTestApp({
      accounts: [
        { id: 'aws', driver: 'ec2', regions: ['us-east-1', 'eu-west-1'], endpoint: ec2.url, credentials, cacheTtlMs: 600_000 },
        { id: 'aws-nocache', driver: 'ec2', regions: ['us-east-1', 'eu-west-1'], endpoint: ec2.url, credentials, cacheTtlMs: 0 },
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await ec2?.close();
  });

  const describes = (action: string, region?: string) => ec2.requests.filter((r) => r.action === action && (!region || r.region === region)).length;

  it('honours the region filter on Account.images as on Query.images, asking only that region', async () => {
    const before = { east: describes('DescribeImages', 'us-east-1'), west: describes('DescribeImages', 'eu-west-1') };
    const r = await t.gql<{ images: { nodes: { region: string }[] }; account: { images: { nodes: { region: string }[] } } }>(
      '{ images(filter: { accounts: ["aws"], regions: ["eu-west-1"] }) { nodes { region } } account(id: "aws") { images(filter: { regions: ["eu-west-1"] }) { nodes { region } } } }',
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.account.images).toEqual(r.data!.images);
    expect(describes('DescribeImages', 'us-east-1')).toBe(before.east);
    expect(describes('DescribeImages', 'eu-west-1')).toBeGreaterThan(before.west);
    const east = await t.gql<{ account: { images: { nodes: { region: string }[] } } }>('{ account(id: "aws") { images(filter: { regions: ["us-east-1"] }) { nodes { region } } } }');
    expect(east.data!.account.images.nodes.length).toBeGreaterThan(0);
    expect(east.data!.account.images.nodes.every((i) => i.region === 'us-east-1')).toBe(true);
  });

  it('pages through 10,000 instances 1,000 at a time with one upstream listing per region', async () => {
    const page = 'query($a: [ID!], $after: String) { nodes(filter: { accounts: $a }, first: 1000, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }';
    const walk = async (account: string, pages = 12) => {
      const before = { east: describes('DescribeInstances', 'us-east-1'), west: describes('DescribeInstances', 'eu-west-1') };
      const seen = new Set<string>();
      let after: string | null = null;
      for (let i = 0; i < pages; i++) {
        const r: { data?: { nodes: { totalCount: number; edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } | null } = await t.gql(page, {
          a: [account],
          after,
        });
        for (const e of r.data!.nodes.edges) seen.add(e.node.id);
        if (!r.data!.nodes.pageInfo.hasNextPage) break;
        after = r.data!.nodes.pageInfo.endCursor;
      }
      return { seen: seen.size, east: describes('DescribeInstances', 'us-east-1') - before.east, west: describes('DescribeInstances', 'eu-west-1') - before.west };
    };
    const cached = await walk('aws');
    expect(cached.seen).toBeGreaterThanOrEqual(10_000);
    // one listing: 10 EC2 pages of 1,000 in us-east-1 (plus the recorded instances' page), 1 call in the empty eu-west-1
    expect(cached.east).toBeLessThanOrEqual(11);
    expect(cached.west).toBe(1);
    // without the cache (cacheTtlMs: 0) every page lists everything again
    const uncached = await walk('aws-nocache', 2);
    expect(uncached.seen).toBe(2000);
    expect(uncached.east).toBe(2 * cached.east);
    expect(uncached.west).toBe(2);
  }, 120_000);

  it("drops the account's cached listings when a mutation changes it", async () => {
    const count = '{ nodes(filter: { accounts: ["aws"], regions: ["eu-west-1"] }) { totalCount } }';
    const before = describes('DescribeInstances', 'eu-west-1');
    expect((await t.gql<{ nodes: { totalCount: number } }>(count)).data!.nodes.totalCount).toBe(0);
    expect(describes('DescribeInstances', 'eu-west-1')).toBe(before);
    const images = await t.gql<{ images: { nodes: { nativeId: string }[] } }>('{ images(filter: { accounts: ["aws"], regions: ["us-east-1"] }, first: 1) { nodes { nativeId } } }');
    const sizes = await t.gql<{ sizes: { nodes: { nativeId: string }[] } }>('{ sizes(filter: { accounts: ["aws"], regions: ["eu-west-1"] }, first: 1) { nodes { nativeId } } }');
    const created = await t.gql('mutation($i: CreateNodeInput!) { createNode(input: $i) { node { id } } }', {
      i: { account: 'aws', region: 'eu-west-1', name: 'fresh', size: sizes.data!.sizes.nodes[0]!.nativeId, image: images.data!.images.nodes[0]!.nativeId },
    });
    expect(created.errors).toBeUndefined();
    expect((await t.gql<{ nodes: { totalCount: number } }>(count)).data!.nodes.totalCount).toBe(1);
    expect(describes('DescribeInstances', 'eu-west-1')).toBeGreaterThan(before);
    expect(ec2.failures).toEqual([]);
  });
});
