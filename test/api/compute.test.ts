import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTestConfig, startTestApp, until, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(defaultTestConfig());
});
afterAll(() => t.stop());

const NODE_FIELDS = 'id nativeId name state publicIps privateIps createdAt region extra size { id name ram price } image { id name } location { id name country }';

describe('api: compute on the sandbox', () => {
  it('lists accounts with services, regions and capabilities', async () => {
    const r = await t.gql<{ accounts: { id: string; driver: string; provider: string; services: string[]; capabilities: string[] }[] }>(
      '{ accounts { id driver provider services regions capabilities } }',
    );
    expect(r.errors).toBeUndefined();
    const byId = Object.fromEntries(r.data!.accounts.map((a) => [a.id, a]));
    expect(byId.sandbox!.services).toEqual(['COMPUTE', 'LOADBALANCER', 'DNS']);
    expect(byId.sandbox!.capabilities).toEqual(expect.arrayContaining(['NODES', 'REBOOT_NODE', 'START_NODE', 'STOP_NODE', 'LOAD_BALANCERS', 'UPDATE_LOAD_BALANCER']));
    expect(byId.sandbox!.provider).toBe('skygraph sandbox');
    expect(byId.local!.services).toEqual(['STORAGE']);
    expect(byId.local!.capabilities).toEqual(['CONTAINERS', 'CREATE_CONTAINER', 'DELETE_CONTAINER', 'UPLOAD_OBJECT', 'DELETE_OBJECT']);
    expect(JSON.stringify(r)).not.toMatch(/credential/i);
  });

  it('lists nodes with their size, image and location, through yoga.fetch and over HTTP alike', async () => {
    const q = `{ nodes { totalCount failures { account } edges { cursor node { ${NODE_FIELDS} } } } }`;
    const [viaFetch, viaHttp] = await Promise.all([t.fetchGql(q), t.gql(q)]);
    expect(viaFetch).toEqual(viaHttp);
    const nodes = (viaHttp.data as { nodes: { totalCount: number; edges: { node: Record<string, unknown> }[] } }).nodes;
    expect(nodes.totalCount).toBeGreaterThan(0);
    const first = nodes.edges[0]!.node;
    expect(first.state).toMatch(/^[A-Z]+$/);
    expect(first.size).toMatchObject({ name: expect.any(String), ram: expect.any(Number) });
    expect(first.image).toMatchObject({ name: expect.any(String) });
    expect(first.location).toMatchObject({ country: expect.any(String) });
  });

  it('pages with first/after and filters by state and name', async () => {
    const all = await t.gql<{ nodes: { totalCount: number; edges: { node: { id: string; state: string } }[] } }>('{ nodes { totalCount edges { node { id state } } } }');
    const ids = all.data!.nodes.edges.map((e) => e.node.id);
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page: { data?: { nodes: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } | null } =
        await t.gql('query($after: String) { nodes(first: 1, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }', { after });
      seen.push(...page.data!.nodes.edges.map((e) => e.node.id));
      if (!page.data!.nodes.pageInfo.hasNextPage) break;
      after = page.data!.nodes.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);
    const state = all.data!.nodes.edges[0]!.node.state;
    const filtered = await t.gql<{ nodes: { edges: { node: { state: string } }[] } }>(
      'query($s: [NodeState!]) { nodes(filter: { states: $s }) { edges { node { state } } } }',
      { s: [state] },
    );
    expect(filtered.data!.nodes.edges.length).toBeGreaterThan(0);
    expect(filtered.data!.nodes.edges.every((e) => e.node.state === state)).toBe(true);
  });

  it('looks up every resource type by global id through node(), resource() and the typed lookups', async () => {
    const r = await t.gql<{ nodes: { edges: { node: { id: string; size: { id: string }; image: { id: string }; location: { id: string } } }[] } }>(
      '{ nodes(first: 1) { edges { node { id size { id } image { id } location { id } } } } }',
    );
    const n = r.data!.nodes.edges[0]!.node;
    const one = await t.gql<{ node: { id: string }; r: { __typename: string; id: string }; s: { __typename: string }; i: { __typename: string }; l: { __typename: string } }>(
      'query($n: ID!, $s: ID!, $i: ID!, $l: ID!) { node(id: $n) { id } r: resource(id: $n) { __typename id } s: resource(id: $s) { __typename } i: resource(id: $i) { __typename } l: resource(id: $l) { __typename } }',
      { n: n.id, s: n.size.id, i: n.image.id, l: n.location.id },
    );
    expect(one.errors).toBeUndefined();
    expect(one.data!.node.id).toBe(n.id);
    expect(one.data!.r).toEqual({ __typename: 'Node', id: n.id });
    expect([one.data!.s.__typename, one.data!.i.__typename, one.data!.l.__typename]).toEqual(['Size', 'Image', 'Location']);
  });

  it('lists images, sizes (with prices) and locations per account', async () => {
    const r = await t.gql<{ images: { totalCount: number }; sizes: { nodes: { price: number | null }[] }; locations: { nodes: { country: string }[] } }>(
      '{ images(filter: { accounts: ["sandbox"] }) { totalCount } sizes(filter: { accounts: ["sandbox"] }) { nodes { id ram disk price } } locations(filter: { accounts: ["sandbox"] }) { nodes { id country } } }',
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.images.totalCount).toBeGreaterThan(0);
    expect(r.data!.sizes.nodes.some((s) => typeof s.price === 'number')).toBe(true);
    expect(r.data!.locations.nodes.length).toBeGreaterThan(0);
  });

  it('creates a node that goes pending -> running, then reboots, stops, starts and destroys it', async () => {
    const refs = await t.gql<{ sizes: { nodes: { id: string }[] }; images: { nodes: { id: string }[] }; locations: { nodes: { id: string }[] } }>(
      '{ sizes(filter: { accounts: ["sandbox"] }) { nodes { id } } images(filter: { accounts: ["sandbox"] }, first: 1) { nodes { id } } locations(filter: { accounts: ["sandbox"] }) { nodes { id } } }',
    );
    const created = await t.gql<{ createNode: { node: { id: string; state: string; name: string } } }>(
      'mutation($input: CreateNodeInput!) { createNode(input: $input) { node { id name state } } }',
      { input: { account: 'sandbox', name: 'api-test', size: refs.data!.sizes.nodes[0]!.id, image: refs.data!.images.nodes[0]!.id, location: refs.data!.locations.nodes[0]!.id } },
    );
    expect(created.errors).toBeUndefined();
    expect(created.data!.createNode.node).toMatchObject({ name: 'api-test', state: 'PENDING' });
    const id = created.data!.createNode.node.id;
    const state = () => t.gql<{ node: { state: string } | null }>('query($id: ID!) { node(id: $id) { state } }', { id }).then((r) => r.data!.node?.state);
    expect(await until(state, (s) => s === 'RUNNING')).toBe('RUNNING');

    const rebooted = await t.gql<{ rebootNode: { node: { state: string } } }>('mutation($id: ID!) { rebootNode(input: { id: $id }) { node { state } } }', { id });
    expect(rebooted.data!.rebootNode.node.state).toBe('REBOOTING');
    expect(await until(state, (s) => s === 'RUNNING')).toBe('RUNNING');
    const stopped = await t.gql<{ stopNode: { node: { state: string } } }>('mutation($id: ID!) { stopNode(input: { id: $id }) { node { state } } }', { id });
    expect(stopped.data!.stopNode.node.state).toBe('STOPPING');
    expect(await until(state, (s) => s === 'STOPPED')).toBe('STOPPED');
    const started = await t.gql<{ startNode: { node: { state: string } } }>('mutation($id: ID!) { startNode(input: { id: $id }) { node { state } } }', { id });
    expect(['STARTING', 'RUNNING']).toContain(started.data!.startNode.node.state);
    const deleted = await t.gql<{ deleteNode: { deletedId: string } }>('mutation($id: ID!) { deleteNode(input: { id: $id }) { deletedId } }', { id });
    expect(deleted.data!.deleteNode.deletedId).toBe(id);
    expect(await until(state, (s) => s === undefined || s === 'TERMINATED')).toMatch(/^(TERMINATED)?$|undefined/);
  });

  it('names the argument at fault in errors', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['{ nodes(first: 0) { totalCount } }', {}, 'first'],
      ['{ nodes(first: 1, last: 1) { totalCount } }', {}, 'last'],
      ['{ nodes(filter: { accounts: ["nope"] }) { totalCount } }', {}, 'filter.accounts'],
      ['{ nodes(filter: { accounts: ["local"] }) { totalCount } }', {}, 'filter.accounts'],
      ['{ nodes(after: "%%%") { totalCount } }', {}, 'after'],
      ['{ nodes(before: "%%%") { totalCount } }', {}, 'before'],
      ['{ node(id: "not-an-id") { id } }', {}, 'id'],
      ['mutation($i: CreateNodeInput!) { createNode(input: $i) { node { id } } }', { i: { account: 'sandbox', name: 'x', size: 'no-such-size', image: 'x' } }, 'size'],
      ['mutation($i: CreateNodeInput!) { createNode(input: $i) { node { id } } }', { i: { account: 'ghost', name: 'x', size: 'a', image: 'b' } }, 'input.account'],
      ['mutation { rebootNode(input: { id: "x" }) { node { id } } }', {}, 'input.id'],
    ];
    for (const [query, variables, argument] of cases) {
      const r = await t.gql(query, variables);
      expect(r.errors?.[0]?.message, query).toContain(argument);
      expect(r.errors?.[0]?.extensions?.code, query).toMatch(/INVALID_INPUT|NOT_FOUND/);
    }
  });

  it('rejects an unknown node id with null, and a wrong-type id with an error', async () => {
    const nodes = await t.gql<{ nodes: { edges: { node: { id: string; size: { id: string } } }[] } }>('{ nodes(first: 1) { edges { node { id size { id } } } } }');
    const sizeId = nodes.data!.nodes.edges[0]!.node.size.id;
    const wrong = await t.gql('query($id: ID!) { node(id: $id) { id } }', { id: sizeId });
    expect(wrong.errors?.[0]?.message).toMatch(/"id" is a Size id/);
  });
});
