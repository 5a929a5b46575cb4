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
    '{ nodes(accounts: ["sandbox"]) { edges { node { id nativeId state location { nativeId } } } } }',
  );
  return r.data!.nodes.edges.find((e) => e.node.state === 'RUNNING')!.node;
}

describe('api: key pairs', () => {
  it('imports a public key, lists it, looks it up by id, uses it for a node and deletes it', async () => {
    const imported = await t.gql<{ importKeyPair: { id: string; name: string; fingerprint: string; publicKey: string } }>(
      'mutation($k: String!) { importKeyPair(account: "sandbox", name: "laptop", publicKey: $k) { id name fingerprint publicKey } }',
      { k: PUBLIC_KEY },
    );
    expect(imported.errors).toBeUndefined();
    const pair = imported.data!.importKeyPair;
    expect(pair).toMatchObject({ name: 'laptop', publicKey: PUBLIC_KEY });
    expect(pair.fingerprint).toMatch(/^SHA256:|^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);

    const listed = await t.gql<{ keyPairs: { totalCount: number; edges: { node: { id: string; name: string } }[]; failures: unknown[] } }>(
      '{ keyPairs(account: "sandbox") { totalCount failures { code } edges { node { id name } } } }',
    );
    expect(listed.data!.keyPairs.failures).toEqual([]);
    expect(listed.data!.keyPairs.edges.map((e) => e.node.id)).toContain(pair.id);

    const byId = await t.gql<{ resource: { __typename: string; name: string } }>('query($id: ID!) { resource(id: $id) { __typename ... on KeyPair { name } } }', { id: pair.id });
    expect(byId.data!.resource).toEqual({ __typename: 'KeyPair', name: 'laptop' });

    const again = await t.gql('mutation($k: String!) { importKeyPair(account: "sandbox", name: "laptop", publicKey: $k) { id } }', { k: PUBLIC_KEY });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const bad = await t.gql('mutation { importKeyPair(account: "sandbox", name: "junk", publicKey: "not a key") { id } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');

    const deleted = await t.gql<{ deleteKeyPair: boolean }>('mutation($id: ID!) { deleteKeyPair(id: $id) }', { id: pair.id });
    expect(deleted.data!.deleteKeyPair).toBe(true);
    expect((await t.gql<{ resource: unknown }>('query($id: ID!) { resource(id: $id) { id } }', { id: pair.id })).data!.resource).toBeNull();
  });

  it('refuses a region the account does not have, naming the argument', async () => {
    const r = await t.gql('mutation($k: String!) { importKeyPair(account: "sandbox", region: "mars-1", name: "k", publicKey: $k) { id } }', { k: PUBLIC_KEY });
    expect(r.errors?.[0]?.message).toBe('argument "region": account "sandbox" has no region "mars-1"');
    expect(r.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
  });

  it('refuses an account without compute, naming the argument', async () => {
    const r = await t.gql('{ keyPairs(account: "local") { totalCount } }');
    expect(r.errors?.[0]?.message).toBe('argument "account": account "local" (driver local) has no COMPUTE service');
  });
});

describe('api: volumes and snapshots', () => {
  it('creates a volume, attaches it to a node, snapshots it, detaches and destroys it', async () => {
    const node = await firstNode();
    const created = await t.gql<{ createVolume: { id: string; name: string; size: number; state: string } }>(
      'mutation($loc: ID!) { createVolume(input: { account: "sandbox", name: "data", size: 20, location: $loc }) { id name size state } }',
      { loc: node.location.nativeId },
    );
    expect(created.errors).toBeUndefined();
    const volume = created.data!.createVolume;
    expect(volume).toMatchObject({ name: 'data', size: 20 });

    const available = await until(
      () => t.gql<{ resource: { state: string } }>('query($id: ID!) { resource(id: $id) { ... on Volume { state } } }', { id: volume.id }),
      (r) => r.data?.resource.state === 'available',
    );
    expect(available.data!.resource.state).toBe('available');

    const attached = await t.gql<{ attachVolume: { state: string; extra: { nodeId?: string; device?: string } } }>(
      'mutation($v: ID!, $n: ID!) { attachVolume(volume: $v, node: $n, device: "/dev/vdc") { state extra } }',
      { v: volume.id, n: node.id },
    );
    expect(attached.errors).toBeUndefined();
    expect(attached.data!.attachVolume.state).toBe('inuse');
    expect(JSON.stringify(attached.data!.attachVolume.extra)).toContain(node.nativeId);

    const snap = await t.gql<{ createVolumeSnapshot: { id: string; name: string; size: number } }>(
      'mutation($v: ID!) { createVolumeSnapshot(volume: $v, name: "before-upgrade") { id name size } }',
      { v: volume.id },
    );
    expect(snap.data!.createVolumeSnapshot).toMatchObject({ name: 'before-upgrade', size: 20 });
    const listed = await t.gql<{ volumes: { edges: { node: { id: string } }[] }; volumeSnapshots: { id: string }[] }>(
      'query($v: ID!) { volumes(account: "sandbox") { edges { node { id } } } volumeSnapshots(volume: $v) { id } }',
      { v: volume.id },
    );
    expect(listed.data!.volumes.edges.map((e) => e.node.id)).toContain(volume.id);
    expect(listed.data!.volumeSnapshots.map((s) => s.id)).toEqual([snap.data!.createVolumeSnapshot.id]);

    const busy = await t.gql('mutation($id: ID!) { destroyVolume(id: $id) }', { id: volume.id });
    expect(busy.errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const restored = await until(
      () =>
        t.gql<{ createVolume: { size: number } }>('mutation($s: ID!, $loc: ID!) { createVolume(input: { account: "sandbox", name: "restored", size: 30, location: $loc, snapshot: $s }) { id size } }', {
          s: snap.data!.createVolumeSnapshot.id,
          loc: node.location.nativeId,
        }),
      (r) => r.errors === undefined,
    );
    expect(restored.data!.createVolume.size).toBe(30);

    const detached = await t.gql<{ detachVolume: { state: string } }>('mutation($v: ID!) { detachVolume(volume: $v) { state } }', { v: volume.id });
    expect(detached.data!.detachVolume.state).toBe('available');
    expect((await t.gql<{ destroyVolumeSnapshot: boolean }>('mutation($id: ID!) { destroyVolumeSnapshot(id: $id) }', { id: snap.data!.createVolumeSnapshot.id })).data!.destroyVolumeSnapshot).toBe(true);
    expect((await t.gql<{ destroyVolume: boolean }>('mutation($id: ID!) { destroyVolume(id: $id) }', { id: volume.id })).data!.destroyVolume).toBe(true);
    expect((await t.gql<{ resource: unknown }>('query($id: ID!) { resource(id: $id) { id } }', { id: volume.id })).data!.resource).toBeNull();
  });

  it('refuses a node of another account, naming the argument', async () => {
    const node = await firstNode();
    const created = await t.gql<{ createVolume: { id: string } }>('mutation { createVolume(input: { account: "other", name: "x", size: 1 }) { id } }');
    const r = await t.gql('mutation($v: ID!, $n: ID!) { attachVolume(volume: $v, node: $n) { id } }', { v: created.data!.createVolume.id, n: node.id });
    expect(r.errors?.[0]?.message).toContain('argument "node"');
  });
});

describe('api: tags', () => {
  it('creates a node with tags, lists them sorted, and filters nodes by key and by value', async () => {
    const refs = await t.gql<{ sizes: { nativeId: string }[]; images: { edges: { node: { nativeId: string } }[] } }>(
      '{ sizes(account: "sandbox") { nativeId } images(account: "sandbox", first: 1) { edges { node { nativeId } } } }',
    );
    const create = (name: string, tags: { key: string; value: string }[]) =>
      t.gql<{ createNode: { id: string; tags: { key: string; value: string }[] } }>(
        'mutation($i: CreateNodeInput!) { createNode(input: $i) { id tags { key value } } }',
        { i: { account: 'sandbox', name, size: refs.data!.sizes[0]!.nativeId, image: refs.data!.images.edges[0]!.node.nativeId, tags } },
      );
    const prod = await create('tagged-prod', [{ key: 'team', value: 'web' }, { key: 'env', value: 'prod' }]);
    expect(prod.errors).toBeUndefined();
    expect(prod.data!.createNode.tags).toEqual([{ key: 'env', value: 'prod' }, { key: 'team', value: 'web' }]);
    await create('tagged-dev', [{ key: 'env', value: 'dev' }]);

    const names = async (filter: unknown) =>
      (await t.gql<{ nodes: { edges: { node: { name: string } }[] } }>('query($f: NodeFilter) { nodes(accounts: ["sandbox"], filter: $f) { edges { node { name } } } }', { f: filter }))
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
    const made = await t.gql<{ createImage: { id: string; name: string } }>(
      'mutation($n: ID!) { createImage(node: $n, name: "golden", description: "after setup") { id name } }',
      { n: node.id },
    );
    expect(made.errors).toBeUndefined();
    expect(made.data!.createImage.name).toBe('golden');
    const images = await t.gql<{ images: { edges: { node: { id: string } }[] } }>('{ images(account: "sandbox", first: 100) { edges { node { id } } } }');
    expect(images.data!.images.edges.map((e) => e.node.id)).toContain(made.data!.createImage.id);
    expect((await t.gql<{ deleteImage: boolean }>('mutation($id: ID!) { deleteImage(id: $id) }', { id: made.data!.createImage.id })).data!.deleteImage).toBe(true);
    expect((await t.gql<{ resource: unknown }>('query($id: ID!) { resource(id: $id) { id } }', { id: made.data!.createImage.id })).data!.resource).toBeNull();
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

  it('answer UNSUPPORTED, name the operation, and are missing from the capabilities', async () => {
    const caps = await os.gql<{ account: { capabilities: string[] } }>('{ account(id: "os") { capabilities } }');
    expect(caps.data!.account.capabilities).toEqual(expect.arrayContaining(['listKeyPairs', 'importKeyPair']));
    expect(caps.data!.account.capabilities).not.toContain('listVolumes');
    expect(caps.data!.account.capabilities).not.toContain('createImage');

    const volumes = await os.gql('{ volumes(account: "os") { totalCount } }');
    expect(volumes.errors?.[0]).toMatchObject({ message: 'driver openstack does not support listVolumes (see Account.capabilities)', extensions: { code: 'UNSUPPORTED' } });
    const node = await os.gql<{ nodes: { edges: { node: { id: string } }[] } }>('{ nodes { edges { node { id } } } }');
    const image = await os.gql('mutation($n: ID!) { createImage(node: $n, name: "x") { id } }', { n: node.data!.nodes.edges[0]!.node.id });
    expect(image.errors?.[0]?.extensions?.code).toBe('UNSUPPORTED');
    expect(nova.requests.filter((r) => r.method !== 'GET')).toEqual([]);

    const lbs = await os.gql<{ loadBalancers: { edges: { node: { id: string } }[] } }>('{ loadBalancers(accounts: ["lb"]) { edges { node { id } } } }');
    const update = await os.gql('mutation($id: ID!) { updateLoadBalancer(id: $id, input: { name: "renamed" }) { id } }', { id: lbs.data!.loadBalancers.edges[0]!.node.id });
    expect(update.errors?.[0]).toMatchObject({ message: 'driver octavia does not support updateBalancer (see Account.capabilities)', extensions: { code: 'UNSUPPORTED' } });
    expect(octavia.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
