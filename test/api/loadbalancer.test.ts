import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTestConfig, startTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(defaultTestConfig());
});
afterAll(() => t.stop());

type Balancer = { id: string; name: string; state: string; port: number; protocol: string; algorithm: string; members: { id: string; ip: string; port: number; node: { id: string } | null }[] };
const FIELDS = 'id name state port protocol algorithm members { id ip port node { id } }';

describe('api: load balancers on the sandbox', () => {
  it('lists protocols and algorithms, and balancers across accounts', async () => {
    const r = await t.gql<{ loadBalancerProtocols: string[]; loadBalancerAlgorithms: string[]; loadBalancers: { totalCount: number; edges: { node: Balancer }[] } }>(
      `{ loadBalancerProtocols(account: "sandbox") loadBalancerAlgorithms(account: "sandbox") loadBalancers { totalCount edges { node { ${FIELDS} } } } }`,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.loadBalancerProtocols).toContain('http');
    expect(r.data!.loadBalancerAlgorithms).toContain('ROUND_ROBIN');
    expect(r.data!.loadBalancerAlgorithms).not.toContain('WEIGHTED_LEAST_CONNECTIONS');
    expect(r.data!.loadBalancers.totalCount).toBeGreaterThan(0);
  });

  it('creates a balancer, attaches an address and a node, detaches, and destroys it', async () => {
    const created = await t.gql<{ createLoadBalancer: Balancer }>(
      `mutation($i: CreateLoadBalancerInput!) { createLoadBalancer(input: $i) { ${FIELDS} } }`,
      { i: { account: 'sandbox', name: 'web-lb', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [{ ip: '10.0.0.5', port: 8080 }] } },
    );
    expect(created.errors).toBeUndefined();
    const lb = created.data!.createLoadBalancer;
    expect(lb).toMatchObject({ name: 'web-lb', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN' });
    expect(lb.members).toEqual([expect.objectContaining({ ip: '10.0.0.5', port: 8080, node: null })]);

    const attached = await t.gql<{ attachMember: { ip: string; port: number } }>('mutation($b: ID!) { attachMember(balancer: $b, ip: "10.0.0.6", port: 8080) { ip port } }', { b: lb.id });
    expect(attached.data!.attachMember).toEqual({ ip: '10.0.0.6', port: 8080 });

    const nodes = await t.gql<{ nodes: { edges: { node: { id: string; state: string } }[] } }>('{ nodes(accounts: ["sandbox"], filter: { states: [RUNNING] }) { edges { node { id state } } } }');
    const nodeId = nodes.data!.nodes.edges[0]!.node.id;
    const viaNode = await t.gql<{ attachNode: { id: string; node: { id: string } } }>('mutation($b: ID!, $n: ID!) { attachNode(balancer: $b, node: $n, port: 9090) { id node { id } } }', { b: lb.id, n: nodeId });
    expect(viaNode.errors).toBeUndefined();
    expect(viaNode.data!.attachNode.node.id).toBe(nodeId);

    const member = await t.gql<{ resource: { __typename: string; port: number } }>('query($id: ID!) { resource(id: $id) { __typename ... on Member { port } } }', { id: viaNode.data!.attachNode.id });
    expect(member.data!.resource).toEqual({ __typename: 'Member', port: 9090 });

    const detached = await t.gql<{ detachMember: boolean }>('mutation($b: ID!, $m: ID!) { detachMember(balancer: $b, member: $m) }', { b: lb.id, m: viaNode.data!.attachNode.id });
    expect(detached.data!.detachMember).toBe(true);
    const after = await t.gql<{ loadBalancer: Balancer }>(`query($id: ID!) { loadBalancer(id: $id) { ${FIELDS} } }`, { id: lb.id });
    expect(after.data!.loadBalancer.members.map((m) => m.ip).sort()).toEqual(['10.0.0.5', '10.0.0.6']);

    const destroyed = await t.gql<{ destroyLoadBalancer: boolean }>('mutation($id: ID!) { destroyLoadBalancer(id: $id) }', { id: lb.id });
    expect(destroyed.data!.destroyLoadBalancer).toBe(true);
  });

  it('updates a balancer in place, and refuses an empty or unsupported change', async () => {
    const created = await t.gql<{ createLoadBalancer: Balancer }>(
      `mutation($i: CreateLoadBalancerInput!) { createLoadBalancer(input: $i) { ${FIELDS} } }`,
      { i: { account: 'sandbox', name: 'api-lb', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN' } },
    );
    const id = created.data!.createLoadBalancer.id;
    const updated = await t.gql<{ updateLoadBalancer: Balancer }>(
      `mutation($id: ID!) { updateLoadBalancer(id: $id, input: { name: "api-lb-2", port: 8443, algorithm: LEAST_CONNECTIONS }) { ${FIELDS} } }`,
      { id },
    );
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateLoadBalancer).toMatchObject({ id, name: 'api-lb-2', port: 8443, protocol: 'http', algorithm: 'LEAST_CONNECTIONS' });
    const read = await t.gql<{ loadBalancer: Balancer }>(`query($id: ID!) { loadBalancer(id: $id) { ${FIELDS} } }`, { id });
    expect(read.data!.loadBalancer).toMatchObject({ name: 'api-lb-2', port: 8443 });

    const empty = await t.gql('mutation($id: ID!) { updateLoadBalancer(id: $id, input: {}) { id } }', { id });
    expect(empty.errors?.[0]).toMatchObject({ message: 'argument "input" names nothing to change', extensions: { code: 'INVALID_INPUT' } });
    const algorithm = await t.gql('mutation($id: ID!) { updateLoadBalancer(id: $id, input: { algorithm: WEIGHTED_LEAST_CONNECTIONS }) { id } }', { id });
    expect(algorithm.errors?.[0]?.message).toMatch(/input\.algorithm.*WEIGHTED_LEAST_CONNECTIONS/);
    const port = await t.gql('mutation($id: ID!) { updateLoadBalancer(id: $id, input: { port: 0 }) { id } }', { id });
    expect(port.errors?.[0]?.message).toContain('input.port');
    await t.gql('mutation($id: ID!) { destroyLoadBalancer(id: $id) }', { id });
  });

  it('rejects an algorithm the provider does not support, naming it, and bad ports', async () => {
    const r = await t.gql('mutation($i: CreateLoadBalancerInput!) { createLoadBalancer(input: $i) { id } }', {
      i: { account: 'sandbox', name: 'x', port: 80, protocol: 'http', algorithm: 'WEIGHTED_LEAST_CONNECTIONS' },
    });
    expect(r.errors?.[0]?.message).toMatch(/input\.algorithm.*WEIGHTED_LEAST_CONNECTIONS/);
    expect(r.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    const port = await t.gql('mutation($i: CreateLoadBalancerInput!) { createLoadBalancer(input: $i) { id } }', {
      i: { account: 'sandbox', name: 'x', port: 70000, protocol: 'http', algorithm: 'ROUND_ROBIN' },
    });
    expect(port.errors?.[0]?.message).toContain('input.port');
  });

  it('looks up containers, objects and balancers through resource()', async () => {
    const lbs = await t.gql<{ loadBalancers: { edges: { node: { id: string } }[] } }>('{ loadBalancers(first: 1) { edges { node { id } } } }');
    const c = await t.gql<{ createContainer: { id: string } }>('mutation { createContainer(account: "local", name: "res") { id } }');
    const r = await t.gql<{ a: { __typename: string }; b: { __typename: string }; gone: null }>(
      'query($a: ID!, $b: ID!, $gone: ID!) { a: resource(id: $a) { __typename id } b: resource(id: $b) { __typename id } gone: resource(id: $gone) { id } }',
      { a: lbs.data!.loadBalancers.edges[0]!.node.id, b: c.data!.createContainer.id, gone: Buffer.from(JSON.stringify(['Node', 'sandbox', '', 'no-such-node'])).toString('base64url') },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ a: { __typename: 'LoadBalancer', id: lbs.data!.loadBalancers.edges[0]!.node.id }, b: { __typename: 'Container', id: c.data!.createContainer.id }, gone: null });
  });
});
