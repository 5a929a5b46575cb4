import { builder, type Types } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, encodeId, type DecodedId } from '../ids.ts';
import { InvalidInputError } from '../providers/errors.ts';
import type { Container as ContainerModel, StorageObject } from '../providers/types.ts';
import { storageWith } from '../resolvers/capability.ts';
import { callAccount, pathOf, recordFailure, scope, selectAccounts, type InAccount } from '../resolvers/fan-out.ts';
import { checkCount, decodeCursor, DEFAULT_PAGE, encodeCursor } from '../resolvers/paginate.ts';
import { defineConnection, emptyConnection, type ConnectionShape } from './connection.ts';
import { defineList } from './list.ts';
import { defineMutation, deletedPayload } from './mutation.ts';
import { StorageObjectRef } from './object.ts';
import { defineResource } from './resource.ts';

export async function loadContainer(ctx: Context, d: DecodedId): Promise<InAccount<ContainerModel>> {
  const account = ctx.runtime.account(d.account, 'id');
  const c = await callAccount(ctx, account, 'container', () => ctx.loaders.storage(d.account, d.region).container.load(d.parts[0] ?? ''), { region: d.region });
  return scope(c, d.account, d.region);
}

export const Container = defineResource<ContainerModel>('Container', {
  description: 'A storage container (bucket).',
  idParts: (c) => [c.name],
  nativeId: (c) => c.name,
  load: loadContainer,
  fields: (t) => ({
    name: t.exposeString('name'),
    objectCount: t.exposeInt('objectCount', { nullable: true, description: 'Null when the provider does not report it cheaply.' }),
    bytes: t.field({ type: 'Float', nullable: true, description: 'Total size in bytes; null when not reported.', resolve: (c) => c.bytes }),
  }),
});

const ContainerFilter = builder.inputType('ContainerFilter', {
  fields: (t) => ({
    accounts: t.idList({ description: 'Only these accounts (all storage accounts when omitted).' }),
    regions: t.stringList({ description: 'Only these regions.' }),
    name: t.string({ description: 'Substring of the name, case-insensitive.' }),
  }),
});

export const ContainerConnection = defineConnection('Container', Container);

defineList({
  field: 'containers',
  description: 'Containers (buckets) across storage accounts.',
  service: 'STORAGE',
  connection: ContainerConnection,
  filter: ContainerFilter,
  fetch: (ctx, account, region) => ctx.loaders.storage(account.config.id, region).containers(),
  match: (c, f) => !f.name || c.name.toLowerCase().includes(f.name.toLowerCase()),
  identity: (c) => [c.name],
});

const ObjectConnection = defineConnection('Object', StorageObjectRef, {
  totalCount:
    'Objects in the container (under the prefix): known when this page reaches the end of a listing that started at the beginning, ' +
    "or, without a prefix, when the provider reports the container's object count; null otherwise (providers do not count cheaply).",
});

type ObjectPage = ConnectionShape<InAccount<StorageObject>>;

/**
 * Objects are paged by the driver, forward only. An edge cursor is (page token, items to skip), so
 * resuming after any edge is exact whatever the provider's token format.
 */
async function listObjects(
  ctx: Context,
  path: readonly (string | number)[],
  c: InAccount<ContainerModel>,
  args: { prefix?: string | null; first?: number | null; after?: string | null },
): Promise<ObjectPage> {
  const limit = checkCount(args.first, 'first') ?? DEFAULT_PAGE;
  let token: string | undefined;
  let skip = 0;
  if (args.after) {
    const [t, k] = decodeCursor(args.after);
    if ((t !== null && typeof t !== 'string') || typeof k !== 'number' || !Number.isInteger(k) || k < 0) {
      throw new InvalidInputError('argument "after" is not a cursor returned by this API', { field: 'after' });
    }
    token = t ?? undefined;
    skip = k;
  }
  const account = ctx.runtime.account(c.$account);
  const driver = account.storage(c.$region);
  let page;
  try {
    page = await callAccount(ctx, account, 'objects', () => driver.listObjects(c.name, { prefix: args.prefix ?? undefined, cursor: token, limit: limit + skip }), {
      region: c.$region,
    });
  } catch (err) {
    return emptyConnection([recordFailure(ctx, account, c.$region, path, err)]);
  }
  const objects = page.objects.slice(skip, skip + limit);
  const rest = page.objects.length - skip - objects.length;
  const edges = objects.map((o, i) => ({ node: scope(o, c.$account, c.$region), cursor: encodeCursor([token ?? null, skip + i + 1]) }));
  const last = edges.at(-1);
  const hasNextPage = rest > 0 || page.nextCursor !== null;
  // why: the end cursor should jump straight to the driver's next page when there is one
  const endCursor = rest === 0 && page.nextCursor !== null ? encodeCursor([page.nextCursor, 0]) : last?.cursor ?? null;
  if (last && endCursor) last.cursor = endCursor;
  const complete = !args.after && !hasNextPage;
  return {
    edges,
    pageInfo: { hasNextPage, hasPreviousPage: Boolean(args.after), startCursor: edges[0]?.cursor ?? null, endCursor },
    totalCount: complete ? page.objects.length : !args.prefix ? c.objectCount : null,
    failures: [],
  };
}

builder.objectField(Container, 'objects', (t) =>
  t.field({
    type: ObjectConnection,
    description: 'Objects in name order, paged forward; a failing provider is listed in `failures`.',
    args: { prefix: t.arg.string(), first: t.arg.int(), after: t.arg.string() },
    resolve: (c, args, ctx, info) => listObjects(ctx, pathOf(info), c, args),
  }),
);

export async function nullIfNotFound<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err && err.code === 'NOT_FOUND') return null;
    throw err;
  }
}

builder.queryField('container', (t) =>
  t.field({
    type: Container,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => nullIfNotFound(loadContainer(ctx, decodeId(String(args.id), 'Container', 'id'))),
  }),
);

const containerPayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, { container: InAccount<ContainerModel> }>) => ({
  container: t.field({ type: Container, resolve: (p) => p.container }),
});

defineMutation('createContainer', {
  description: 'Creates a container (bucket).',
  input: (t) => ({
    account: t.id({ required: true }),
    region: t.string({ description: 'Required when the account has several regions; defaults to its only one.' }),
    name: t.string({ required: true }),
  }),
  payload: containerPayload,
  resolve: async (input, ctx) => {
    const [account] = selectAccounts(ctx, [String(input.account)], 'STORAGE', 'input.account');
    const region = input.region ?? account!.regions[0] ?? null;
    if (!account!.regions.includes(region)) {
      throw new InvalidInputError(`argument "input.region": account "${account!.config.id}" has no region "${region}"`, { field: 'input.region' });
    }
    const c = await callAccount(ctx, account!, 'createContainer', () => account!.storage(region).createContainer(input.name), { region, mutates: true });
    return { container: scope(c, account!.config.id, region) };
  },
});

defineMutation('enableContainerCdn', {
  description: "Publishes the container on the provider's CDN (capability ENABLE_CONTAINER_CDN); answers its public base URL.",
  input: (t) => ({ id: t.id({ required: true, description: 'The Container id.' }) }),
  payload: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, { containerId: DecodedId; cdnUrl: string }>) => ({
    container: t.field({ type: Container, resolve: (p, _args, ctx) => loadContainer(ctx, p.containerId) }),
    cdnUrl: t.exposeString('cdnUrl', { description: 'The public base URL of the container on the CDN.' }),
  }),
  resolve: async (input, ctx) => {
    const d = decodeId(String(input.id), 'Container', 'input.id');
    const account = ctx.runtime.account(d.account, 'input.id');
    const driver = storageWith(account, d.region, 'enableContainerCdn', 'getContainerCdnUrl');
    const name = d.parts[0] ?? '';
    await callAccount(ctx, account, 'enableContainerCdn', () => driver.enableContainerCdn(name), { region: d.region, mutates: true });
    const cdnUrl = await callAccount(ctx, account, 'getContainerCdnUrl', () => driver.getContainerCdnUrl(name), { region: d.region });
    return { containerId: d, cdnUrl };
  },
});

defineMutation('deleteContainer', {
  description: 'Deletes an empty container; one with objects fails with CONFLICT.',
  input: (t) => ({ id: t.id({ required: true, description: 'The Container id.' }) }),
  payload: deletedPayload,
  resolve: async (input, ctx) => {
    const d = decodeId(String(input.id), 'Container', 'input.id');
    const account = ctx.runtime.account(d.account, 'input.id');
    await callAccount(ctx, account, 'deleteContainer', () => account.storage(d.region).deleteContainer(d.parts[0] ?? ''), { region: d.region, mutates: true });
    return { deletedId: encodeId('Container', d.account, d.region, d.parts[0] ?? '') };
  },
});

builder.objectField(StorageObjectRef, 'container', (t) =>
  t.field({
    type: Container,
    resolve: (o, _args, ctx) => loadContainer(ctx, { type: 'Container', account: o.$account, region: o.$region, parts: [o.container] }),
  }),
);
