/** Key pairs, volumes, volume snapshots and node images through the API, on the sandbox; and what a driver lacks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTestConfig, startTestApp, until, type TestApp } from '../helpers/app.ts';
import { OCTAVIA_SUBNET_ID, OPENSTACK_TEST_TOKEN, startNovaServer, startOctaviaServer, type NovaTestServer, type OctaviaTestServer } from '../helpers/openstack-server.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(defaultTestConfig([{ id: 'other', driver: 'sandbox', options: { transitionMs: 50 } }]));
});
afterAll(() => t.stop());

const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb0X6yLZ3ahh8ZyRk5VwqYy0yB3qz6h2f7G1sQq1m9K test@skygraph';

async function firstNode(): Promise<{ id: string; nativeId: string; location: { nativeId: string } }> {
  const r = await t.gql<{ nodes: { edges: { node: { id: string; nativeId: string; state: string; location: { nativeId: string } } }[] } }>(
    '{ nodes(filter: { accounts: ["sandbox"] }) { edges { node { id nativeId state location { nativeId } } } } }',
  );
  return r.data!.nodes.edges.find((e) => e.node.state === 'RUNNING')!.node;
}

describe('api: key pairs', () => {
  it('imports a public key, lists it, looks it up by id, uses it for a node and deletes it', async () => {
    const imported = await t.gql<{ importKeyPair: { keyPair: { id: string; name: string; fingerprint: string; publicKey: string; account: { id: string } } } }>(
      'mutation($k: String!) { importKeyPair(input: { account: "sandbox", name: "laptop", publicKey: $k }) { keyPair { id name fingerprint publicKey account { id } } } }',
      { k: PUBLIC_KEY },
    );
    expect(imported.errors).toBeUndefined();
    const pair = imported.data!.importKeyPair.keyPair;
    expect(pair.account.id).toBe('sandbox');
    expect(pair).toMatchObject({ name: 'laptop', publicKey: PUBLIC_KEY });
    expect(pair.fingerprint).toMatch(/^SHA256:|^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);

    const listed = await t.gql<{ keyPairs: { totalCount: number; edges: { node: { id: string; name: string } }[]; failures: unknown[] } }>(
      '{ keyPairs(filter: { accounts: ["sandbox"] }) { totalCount failures { code } edges { node { id name } } } }',
    );
    expect(listed.data!.keyPairs.failures).toEqual([]);
    expect(listed.data!.keyPairs.edges.map((e) => e.node.id)).toContain(pair.id);

    const byId = await t.gql<{ resource: { __typename: string; name: string } }>('query($id: ID!) { resource(id: $id) { __typename ... on KeyPair { name } } }', { id: pair.id });
    expect(byId.data!.resource).toEqual({ __typename: 'KeyPair', name: 'laptop' });

    const again = await t.gql('mutation($k: String!) { importKeyPair(input: { account: "sandbox", name: "laptop", publicKey: $k }) { keyPair { id } } }', { k: PUBLIC_KEY });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const bad = await t.gql('mutation { importKeyPair(input: { account: "sandbox", name: "junk", publicKey: "not a key" }) { keyPair { id } } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');

    const deleted = await t.gql<{ deleteKeyPair: { deletedId: string } }>('mutation($id: ID!) { deleteKeyPair(input: { id: $id }) { deletedId } }', { id: pair.id });
    expect(deleted.data!.deleteKeyPair.deletedId).toBe(pair.id);
    expect((await t.gql<{ resource: unknown }>('query($id: ID!) { resource(id: $id) { id } }', { id: pair.id })).data!.resource).toBeNull();
  });

  it('refuses a region the account does not have, naming the argument', async () => {
    const r = await t.gql('mutation($k: String!) { importKeyPair(input: { account: "sandbox", region: "mars-1", name: "k", publicKey: $k }) { keyPair { id } } }', { k: PUBLIC_KEY });
    expect(r.errors?.[0]?.message).toBe('argument "input.region": account "sandbox" has no region "mars-1"');
    expect(r.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
  });

  it('refuses an account without compute, naming the argument', async () => {
    const r = await t.gql('{ keyPairs(filter: { accounts: ["local"] }) { totalCount } }');
    expect(r.errors?.[0]?.message).toBe('argument "filter.accounts": account "local" (driver local) has no COMPUTE service');
    expect(r.errors?.[0]?.extensions?.argument).toBe('filter.accounts');
  });
});

describe('api: volumes and snapshots', () => {
  it('creates a volume, attaches it to a node, snapshots it, detaches and destroys it', async () => {
    const node = await firstNode();
    const created = await t.gql<{ createVolume: { volume: { id: string; name: string; size: number; state: string } } }>(
      'mutation($loc: ID!) { createVolume(input: { account: "sandbox", name: "data", size: 20, location: $loc }) { volume { id name size state } } }',
      { loc: node.location.nativeId },
    );
    expect(created.errors).toBeUndefined();
    const volume = created.data!.createVolume.volume;
    expect(volume).toMatchObject({ name: 'data', size: 20 });

    const available = await until(
      () => t.gql<{ resource: { state: string } }>('query($id: ID!) { resource(id: $id) { ... on Volume { state } } }', { id: volume.id }),
      (r) => r.data?.resource.state === 'AVAILABLE',
    );
    expect(available.data!.resource.state).toBe('AVAILABLE');

    const attached = await t.gql<{ attachVolume: { volume: { state: string; extra: { nodeId?: string; device?: string } } } }>(
      'mutation($v: ID!, $n: ID!) { attachVolume(input: { volume: $v, node: $n, device: "/dev/vdc" }) { volume { state extra } } }',
      { v: volume.id, n: node.id },
    );
    expect(attached.errors).toBeUndefined();
    expect(attached.data!.attachVolume.volume.state).toBe('INUSE');
    expect(JSON.stringify(attached.data!.attachVolume.volume.extra)).toContain(node.nativeId);

    const snap = await t.gql<{ createVolumeSnapshot: { snapshot: { id: string; name: string; size: number } } }>(
      'mutation($v: ID!) { createVolumeSnapshot(input: { volume: $v, name: "before-upgrade" }) { snapshot { id name size } } }',
      { v: volume.id },
    );
    const snapshot = snap.data!.createVolumeSnapshot.snapshot;
    expect(snapshot).toMatchObject({ name: 'before-upgrade', size: 20 });
    const listed = await t.gql<{ volumes: { edges: { node: { id: string } }[] }; volumeSnapshots: { nodes: { id: string }[] } }>(
      'query($v: ID!) { volumes(filter: { accounts: ["sandbox"] }) { edges { node { id } } } volumeSnapshots(volume: $v) { nodes { id } } }',
      { v: volume.id },
    );
    expect(listed.data!.volumes.edges.map((e) => e.node.id)).toContain(volume.id);
    expect(listed.data!.volumeSnapshots.nodes.map((s) => s.id)).toEqual([snapshot.id]);

    const busy = await t.gql('mutation($id: ID!) { deleteVolume(input: { id: $id }) { deletedId } }', { id: volume.id });
    expect(busy.errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const restored = await until(
      () =>
        t.gql<{ createVolume: { volume: { size: number } } }>(
          'mutation($s: ID!, $loc: ID!) { createVolume(input: { account: "sandbox", name: "restored", size: 30, location: $loc, snapshot: $s }) { volume { id size } } }',
          { s: snapshot.id, loc: node.location.nativeId },
        ),
      (r) => r.errors === undefined,
    );
    expect(restored.data!.createVolume.volume.size).toBe(30);

    const detached = await t.gql<{ detachVolume: { volume: { state: string } } }>('mutation($v: ID!) { detachVolume(input: { volume: $v }) { volume { state } } }', { v: volume.id });
    expect(detached.data!.detachVolume.volume.state).toBe('AVAILABLE');
    const snapDeleted = await t.gql<{ deleteVolumeSnapshot: { deletedId: string } }>('mutation($id: ID!) { deleteVolumeSnapshot(input: { id: $id }) { deletedId } }', { id: snapshot.id });
    expect(snapDeleted.data!.deleteVolumeSnapshot.deletedId).toBe(snapshot.id);
    const volDeleted = await t.gql<{ deleteVolume: { deletedId: string } }>('mutation($id: ID!) { deleteVolume(input: { id: $id }) { deletedId } }', { id: volume.id });
    expect(volDeleted.data!.deleteVolume.deletedId).toBe(volume.id);
    expect((await t.gql<{ resource: unknown }>('query($id: ID!) { resource(id: $id) { id } }', { id: volume.id })).data!.resource).toBeNull();
  });

  it('refuses a node of another account, naming the argument', async () => {
    const node = await firstNode();
    const created = await t.gql<{ createVolume: { volume: { id: string } } }>('mutation { createVolume(input: { account: "other", name: "x", size: 1 }) { volume { id } } }');
    const r = await t.gql('mutation($v: ID!, $n: ID!) { attachVolume(input: { volume: $v, node: $n }) { volume { id } } }', { v: created.data!.createVolume.volume.id, n: node.id });
    expect(r.errors?.[0]?.message).toContain('argument "input.node"');
  });
});

describe('api: tags', () => {
  it('creates a node with tags, lists them sorted, and filters nodes by key and by value', async () => {
    const refs = await t.gql<{ sizes: { nodes: { nativeId: string }[] }; images: { nodes: { nativeId: string }[] } }>(
      '{ sizes(filter: { accounts: ["sandbox"] }) { nodes { nativeId } } images(filter: { accounts: ["sandbox"] }, first: 1) { nodes { nativeId } } }',
    );
    const create = (name: string, tags: { key: string; value: string }[]) =>
      t.gql<{ createNode: { node: { id: string; tags: { key: string; value: string }[] } } }>(
        'mutation($i: CreateNodeInput!) { createNode(input: $i) { node { id tags { key value } } } }',
        { i: { account: 'sandbox', name, size: refs.data!.sizes.nodes[0]!.nativeId, image: refs.data!.images.nodes[0]!.nativeId, tags } },
      );
    const prod = await create('tagged-prod', [{ key: 'team', value: 'web' }, { key: 'env', value: 'prod' }]);
    expect(prod.errors).toBeUndefined();
    expect(prod.data!.createNode.node.tags).toEqual([{ key: 'env', value: 'prod' }, { key: 'team', value: 'web' }]);
    await create('tagged-dev', [{ key: 'env', value: 'dev' }]);

    const names = async (filter: unknown) =>
      (await t.gql<{ nodes: { edges: { node: { name: string } }[] } }>('query($f: NodeFilter) { nodes(filter: $f) { edges { node { name } } } }', { f: { accounts: ['sandbox'], ...(filter as object) } }))
        .data!.nodes.edges.map((e) => e.node.name).sort();
    expect(await names({ tags: [{ key: 'env' }] })).toEqual(['tagged-dev', 'tagged-prod']);
    expect(await names({ tags: [{ key: 'env', value: 'prod' }] })).toEqual(['tagged-prod']);
    expect(await names({ tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'db' }] })).toEqual([]);

    const twice = await create('bad', [{ key: 'env', value: 'a' }, { key: 'env', value: 'b' }]);
    expect(twice.errors?.[0]).toMatchObject({ message: 'argument "input.tags" names tag "env" twice', extensions: { code: 'INVALID_INPUT' } });
  });
});

describe('api: images from nodes', () => {
  it('makes an image of a node and deletes it', async () => {
    const node = await firstNode();
    const made = await t.gql<{ createImage: { image: { id: string; name: string } } }>(
      'mutation($n: ID!) { createImage(input: { node: $n, name: "golden", description: "after setup" }) { image { id name } } }',
      { n: node.id },
    );
    expect(made.errors).toBeUndefined();
    const image = made.data!.createImage.image;
    expect(image.name).toBe('golden');
    const images = await t.gql<{ images: { edges: { node: { id: string } }[] } }>('{ images(filter: { accounts: ["sandbox"] }, first: 100) { edges { node { id } } } }');
    expect(images.data!.images.edges.map((e) => e.node.id)).toContain(image.id);
    const deleted = await t.gql<{ deleteImage: { deletedId: string } }>('mutation($id: ID!) { deleteImage(input: { id: $id }) { deletedId } }', { id: image.id });
    expect(deleted.data!.deleteImage.deletedId).toBe(image.id);
    expect((await t.gql<{ resource: unknown }>('query($id: ID!) { resource(id: $id) { id } }', { id: image.id })).data!.resource).toBeNull();
  });
});

describe('api: operations a driver does not have', () => {
  let nova: NovaTestServer;
  let octavia: OctaviaTestServer;
  let os: TestApp;
  beforeAll(async () => {
    [nova, octavia] = await Promise.all([startNovaServer(), startOctaviaServer()]);
    os = await startTestApp({
      accounts: [
        { id: 'os', driver: 'openstack', endpoint: nova.computeUrl, credentials: { token: OPENSTACK_TEST_TOKEN }, options: { imageEndpoint: nova.imageUrl } },
        { id: 'lb', driver: 'octavia', endpoint: `${octavia.url}/v2`, credentials: { token: OPENSTACK_TEST_TOKEN }, options: { vipSubnetId: OCTAVIA_SUBNET_ID } },
      ],
    });
  });
  afterAll(async () => {
    await os?.stop();
    await Promise.all([nova?.close(), octavia?.close()]);
  });

  it('answer UNSUPPORTED, name the capability, and are missing from the capabilities', async () => {
    const caps = await os.gql<{ account: { capabilities: string[] } }>('{ account(id: "os") { capabilities } }');
    expect(caps.data!.account.capabilities).toEqual(expect.arrayContaining(['KEY_PAIRS', 'IMPORT_KEY_PAIR']));
    expect(caps.data!.account.capabilities).not.toContain('VOLUMES');
    expect(caps.data!.account.capabilities).not.toContain('CREATE_IMAGE');

    const volumes = await os.gql<{ volumes: { totalCount: number; failures: { account: string; code: string }[] } }>(
      '{ volumes(filter: { accounts: ["os"] }) { totalCount failures { account code } } }',
    );
    expect(volumes.data!.volumes).toEqual({ totalCount: 0, failures: [{ account: 'os', code: 'UNSUPPORTED' }] });
    expect(volumes.errors?.[0]).toMatchObject({
      message: 'account "os" (driver openstack) does not support VOLUMES (volumes); see Account.capabilities',
      path: ['volumes'],
      extensions: { code: 'UNSUPPORTED', account: 'os' },
    });
    const all = await os.gql<{ volumes: { totalCount: number; failures: unknown[] } }>('{ volumes { totalCount failures { account } } }');
    expect(all).toEqual({ data: { volumes: { totalCount: 0, failures: [] } } });
    const node = await os.gql<{ nodes: { edges: { node: { id: string } }[] } }>('{ nodes { edges { node { id } } } }');
    const image = await os.gql('mutation($n: ID!) { createImage(input: { node: $n, name: "x" }) { image { id } } }', { n: node.data!.nodes.edges[0]!.node.id });
    expect(image.errors?.[0]?.extensions).toMatchObject({ code: 'UNSUPPORTED', capability: 'CREATE_IMAGE' });
    expect(nova.requests.filter((r) => r.method !== 'GET')).toEqual([]);

    const lbs = await os.gql<{ loadBalancers: { edges: { node: { id: string } }[] } }>('{ loadBalancers(filter: { accounts: ["lb"] }) { edges { node { id } } } }');
    const update = await os.gql('mutation($id: ID!) { updateLoadBalancer(input: { id: $id, name: "renamed" }) { loadBalancer { id } } }', {
      id: lbs.data!.loadBalancers.edges[0]!.node.id,
    });
    expect(update.errors?.[0]).toMatchObject({
      message: 'account "lb" (driver octavia) does not support UPDATE_LOAD_BALANCER (updateLoadBalancer); see Account.capabilities',
      extensions: { code: 'UNSUPPORTED', capability: 'UPDATE_LOAD_BALANCER' },
    });
    expect(octavia.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
