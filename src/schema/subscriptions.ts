/**
 * Live subscriptions: nodeChanged and loadBalancerChanged, over graphql-ws and SSE. Events come
 * from the live hub's shared pollers (one list call per account, region and kind per interval,
 * whatever the number of subscribers) and from skygraph's own mutations, at once.
 */
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, type ResourceType } from '../ids.ts';
import type { LiveEvent, LiveKind } from '../live/types.ts';
import type { LiveBalancer } from '../live/resources.ts';
import { liveSource } from '../live/shared-results.ts';
import type { Node as NodeModel } from '../providers/types.ts';
import { scope } from '../resolvers/fan-out.ts';
import { selectAccounts } from '../resolvers/fan-out.ts';
import { Account } from './account.ts';
import { BalancerStateEnum, NodeStateEnum } from './enums.ts';
import { LoadBalancer } from './load-balancer.ts';
import { Member, toMember } from './member.ts';
import { Node } from './node.ts';
import { DateTimeScalar } from './scalars.ts';
import { matchesTags, TagFilter } from './tag.ts';

builder.subscriptionType({ description: 'Live changes, detected by shared pollers or made through this API.' });

const ChangeKind = builder.enumType('ChangeKind', { values: ['CREATED', 'UPDATED', 'DELETED'] as const });
const ChangeSource = builder.enumType('ChangeSource', {
  values: { POLL: { value: 'poll' }, MUTATION: { value: 'mutation' } } as const,
});

const NodeEvent = builder.objectRef<LiveEvent<NodeModel>>('NodeEvent').implement({
  fields: (t) => ({
    kind: t.field({ type: ChangeKind, resolve: (e) => e.kind }),
    node: t.field({ type: Node, description: 'The node as it is now (for DELETED, as last seen).', resolve: (e) => scope(e.item, e.accountId, e.region) }),
    previousState: t.field({ type: NodeStateEnum, nullable: true, resolve: (e) => e.previousState as NodeModel['state'] | null }),
    state: t.field({ type: NodeStateEnum, nullable: true, resolve: (e) => e.state as NodeModel['state'] | null }),
    timestamp: t.field({ type: DateTimeScalar, resolve: (e) => e.timestamp }),
    source: t.field({ type: ChangeSource, resolve: (e) => e.source }),
  }),
});

const LoadBalancerEvent = builder.objectRef<LiveEvent<LiveBalancer>>('LoadBalancerEvent').implement({
  fields: (t) => ({
    kind: t.field({ type: ChangeKind, resolve: (e) => e.kind }),
    loadBalancer: t.field({ type: LoadBalancer, resolve: (e) => scope(e.item, e.accountId, e.region) }),
    members: t.field({
      type: [Member],
      description: 'The member list with this change applied (attach/detach are UPDATED events).',
      resolve: (e) => (e.item.members ?? []).map((m) => toMember(m, e.accountId, e.region, e.id)),
    }),
    previousState: t.field({ type: BalancerStateEnum, nullable: true, resolve: (e) => e.previousState as LiveBalancer['state'] | null }),
    state: t.field({ type: BalancerStateEnum, nullable: true, resolve: (e) => e.state as LiveBalancer['state'] | null }),
    timestamp: t.field({ type: DateTimeScalar, resolve: (e) => e.timestamp }),
    source: t.field({ type: ChangeSource, resolve: (e) => e.source }),
  }),
});

/** Native ids from global ids; the accounts they name join the subscription's accounts. */
function nativeIds(ids: readonly (string | number)[] | null | undefined, type: ResourceType): { ids?: string[]; accounts: string[] } {
  if (!ids?.length) return { accounts: [] };
  const decoded = ids.map((id) => decodeId(String(id), type, 'ids'));
  return { ids: decoded.map((d) => d.parts[0] ?? ''), accounts: decoded.map((d) => d.account) };
}

function subscribe(
  ctx: Context,
  kind: LiveKind,
  accountsArg: readonly (string | number)[] | null | undefined,
  ids: ReturnType<typeof nativeIds>,
  states?: string[],
  match?: (event: LiveEvent) => boolean,
) {
  const named = accountsArg?.map(String) ?? (ids.accounts.length ? ids.accounts : null);
  const accounts = selectAccounts(ctx, named, kind === 'node' ? 'COMPUTE' : 'LOADBALANCER').map((a) => a.config.id);
  // why: over graphql-ws, identical subscriptions share one execution per event (src/live/shared-results.ts)
  return liveSource(ctx, ctx.services.live.subscribe({ kind, accounts, ids: ids.ids, states, match }));
}

builder.subscriptionFields((t) => ({
  nodeChanged: t.field({
    type: NodeEvent,
    description:
      'Node changes on the given accounts (all compute accounts when omitted), optionally only these nodes, states (a state matches the new or the previous one) ' +
      'or tags (matched on the node as the event carries it; for DELETED, as last seen).',
    args: { accounts: t.arg.idList(), ids: t.arg.idList(), states: t.arg({ type: [NodeStateEnum] }), tags: t.arg({ type: [TagFilter] }) },
    subscribe: (_root, args, ctx) => {
      const tags = args.tags?.length ? args.tags : null;
      // why: events from a replica on an older version may carry a node without tags
      const match = tags ? (e: LiveEvent) => matchesTags((e.item as Partial<NodeModel>).tags ?? {}, tags) : undefined;
      return subscribe(ctx, 'node', args.accounts, nativeIds(args.ids, 'Node'), args.states ?? undefined, match) as AsyncIterable<LiveEvent<NodeModel>>;
    },
    resolve: (event) => event,
  }),
  loadBalancerChanged: t.field({
    type: LoadBalancerEvent,
    description: 'Load-balancer changes, member attach/detach included (as UPDATED with the new member list).',
    args: { accounts: t.arg.idList(), ids: t.arg.idList() },
    subscribe: (_root, args, ctx) =>
      subscribe(ctx, 'loadBalancer', args.accounts, nativeIds(args.ids, 'LoadBalancer')) as AsyncIterable<LiveEvent<LiveBalancer>>,
    resolve: (event) => event,
  }),
}));

const Health = builder
  .objectRef<ReturnType<Context['services']['live']['health']>>('AccountHealth')
  .implement({
    description: "The account's polling health on this replica (other replicas' pollers report ok).",
    fields: (t) => ({
      ok: t.exposeBoolean('ok'),
      consecutiveFailures: t.exposeInt('consecutiveFailures'),
      lastErrorCode: t.string({ nullable: true, resolve: (h) => h.lastError?.code ?? null }),
      lastErrorMessage: t.string({ nullable: true, resolve: (h) => h.lastError?.message ?? null }),
      lastSuccessAt: t.field({ type: DateTimeScalar, nullable: true, resolve: (h) => h.lastSuccessAt }),
    }),
  });

builder.objectField(Account, 'health', (t) =>
  t.field({ type: Health, resolve: (a, _args, ctx) => ctx.services.live.health(a.config.id) }),
);
