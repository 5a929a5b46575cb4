import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, encodeId, type DecodedId } from '../ids.ts';
import { InvalidInputError, NotFoundError } from '../providers/errors.ts';
import type { Node as NodeModel } from '../providers/types.ts';
import { fanOut, scope, selectAccounts, withDeadline, type InAccount } from '../resolvers/fan-out.ts';
import { paginate } from '../resolvers/paginate.ts';
import { computeWith } from '../resolvers/capability.ts';
import { nativeIdFor, regionFor } from '../resolvers/refs.ts';
import { defineConnection } from './connection.ts';
import { NodeStateEnum } from './enums.ts';
import { Image } from './image.ts';
import { Location } from './location.ts';
import { Resource, resourceResolvers } from './resource.ts';
import { DateTimeScalar, JSONScalar } from './scalars.ts';
import { Size } from './size.ts';
import { matchesTags, Tag, TagFilter, TagInput, tagList, tagRecord } from './tag.ts';

export const Node = builder.objectRef<InAccount<NodeModel>>('Node').implement({
  description: 'A compute instance (server, VM) in one account.',
  interfaces: [Resource],
  fields: (t) => ({
    id: t.id({ resolve: (n) => encodeId('Node', n.$account, n.$region, n.id) }),
    nativeId: t.exposeString('id', { description: "The provider's own id." }),
    name: t.exposeString('name'),
    state: t.field({ type: NodeStateEnum, resolve: (n) => n.state }),
    publicIps: t.exposeStringList('publicIps'),
    privateIps: t.exposeStringList('privateIps'),
    createdAt: t.field({ type: DateTimeScalar, nullable: true, resolve: (n) => n.createdAt }),
    region: t.string({ nullable: true, resolve: (n) => n.$region }),
    tags: t.field({
      type: [Tag],
      description: "The provider's key/value labels (EC2 tags, OpenStack server metadata), sorted by key.",
      resolve: (n) => tagList(n.tags),
    }),
    extra: t.field({ type: JSONScalar, description: 'Provider-specific fields (zone, key name, security groups, ...).', resolve: (n) => n.extra }),
    size: t.field({
      type: Size,
      nullable: true,
      resolve: async (n, _a, ctx) => {
        const s = n.sizeId ? await ctx.loaders.compute(n.$account, n.$region).size.load(n.sizeId) : null;
        return s ? scope(s, n.$account, n.$region) : null;
      },
    }),
    image: t.field({
      type: Image,
      nullable: true,
      resolve: async (n, _a, ctx) => {
        const i = n.imageId ? await ctx.loaders.compute(n.$account, n.$region).image.load(n.imageId) : null;
        return i ? scope(i, n.$account, n.$region) : null;
      },
    }),
    location: t.field({
      type: Location,
      nullable: true,
      resolve: async (n, _a, ctx) => {
        const l = n.locationId ? await ctx.loaders.compute(n.$account, n.$region).location.load(n.locationId) : null;
        return l ? scope(l, n.$account, n.$region) : null;
      },
    }),
  }),
});

export const NodeFilter = builder.inputType('NodeFilter', {
  fields: (t) => ({
    states: t.field({ type: [NodeStateEnum], description: 'Only nodes in one of these states.' }),
    name: t.string({ description: 'Substring of the name, case-insensitive.' }),
    regions: t.stringList({ description: 'Only these regions.' }),
    tags: t.field({ type: [TagFilter], description: 'Only nodes that carry every one of these tags.' }),
  }),
});

export const NodeConnection = defineConnection('Node', Node);

/** Lists nodes of the given accounts through the loaders (one listNodes per account and region). */
export async function listNodes(ctx: Context, accounts: readonly string[] | null | undefined, argument = 'accounts') {
  return fanOut(ctx, selectAccounts(ctx, accounts, 'COMPUTE', argument), 'nodes', (acct, region) =>
    ctx.loaders.compute(acct.config.id, region).nodes(),
  );
}

builder.queryField('nodes', (t) =>
  t.field({
    type: NodeConnection,
    description: 'Nodes across accounts (all compute accounts when `accounts` is omitted), queried in parallel.',
    args: {
      accounts: t.arg.idList(),
      filter: t.arg({ type: NodeFilter }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const { items, failures } = await listNodes(ctx, args.accounts?.map(String));
      const f = args.filter;
      const name = f?.name?.toLowerCase();
      const kept = items.filter(
        (n) =>
          (!f?.states || f.states.includes(n.state)) &&
          (!name || n.name.toLowerCase().includes(name)) &&
          (!f?.regions || (n.$region !== null && f.regions.includes(n.$region))) &&
          matchesTags(n.tags, f?.tags ?? []),
      );
      return { ...paginate(kept, (n) => [n.$account, n.$region ?? '', n.id], args.first, args.after), failures };
    },
  }),
);

/** Loads one node by decoded id, under its account's deadline. */
export async function loadNode(ctx: Context, d: DecodedId): Promise<InAccount<NodeModel> | null> {
  const account = ctx.runtime.account(d.account, 'id');
  const node = await withDeadline(account, 'node', () => ctx.loaders.compute(d.account, d.region).node.load(d.parts[0] ?? ''));
  return node ? scope(node, d.account, d.region) : null;
}

builder.queryField('node', (t) =>
  t.field({
    type: Node,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => loadNode(ctx, decodeId(String(args.id), 'Node', 'id')),
  }),
);

resourceResolvers.set('Node', (id, ctx) => loadNode(ctx, decodeId(id, 'Node', 'id')));

const CreateNodeInput = builder.inputType('CreateNodeInput', {
  fields: (t) => ({
    account: t.id({ required: true }),
    region: t.string({ description: 'Required when the account has several regions; defaults to its only one.' }),
    name: t.string({ required: true }),
    size: t.id({ required: true, description: 'A Size id, or the provider\'s native size id.' }),
    image: t.id({ required: true, description: 'An Image id, or the provider\'s native image id.' }),
    location: t.id({ description: 'A Location id, or the provider\'s native location id.' }),
    sshKey: t.string({ description: 'Public key to install, where the provider supports it.' }),
    keyName: t.string({ description: 'Name of a key pair the provider already holds.' }),
    userData: t.string(),
    clientToken: t.string({ description: 'Idempotency token, passed upstream where supported.' }),
    tags: t.field({ type: [TagInput], description: 'Key/value labels (EC2 tags, OpenStack server metadata).' }),
    ex: t.field({ type: JSONScalar, description: 'Provider-only parameters (security groups, subnet, networks, metadata...).' }),
  }),
});

export type CreateNodeArgs = typeof CreateNodeInput.$inferInput;
export { CreateNodeInput };

/** Creates a node from GraphQL input; shared by createNode and deployNode. */
export async function createNodeFrom(ctx: Context, input: CreateNodeArgs, argument = 'input'): Promise<InAccount<NodeModel>> {
  const account = ctx.runtime.account(String(input.account), `${argument}.account`);
  const region = regionFor(account, input.region, `${argument}.region`);
  if (!input.name.trim()) throw new InvalidInputError(`argument "${argument}.name" must not be empty`, { field: `${argument}.name` });
  const id = account.config.id;
  const ex = input.ex;
  if (ex !== undefined && ex !== null && (typeof ex !== 'object' || Array.isArray(ex))) {
    throw new InvalidInputError(`argument "${argument}.ex" must be a JSON object`, { field: `${argument}.ex` });
  }
  const node = await withDeadline(account, 'createNode', () =>
    account.compute(region).createNode({
      name: input.name,
      sizeId: nativeIdFor(String(input.size), 'Size', id, `${argument}.size`),
      imageId: nativeIdFor(String(input.image), 'Image', id, `${argument}.image`),
      locationId: input.location ? nativeIdFor(String(input.location), 'Location', id, `${argument}.location`) : undefined,
      sshKey: input.sshKey ?? undefined,
      keyName: input.keyName ?? undefined,
      userData: input.userData ?? undefined,
      clientToken: input.clientToken ?? undefined,
      tags: input.tags ? tagRecord(input.tags, `${argument}.tags`) : undefined,
      ex: (ex as Record<string, unknown> | null) ?? undefined,
    }),
  );
  ctx.services.mutated({ resource: 'node', kind: 'CREATED', accountId: id, region, id: node.id, item: node, previousState: null, state: node.state });
  return scope(node, id, region);
}

builder.mutationField('createNode', (t) =>
  t.field({
    type: Node,
    args: { input: t.arg({ type: CreateNodeInput, required: true }) },
    resolve: (_root, { input }, ctx) => createNodeFrom(ctx, input),
  }),
);

type Lifecycle = 'rebootNode' | 'startNode' | 'stopNode';

async function lifecycle(ctx: Context, id: string, op: Lifecycle): Promise<InAccount<NodeModel>> {
  const d = decodeId(id, 'Node', 'id');
  const account = ctx.runtime.account(d.account, 'id');
  const driver = computeWith(account, d.region, op);
  const before = await loadNode(ctx, d);
  if (!before) throw new NotFoundError(`node ${d.parts[0]} not found in account "${d.account}"`);
  await withDeadline(account, op, () => driver[op](d.parts[0] ?? ''));
  ctx.loaders.compute(d.account, d.region).node.clear(d.parts[0] ?? '');
  const after = (await loadNode(ctx, d)) ?? before;
  ctx.services.mutated({ resource: 'node', kind: 'UPDATED', accountId: d.account, region: d.region, id: after.id, item: after, previousState: before.state, state: after.state });
  return after;
}

for (const op of ['rebootNode', 'startNode', 'stopNode'] as const) {
  builder.mutationField(op, (t) =>
    t.field({
      type: Node,
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => lifecycle(ctx, String(args.id), op),
    }),
  );
}

builder.mutationField('destroyNode', (t) =>
  t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const d = decodeId(String(args.id), 'Node', 'id');
      const account = ctx.runtime.account(d.account, 'id');
      const before = await loadNode(ctx, d);
      if (!before) throw new NotFoundError(`node ${d.parts[0]} not found in account "${d.account}"`);
      await withDeadline(account, 'destroyNode', () => account.compute(d.region).destroyNode(d.parts[0] ?? ''));
      ctx.services.mutated({ resource: 'node', kind: 'DELETED', accountId: d.account, region: d.region, id: before.id, item: before, previousState: before.state, state: 'terminated' });
      return true;
    },
  }),
);
