import type { InputShapeFromFields } from '@pothos/core';
import { builder, type Types } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, encodeId, type DecodedId } from '../ids.ts';
import { InvalidInputError, NotFoundError } from '../providers/errors.ts';
import type { Node as NodeModel } from '../providers/types.ts';
import { computeWith } from '../resolvers/capability.ts';
import { callAccount, scope, type InAccount } from '../resolvers/fan-out.ts';
import { nativeIdFor, regionFor } from '../resolvers/refs.ts';
import { defineConnection } from './connection.ts';
import { NodeStateEnum, OrderDirectionEnum } from './enums.ts';
import { Image } from './image.ts';
import { defineList } from './list.ts';
import { Location } from './location.ts';
import { defineMutation, deletedPayload } from './mutation.ts';
import { defineResource } from './resource.ts';
import { DateTimeScalar, JSONScalar } from './scalars.ts';
import { Size } from './size.ts';
import { matchesTags, Tag, TagFilter, TagInput, tagList, tagRecord } from './tag.ts';

/** Loads one node by decoded id, under its account's deadline; null when it does not exist. */
export async function loadNode(ctx: Context, d: DecodedId): Promise<InAccount<NodeModel> | null> {
  const account = ctx.runtime.account(d.account, 'id');
  const node = await callAccount(ctx, account, 'node', () => ctx.loaders.compute(d.account, d.region).node.load(d.parts[0] ?? ''), { region: d.region });
  return node ? scope(node, d.account, d.region) : null;
}

export const Node = defineResource<NodeModel>('Node', {
  description: 'A compute instance (server, VM) in one account.',
  idParts: (n) => [n.id],
  nativeId: (n) => n.id,
  load: loadNode,
  fields: (t) => ({
    name: t.exposeString('name'),
    state: t.field({ type: NodeStateEnum, resolve: (n) => n.state }),
    publicIps: t.exposeStringList('publicIps'),
    privateIps: t.exposeStringList('privateIps'),
    createdAt: t.field({ type: DateTimeScalar, nullable: true, resolve: (n) => n.createdAt }),
    tags: t.field({
      type: [Tag],
      description: "The provider's key/value labels (EC2 tags, OpenStack server metadata), sorted by key.",
      resolve: (n) => tagList(n.tags),
    }),
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
    accounts: t.idList({ description: 'Only these accounts (all compute accounts when omitted).' }),
    regions: t.stringList({ description: 'Only these regions; accounts without regions are left out.' }),
    states: t.field({ type: [NodeStateEnum], description: 'Only nodes in one of these states.' }),
    tags: t.field({ type: [TagFilter], description: 'Only nodes that carry every one of these tags.' }),
    name: t.string({ description: 'Substring of the name, case-insensitive.' }),
  }),
});

const NodeOrderField = builder.enumType('NodeOrderField', { values: ['NAME', 'STATE', 'CREATED_AT', 'ACCOUNT'] as const });

const NodeOrder = builder.inputType('NodeOrder', {
  description: 'Ties (and nodes without a createdAt, which come last) are ordered by account, region and id.',
  fields: (t) => ({
    field: t.field({ type: NodeOrderField, required: true }),
    direction: t.field({ type: OrderDirectionEnum, defaultValue: 'ASC' }),
  }),
});

export const NodeConnection = defineConnection('Node', Node);

defineList({
  field: 'nodes',
  description: 'Nodes across compute accounts, filtered and ordered.',
  service: 'COMPUTE',
  connection: NodeConnection,
  filter: NodeFilter,
  fetch: (ctx, account, region) => ctx.loaders.compute(account.config.id, region).nodes(),
  match: (n, f) => {
    const name = f.name?.toLowerCase();
    return (!f.states || f.states.includes(n.state)) && (!name || n.name.toLowerCase().includes(name)) && matchesTags(n.tags, f.tags ?? []);
  },
  identity: (n) => [n.id],
  order: {
    input: NodeOrder,
    ordering: (o) => ({
      tag: `${o.field}:${o.direction ?? 'ASC'}`,
      descending: o.direction === 'DESC',
      key: (n) =>
        o.field === 'NAME' ? [n.name] : o.field === 'STATE' ? [n.state] : o.field === 'CREATED_AT' ? [n.createdAt ? n.createdAt.getTime() : null] : [n.$account],
    }),
  },
});

builder.queryField('node', (t) =>
  t.field({
    type: Node,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => loadNode(ctx, decodeId(String(args.id), 'Node', 'id')),
  }),
);

const nodePayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, { node: InAccount<NodeModel> }>) => ({
  node: t.field({ type: Node, resolve: (p) => p.node }),
});

const createNodeFields = (t: PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>) => ({
    account: t.id({ required: true }),
    region: t.string({ description: 'Required when the account has several regions; defaults to its only one.' }),
    name: t.string({ required: true }),
    size: t.id({ required: true, description: "A Size id, or the provider's native size id." }),
    image: t.id({ required: true, description: "An Image id, or the provider's native image id." }),
    location: t.id({ description: "A Location id, or the provider's native location id." }),
    sshKey: t.string({ description: 'Public key to install, where the provider supports it.' }),
    keyName: t.string({ description: 'Name of a key pair the provider already holds.' }),
    userData: t.string(),
    clientToken: t.string({ description: 'Idempotency token, passed upstream where supported.' }),
    tags: t.field({ type: [TagInput], description: 'Key/value labels (EC2 tags, OpenStack server metadata).' }),
    ex: t.field({ type: JSONScalar, description: 'Provider-only parameters (security groups, subnet, networks, metadata...).' }),
});

export type CreateNodeArgs = InputShapeFromFields<ReturnType<typeof createNodeFields>>;

export const CreateNodeInput = defineMutation('createNode', {
  description: 'Creates a node; it appears at once to nodeChanged subscribers (kind CREATED).',
  input: createNodeFields,
  payload: nodePayload,
  resolve: async (input, ctx) => ({ node: await createNodeFrom(ctx, input) }),
}).Input;

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
  const request = {
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
  };
  const node = await callAccount(ctx, account, 'createNode', () => account.compute(region).createNode(request), { region, mutates: true });
  ctx.services.mutated({ resource: 'node', kind: 'CREATED', accountId: id, region, id: node.id, item: node, previousState: null, state: node.state });
  return scope(node, id, region);
}

const idInput = (t: PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>) => ({
  id: t.id({ required: true, description: 'The Node id.' }),
});

for (const op of ['rebootNode', 'startNode', 'stopNode'] as const) {
  defineMutation(op, {
    description: `${op === 'rebootNode' ? 'Reboots' : op === 'startNode' ? 'Starts' : 'Stops'} a node; answers it as the provider reports it afterwards.`,
    input: idInput,
    payload: nodePayload,
    resolve: async (input, ctx) => {
      const d = decodeId(String(input.id), 'Node', 'input.id');
      const account = ctx.runtime.account(d.account, 'input.id');
      const driver = computeWith(account, d.region, op);
      const before = await loadNode(ctx, d);
      if (!before) throw new NotFoundError(`node ${d.parts[0]} not found in account "${d.account}"`);
      await callAccount(ctx, account, op, () => driver[op](d.parts[0] ?? ''), { region: d.region, mutates: true });
      const after = (await loadNode(ctx, d)) ?? before;
      ctx.services.mutated({ resource: 'node', kind: 'UPDATED', accountId: d.account, region: d.region, id: after.id, item: after, previousState: before.state, state: after.state });
      return { node: after };
    },
  });
}

defineMutation('deleteNode', {
  description: 'Deletes (terminates) a node; nodeChanged subscribers hear DELETED at once.',
  input: idInput,
  payload: deletedPayload,
  resolve: async (input, ctx) => {
    const d = decodeId(String(input.id), 'Node', 'input.id');
    const account = ctx.runtime.account(d.account, 'input.id');
    const before = await loadNode(ctx, d);
    if (!before) throw new NotFoundError(`node ${d.parts[0]} not found in account "${d.account}"`);
    await callAccount(ctx, account, 'deleteNode', () => account.compute(d.region).destroyNode(d.parts[0] ?? ''), { region: d.region, mutates: true });
    ctx.services.mutated({ resource: 'node', kind: 'DELETED', accountId: d.account, region: d.region, id: before.id, item: before, previousState: before.state, state: 'terminated' });
    return { deletedId: encodeId('Node', d.account, d.region, before.id) };
  },
});
