/**
 * Live subscriptions: nodeChanged and loadBalancerChanged, over graphql-ws and SSE. Events come
 * from the live hub's shared pollers (one list call per account, region and kind per interval,
 * whatever the number of subscribers) and from skygraph's own mutations, at once. Each event is
 * resolved with fresh loaders, so nested fields show the resource as the event saw it.
 */
import { builder } from '../builder.ts';
import { freshContext, type Context } from '../context.ts';
import { decodeId, type ResourceType } from '../ids.ts';
import type { LiveEvent, LiveKind } from '../live/types.ts';
import type { LiveBalancer } from '../live/resources.ts';
import { liveSource } from '../live/shared-results.ts';
import type { Node as NodeModel } from '../providers/types.ts';
import { scope, selectAccounts } from '../resolvers/fan-out.ts';
import { BalancerStateEnum, NodeStateEnum } from './enums.ts';
import { LoadBalancer } from './load-balancer.ts';
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
    loadBalancer: t.field({
      type: LoadBalancer,
      description: 'The balancer as it is now, its members included (for DELETED, as last seen).',
      resolve: (e) => scope(e.item, e.accountId, e.region),
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
  const decoded = ids.map((id) => decodeId(String(id), type, 'filter.ids'));
  return { ids: decoded.map((d) => d.parts[0] ?? ''), accounts: decoded.map((d) => d.account) };
}

interface EventFilter {
  accounts?: readonly (string | number)[] | null;
  regions?: readonly string[] | null;
  ids?: readonly (string | number)[] | null;
  states?: readonly string[] | null;
}

function subscribe(ctx: Context, kind: LiveKind, type: ResourceType, filter: EventFilter | null | undefined, match?: (event: LiveEvent) => boolean) {
  const ids = nativeIds(filter?.ids, type);
  const named = filter?.accounts?.map(String) ?? (ids.accounts.length ? ids.accounts : null);
  const accounts = selectAccounts(ctx, named, kind === 'node' ? 'COMPUTE' : 'LOADBALANCER', 'filter.accounts').map((a) => a.config.id);
  const regions = filter?.regions;
  const matches =
    regions || match ? (e: LiveEvent) => (!regions || (e.region !== null && regions.includes(e.region))) && (!match || match(e)) : undefined;
  // why: over graphql-ws, identical subscriptions share one execution per event (src/live/shared-results.ts)
  return liveSource(ctx, ctx.services.live.subscribe({ kind, accounts, ids: ids.ids, states: filter?.states ? [...filter.states] : undefined, match: matches }));
}

const NodeEventFilter = builder.inputType('NodeEventFilter', {
  fields: (t) => ({
    accounts: t.idList({ description: 'Only these accounts (all compute accounts when omitted).' }),
    regions: t.stringList({ description: 'Only these regions.' }),
    ids: t.idList({ description: 'Only these nodes (Node ids); their accounts are watched when `accounts` is omitted.' }),
    states: t.field({ type: [NodeStateEnum], description: 'Only changes whose new or previous state is one of these.' }),
    tags: t.field({ type: [TagFilter], description: 'Only nodes carrying every one of these tags, as the event carries the node (for DELETED, as last seen).' }),
  }),
});

const LoadBalancerEventFilter = builder.inputType('LoadBalancerEventFilter', {
  fields: (t) => ({
    accounts: t.idList({ description: 'Only these accounts (all load-balancer accounts when omitted).' }),
    regions: t.stringList({ description: 'Only these regions.' }),
    ids: t.idList({ description: 'Only these balancers (LoadBalancer ids).' }),
    states: t.field({ type: [BalancerStateEnum], description: 'Only changes whose new or previous state is one of these.' }),
  }),
});

builder.subscriptionFields((t) => ({
  nodeChanged: t.field({
    type: NodeEvent,
    description: 'Node changes: created, deleted, state, addresses, tags.',
    args: { filter: t.arg({ type: NodeEventFilter }) },
    subscribe: (_root, { filter }, ctx) => {
      const tags = filter?.tags?.length ? filter.tags : null;
      // why: events from a replica on an older version may carry a node without tags
      const match = tags ? (e: LiveEvent) => matchesTags((e.item as Partial<NodeModel>).tags ?? {}, tags) : undefined;
      return subscribe(ctx, 'node', 'Node', filter, match) as AsyncIterable<LiveEvent<NodeModel>>;
    },
    resolve: (event, _args, ctx) => {
      freshContext(ctx);
      return event;
    },
  }),
  loadBalancerChanged: t.field({
    type: LoadBalancerEvent,
    description: 'Load-balancer changes, member attach/detach included (as UPDATED, with the new member list in loadBalancer.members).',
    args: { filter: t.arg({ type: LoadBalancerEventFilter }) },
    subscribe: (_root, { filter }, ctx) => subscribe(ctx, 'loadBalancer', 'LoadBalancer', filter) as AsyncIterable<LiveEvent<LiveBalancer>>,
    resolve: (event, _args, ctx) => {
      const { members, ...balancer } = event.item;
      const loaders = freshContext(ctx).loaders.loadBalancer(event.accountId, event.region);
      loaders.balancer.prime(event.id, balancer);
      loaders.members.prime(event.id, members ?? []);
      return event;
    },
  }),
}));
