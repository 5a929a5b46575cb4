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
    const r = await t.gql<{ accounts: { id: string; driver: string; services: string[]; capabilities: string[] }[] }>(
      '{ accounts { id driver services regions capabilities } }',
    );
    expect(r.errors).toBeUndefined();
    const byId = Object.fromEntries(r.data!.accounts.map((a) => [a.id, a]));
    expect(byId.sandbox!.services).toEqual(['COMPUTE', 'LOADBALANCER', 'DNS']);
    expect(byId.sandbox!.capabilities).toEqual(expect.arrayContaining(['rebootNode', 'startNode', 'stopNode']));
    expect(byId.local!.services).toEqual(['STORAGE']);
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
    const r = await t.gql<{ images: { totalCount: number }; sizes: { price: number | null }[]; locations: { country: string }[] }>(
      '{ images(account: "sandbox") { totalCount } sizes(account: "sandbox") { id ram disk price } locations(account: "sandbox") { id country } }',
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.images.totalCount).toBeGreaterThan(0);
    expect(r.data!.sizes.some((s) => typeof s.price === 'number')).toBe(true);
    expect(r.data!.locations.length).toBeGreaterThan(0);
  });

  it('creates a node that goes pending -> running, then reboots, stops, starts and destroys it', async () => {
    const refs = await t.gql<{ sizes: { id: string }[]; images: { edges: { node: { id: string } }[] }; locations: { id: string }[] }>(
      '{ sizes(account: "sandbox") { id } images(account: "sandbox", first: 1) { edges { node { id } } } locations(account: "sandbox") { id } }',
    );
    const created = await t.gql<{ createNode: { id: string; state: string; name: string } }>(
      'mutation($input: CreateNodeInput!) { createNode(input: $input) { id name state } }',
      { input: { account: 'sandbox', name: 'api-test', size: refs.data!.sizes[0]!.id, image: refs.data!.images.edges[0]!.node.id, location: refs.data!.locations[0]!.id } },
    );
    expect(created.errors).toBeUndefined();
    expect(created.data!.createNode).toMatchObject({ name: 'api-test', state: 'PENDING' });
    const id = created.data!.createNode.id;
    const state = () => t.gql<{ node: { state: string } | null }>('query($id: ID!) { node(id: $id) { state } }', { id }).then((r) => r.data!.node?.state);
    expect(await until(state, (s) => s === 'RUNNING')).toBe('RUNNING');

    const rebooted = await t.gql<{ rebootNode: { state: string } }>('mutation($id: ID!) { rebootNode(id: $id) { state } }', { id });
    expect(rebooted.data!.rebootNode.state).toBe('REBOOTING');
    expect(await until(state, (s) => s === 'RUNNING')).toBe('RUNNING');
    const stopped = await t.gql<{ stopNode: { state: string } }>('mutation($id: ID!) { stopNode(id: $id) { state } }', { id });
    expect(stopped.data!.stopNode.state).toBe('STOPPING');
    expect(await until(state, (s) => s === 'STOPPED')).toBe('STOPPED');
    const started = await t.gql<{ startNode: { state: string } }>('mutation($id: ID!) { startNode(id: $id) { state } }', { id });
    expect(['STARTING', 'RUNNING']).toContain(started.data!.startNode.state);
    const destroyed = await t.gql<{ destroyNode: boolean }>('mutation($id: ID!) { destroyNode(id: $id) }', { id });
    expect(destroyed.data!.destroyNode).toBe(true);
    expect(await until(state, (s) => s === undefined || s === 'TERMINATED')).toMatch(/^(TERMINATED)?$|undefined/);
  });

  it('names the argument at fault in errors', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['{ nodes(first: 0) { totalCount } }', {}, 'first'],
      ['{ nodes(accounts: ["nope"]) { totalCount } }', {}, 'accounts'],
      ['{ nodes(accounts: ["local"]) { totalCount } }', {}, 'accounts'],
      ['{ nodes(after: "%%%") { totalCount } }', {}, 'after'],
      ['{ node(id: "not-an-id") { id } }', {}, 'id'],
      ['mutation($i: CreateNodeInput!) { createNode(input: $i) { id } }', { i: { account: 'sandbox', name: 'x', size: 'no-such-size', image: 'x' } }, 'size'],
      ['mutation($i: CreateNodeInput!) { createNode(input: $i) { id } }', { i: { account: 'ghost', name: 'x', size: 'a', image: 'b' } }, 'input.account'],
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
