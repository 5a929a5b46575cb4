import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { collect, wsClient } from '../helpers/ws-client.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ accounts: [{ id: 'shared', driver: 'sandbox', pollIntervalMs: 250, options: { transitionMs: 400, nodes: 1 } }] }, { boostIntervalMs: 250 });
});
afterAll(() => t.stop());

type Ev = { nodeChanged: Record<string, unknown> };
const FULL = 'subscription($states: [NodeState!]) { nodeChanged(filter: { accounts: ["shared"], states: $states }) { kind source state node { name } } }';
const INCLUDE = 'subscription($withNode: Boolean!) { nodeChanged(filter: { accounts: ["shared"] }) { kind node @include(if: $withNode) { name } } }';
const SHORT = 'subscription { nodeChanged(filter: { accounts: ["shared"] }) { kind } }';

describe('live: one execution per event for identical subscriptions', () => {
  it('shares results only between the same document and variables, over one or several connections', async () => {
    const a = wsClient(t.url);
    const b = wsClient(t.url);
    const full1 = collect<Ev>(a, FULL);
    const full2 = collect<Ev>(a, FULL);
    const full3 = collect<Ev>(b, FULL);
    const short = collect<Ev>(a, SHORT);
    const running = collect<Ev>(a, FULL, { states: ['RUNNING'] });
    const withNode = collect<Ev>(a, INCLUDE, { withNode: true });
    const withoutNode = collect<Ev>(b, INCLUDE, { withNode: false });
    await new Promise((r) => setTimeout(r, 400));
    const sizes = await t.gql<{ sizes: { nodes: { nativeId: string }[] }; images: { nodes: { nativeId: string }[] } }>(
      '{ sizes(filter: { accounts: ["shared"] }) { nodes { nativeId } } images(filter: { accounts: ["shared"] }, first: 1) { nodes { nativeId } } }',
    );
    const size = sizes.data!.sizes.nodes[0]!.nativeId;
    const image = sizes.data!.images.nodes[0]!.nativeId;
    const created = await t.gql(`mutation { createNode(input: { account: "shared", name: "twin", size: "${size}", image: "${image}" }) { node { id } } }`);
    expect(created.errors).toBeUndefined();

    // CREATED (PENDING, from the mutation) then UPDATED to RUNNING (from the poller)
    const [e1, e2] = await full1.waitFor(2);
    expect(e1!.nodeChanged).toEqual({ kind: 'CREATED', source: 'MUTATION', state: 'PENDING', node: { name: 'twin' } });
    expect(e2!.nodeChanged).toEqual({ kind: 'UPDATED', source: 'POLL', state: 'RUNNING', node: { name: 'twin' } });
    expect(await full2.waitFor(2)).toEqual([e1, e2]);
    expect(await full3.waitFor(2)).toEqual([e1, e2]);
    // another selection set gets its own result, not the shared one
    expect(await short.waitFor(2)).toEqual([{ nodeChanged: { kind: 'CREATED' } }, { nodeChanged: { kind: 'UPDATED' } }]);
    // other variables: other result for the same document
    expect((await withNode.waitFor(2)).map((e) => e.nodeChanged)).toEqual([
      { kind: 'CREATED', node: { name: 'twin' } },
      { kind: 'UPDATED', node: { name: 'twin' } },
    ]);
    expect((await withoutNode.waitFor(2)).map((e) => e.nodeChanged)).toEqual([{ kind: 'CREATED' }, { kind: 'UPDATED' }]);
    // and another filter
    const [r1] = await running.waitFor(1);
    expect(r1!.nodeChanged).toEqual({ kind: 'UPDATED', source: 'POLL', state: 'RUNNING', node: { name: 'twin' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(running.events).toHaveLength(1);

    for (const s of [full1, full2, full3, short, running, withNode, withoutNode]) s.stop();
    await Promise.all([a.dispose(), b.dispose()]);
    const deadline = Date.now() + 5000;
    while (t.app.services.live.stats().subscribers > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(t.app.services.live.stats()).toMatchObject({ subscribers: 0, pollers: 0 });
  });
});
