import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTestConfig, startTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(defaultTestConfig());
});
afterAll(() => t.stop());

type Balancer = {
  id: string;
  name: string;
  state: string;
  port: number;
  protocol: string;
  algorithm: string;
  members: { totalCount: number; nodes: { id: string; ip: string; port: number; node: { id: string } | null }[] };
};
const FIELDS = 'id name state port protocol algorithm members { totalCount nodes { id ip port node { id } } }';

describe('api: load balancers on the sandbox', () => {
  it('lists protocols and algorithms, and balancers across accounts', async () => {
    const r = await t.gql<{ account: { loadBalancerProtocols: string[]; loadBalancerAlgorithms: string[] }; loadBalancers: { totalCount: number; edges: { node: Balancer }[] } }>(
      `{ account(id: "sandbox") { loadBalancerProtocols loadBalancerAlgorithms } loadBalancers { totalCount edges { node { ${FIELDS} } } } }`,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.account.loadBalancerProtocols).toContain('http');
    expect(r.data!.account.loadBalancerAlgorithms).toContain('ROUND_ROBIN');
    expect(r.data!.account.loadBalancerAlgorithms).not.toContain('WEIGHTED_LEAST_CONNECTIONS');
    expect(r.data!.loadBalancers.totalCount).toBeGreaterThan(0);
  });

  it('creates a balancer, attaches an address and a node, detaches, and deletes it', async () => {
    const created = await t.gql<{ createLoadBalancer: { loadBalancer: Balancer } }>(
      `mutation($i: CreateLoadBalancerInput!) { createLoadBalancer(input: $i) { loadBalancer { ${FIELDS} } } }`,
      { i: { account: 'sandbox', name: 'web-lb', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [{ ip: '10.0.0.5', port: 8080 }] } },
    );
    expect(created.errors).toBeUndefined();
    const lb = created.data!.createLoadBalancer.loadBalancer;
    expect(lb).toMatchObject({ name: 'web-lb', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN' });
    expect(lb.members.nodes).toEqual([expect.objectContaining({ ip: '10.0.0.5', port: 8080, node: null })]);

    const attached = await t.gql<{ attachMember: { member: { ip: string; port: number }; loadBalancer: Balancer } }>(
      `mutation($b: ID!) { attachMember(input: { loadBalancer: $b, ip: "10.0.0.6", port: 8080 }) { member { ip port } loadBalancer { ${FIELDS} } } }`,
      { b: lb.id },
    );
    expect(attached.data!.attachMember.member).toEqual({ ip: '10.0.0.6', port: 8080 });
    expect(attached.data!.attachMember.loadBalancer.members.totalCount).toBe(2);

    const nodes = await t.gql<{ nodes: { edges: { node: { id: string; state: string } }[] } }>(
      '{ nodes(filter: { accounts: ["sandbox"], states: [RUNNING] }) { edges { node { id state } } } }',
    );
    const nodeId = nodes.data!.nodes.edges[0]!.node.id;
    const viaNode = await t.gql<{ attachNode: { member: { id: string; node: { id: string } } } }>(
      'mutation($b: ID!, $n: ID!) { attachNode(input: { loadBalancer: $b, node: $n, port: 9090 }) { member { id node { id } } } }',
      { b: lb.id, n: nodeId },
    );
    expect(viaNode.errors).toBeUndefined();
    const memberId = viaNode.data!.attachNode.member.id;
    expect(viaNode.data!.attachNode.member.node.id).toBe(nodeId);

    const member = await t.gql<{ resource: { __typename: string; port: number; account: { id: string } } }>(
      'query($id: ID!) { resource(id: $id) { __typename account { id } ... on Member { port } } }',
      { id: memberId },
    );
    expect(member.data!.resource).toEqual({ __typename: 'Member', port: 9090, account: { id: 'sandbox' } });

    const detached = await t.gql<{ detachMember: { detachedMemberId: string; loadBalancer: Balancer } }>(
      `mutation($m: ID!) { detachMember(input: { member: $m }) { detachedMemberId loadBalancer { ${FIELDS} } } }`,
      { m: memberId },
    );
    expect(detached.data!.detachMember.detachedMemberId).toBe(memberId);
    expect(detached.data!.detachMember.loadBalancer.members.nodes.map((m) => m.ip).sort()).toEqual(['10.0.0.5', '10.0.0.6']);
    const after = await t.gql<{ loadBalancer: Balancer }>(`query($id: ID!) { loadBalancer(id: $id) { ${FIELDS} } }`, { id: lb.id });
    expect(after.data!.loadBalancer.members.nodes.map((m) => m.ip).sort()).toEqual(['10.0.0.5', '10.0.0.6']);

    const page = await t.gql<{ loadBalancer: { members: { nodes: { ip: string }[]; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean } } } }>(
      'query($id: ID!) { loadBalancer(id: $id) { members(last: 1) { nodes { ip } pageInfo { hasNextPage hasPreviousPage } } } }',
      { id: lb.id },
    );
    expect(page.data!.loadBalancer.members).toMatchObject({ nodes: [expect.any(Object)], pageInfo: { hasNextPage: false, hasPreviousPage: true } });

    const deleted = await t.gql<{ deleteLoadBalancer: { deletedId: string } }>('mutation($id: ID!) { deleteLoadBalancer(input: { id: $id }) { deletedId } }', { id: lb.id });
    expect(deleted.data!.deleteLoadBalancer.deletedId).toBe(lb.id);
  });

  it('updates a balancer in place, and refuses an empty or unsupported change', async () => {
    const created = await t.gql<{ createLoadBalancer: { loadBalancer: Balancer } }>(
      `mutation($i: CreateLoadBalancerInput!) { createLoadBalancer(input: $i) { loadBalancer { ${FIELDS} } } }`,
      { i: { account: 'sandbox', name: 'api-lb', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN' } },
    );
    const id = created.data!.createLoadBalancer.loadBalancer.id;
    const updated = await t.gql<{ updateLoadBalancer: { loadBalancer: Balancer } }>(
      `mutation($id: ID!) { updateLoadBalancer(input: { id: $id, name: "api-lb-2", port: 8443, algorithm: LEAST_CONNECTIONS }) { loadBalancer { ${FIELDS} } } }`,
      { id },
    );
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateLoadBalancer.loadBalancer).toMatchObject({ id, name: 'api-lb-2', port: 8443, protocol: 'http', algorithm: 'LEAST_CONNECTIONS' });
    const read = await t.gql<{ loadBalancer: Balancer }>(`query($id: ID!) { loadBalancer(id: $id) { ${FIELDS} } }`, { id });
    expect(read.data!.loadBalancer).toMatchObject({ name: 'api-lb-2', port: 8443 });

    const update = (patch: string) => t.gql(`mutation($id: ID!) { updateLoadBalancer(input: { id: $id${patch} }) { loadBalancer { id } } }`, { id });
    const empty = await update('');
    expect(empty.errors?.[0]).toMatchObject({ message: 'argument "input" names nothing to change', extensions: { code: 'INVALID_INPUT' } });
    const algorithm = await update(', algorithm: WEIGHTED_LEAST_CONNECTIONS');
    expect(algorithm.errors?.[0]?.message).toMatch(/input\.algorithm.*WEIGHTED_LEAST_CONNECTIONS/);
    const port = await update(', port: 0');
    expect(port.errors?.[0]?.message).toContain('input.port');
    await t.gql('mutation($id: ID!) { deleteLoadBalancer(input: { id: $id }) { deletedId } }', { id });
  });

  it('rejects an algorithm the provider does not support, naming it, and bad ports', async () => {
    const r = await t.gql('mutation($i: CreateLoadBalancerInput!) { createLoadBalancer(input: $i) { loadBalancer { id } } }', {
      i: { account: 'sandbox', name: 'x', port: 80, protocol: 'http', algorithm: 'WEIGHTED_LEAST_CONNECTIONS' },
    });
    expect(r.errors?.[0]?.message).toMatch(/input\.algorithm.*WEIGHTED_LEAST_CONNECTIONS/);
    expect(r.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    const port = await t.gql('mutation($i: CreateLoadBalancerInput!) { createLoadBalancer(input: $i) { loadBalancer { id } } }', {
      i: { account: 'sandbox', name: 'x', port: 70000, protocol: 'http', algorithm: 'ROUND_ROBIN' },
    });
    expect(port.errors?.[0]?.message).toContain('input.port');
  });

  it('looks up containers, objects and balancers through resource()', async () => {
    const lbs = await t.gql<{ loadBalancers: { edges: { node: { id: string } }[] } }>('{ loadBalancers(first: 1) { edges { node { id } } } }');
    const c = await t.gql<{ createContainer: { container: { id: string } } }>('mutation { createContainer(input: { account: "local", name: "res" }) { container { id } } }');
    const cid = c.data!.createContainer.container.id;
    const r = await t.gql<{ a: { __typename: string }; b: { __typename: string }; gone: null }>(
      'query($a: ID!, $b: ID!, $gone: ID!) { a: resource(id: $a) { __typename id } b: resource(id: $b) { __typename id } gone: resource(id: $gone) { id } }',
      { a: lbs.data!.loadBalancers.edges[0]!.node.id, b: cid, gone: Buffer.from(JSON.stringify(['Node', 'sandbox', '', 'no-such-node'])).toString('base64url') },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ a: { __typename: 'LoadBalancer', id: lbs.data!.loadBalancers.edges[0]!.node.id }, b: { __typename: 'Container', id: cid }, gone: null });
  });
});
