import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, encodeId, type DecodedId } from '../ids.ts';
import { InvalidInputError } from '../providers/errors.ts';
import type { Container as ContainerModel, StorageObject } from '../providers/types.ts';
import { storageWith } from '../resolvers/capability.ts';
import { fanOut, scope, selectAccounts, withDeadline, type InAccount } from '../resolvers/fan-out.ts';
import { checkFirst, decodeCursor, encodeCursor, paginate, type Page } from '../resolvers/paginate.ts';
import { defineConnection } from './connection.ts';
import { Resource, resourceResolvers } from './resource.ts';
import { JSONScalar } from './scalars.ts';
import { StorageObjectRef } from './object.ts';

export const Container = builder.objectRef<InAccount<ContainerModel>>('Container').implement({
  description: 'A storage container (bucket).',
  interfaces: [Resource],
  fields: (t) => ({
    id: t.id({ resolve: (c) => encodeId('Container', c.$account, c.$region, c.name) }),
    name: t.exposeString('name'),
    objectCount: t.exposeInt('objectCount', { nullable: true, description: 'Null when the provider does not report it cheaply.' }),
    bytes: t.field({ type: 'Float', nullable: true, description: 'Total size in bytes; null when not reported.', resolve: (c) => c.bytes }),
    region: t.string({ nullable: true, resolve: (c) => c.$region }),
    extra: t.field({ type: JSONScalar, resolve: (c) => c.extra }),
  }),
});

export const ContainerConnection = defineConnection('Container', Container);
const ObjectConnection = defineConnection('Object', StorageObjectRef);

/**
 * Objects are paged by the driver. An edge cursor is (page token, items to skip), so resuming
 * after any edge is exact whatever the provider's token format.
 */
async function listObjects(ctx: Context, c: InAccount<ContainerModel>, prefix: string | null | undefined, first: number | null | undefined, after: string | null | undefined) {
  const limit = checkFirst(first);
  let token: string | undefined;
  let skip = 0;
  if (after) {
    const [t, k] = decodeCursor(after);
    if ((t !== null && typeof t !== 'string') || typeof k !== 'number' || !Number.isInteger(k) || k < 0) {
      throw new InvalidInputError('argument "after" is not a cursor returned by this API', { field: 'after' });
    }
    token = t ?? undefined;
    skip = k;
  }
  const account = ctx.runtime.account(c.$account);
  const driver = account.storage(c.$region);
  const page = await withDeadline(account, 'objects', () =>
    driver.listObjects(c.name, { prefix: prefix ?? undefined, cursor: token, limit: limit + skip }),
  );
  const objects = page.objects.slice(skip, skip + limit);
  const rest = page.objects.length - skip - objects.length;
  const edges = objects.map((o, i) => ({ node: scope(o, c.$account, c.$region), cursor: encodeCursor([token ?? null, skip + i + 1]) }));
  const last = edges.at(-1);
  const hasNextPage = rest > 0 || page.nextCursor !== null;
  // why: the end cursor should jump straight to the driver's next page when there is one
  const endCursor = rest === 0 && page.nextCursor !== null ? encodeCursor([page.nextCursor, 0]) : last?.cursor ?? null;
  if (last && endCursor) last.cursor = endCursor;
  const result: Page<InAccount<StorageObject>> & { failures: [] } = {
    edges,
    pageInfo: { hasNextPage, hasPreviousPage: Boolean(after), startCursor: edges[0]?.cursor ?? null, endCursor },
    totalCount: edges.length,
    failures: [],
  };
  return result;
}

builder.objectField(Container, 'objects', (t) =>
  t.field({
    type: ObjectConnection,
    description: 'Objects in name order; `totalCount` counts this page only (providers do not count cheaply).',
    args: { prefix: t.arg.string(), first: t.arg.int(), after: t.arg.string() },
    resolve: (c, args, ctx) => listObjects(ctx, c, args.prefix, args.first, args.after),
  }),
);

export async function loadContainer(ctx: Context, d: DecodedId): Promise<InAccount<ContainerModel>> {
  const account = ctx.runtime.account(d.account, 'id');
  const c = await withDeadline(account, 'container', () => ctx.loaders.storage(d.account, d.region).container.load(d.parts[0] ?? ''));
  return scope(c, d.account, d.region);
}

builder.queryFields((t) => ({
  containers: t.field({
    type: ContainerConnection,
    description: 'Containers across storage accounts, queried in parallel.',
    args: { accounts: t.arg.idList(), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const accounts = selectAccounts(ctx, args.accounts?.map(String), 'STORAGE');
      const { items, failures } = await fanOut(ctx, accounts, 'containers', (acct, region) =>
        ctx.loaders.storage(acct.config.id, region).containers(),
      );
      return { ...paginate(items, (c) => [c.$account, c.$region ?? '', c.name], args.first, args.after), failures };
    },
  }),
  container: t.field({
    type: Container,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => nullIfNotFound(loadContainer(ctx, decodeId(String(args.id), 'Container', 'id'))),
  }),
}));

resourceResolvers.set('Container', (id, ctx) => loadContainer(ctx, decodeId(id, 'Container', 'id')));

export async function nullIfNotFound<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err && err.code === 'NOT_FOUND') return null;
    throw err;
  }
}

builder.mutationFields((t) => ({
  createContainer: t.field({
    type: Container,
    args: { account: t.arg.id({ required: true }), name: t.arg.string({ required: true }), region: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const [account] = selectAccounts(ctx, [String(args.account)], 'STORAGE', 'account');
      const region = args.region ?? account!.regions[0] ?? null;
      if (!account!.regions.includes(region)) {
        throw new InvalidInputError(`argument "region": account "${account!.config.id}" has no region "${region}"`, { field: 'region' });
      }
      const c = await withDeadline(account!, 'createContainer', () => account!.storage(region).createContainer(args.name));
      return scope(c, account!.config.id, region);
    },
  }),
  enableContainerCdn: t.string({
    description: "Publishes the container on the provider's CDN (Rackspace Cloud Files); answers its public base URL.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const d = decodeId(String(args.id), 'Container', 'id');
      const account = ctx.runtime.account(d.account, 'id');
      const driver = storageWith(account, d.region, 'enableContainerCdn', 'getContainerCdnUrl');
      const name = d.parts[0] ?? '';
      await withDeadline(account, 'enableContainerCdn', () => driver.enableContainerCdn(name));
      return withDeadline(account, 'getContainerCdnUrl', () => driver.getContainerCdnUrl(name));
    },
  }),
  deleteContainer: t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const d = decodeId(String(args.id), 'Container', 'id');
      const account = ctx.runtime.account(d.account, 'id');
      await withDeadline(account, 'deleteContainer', () => account.storage(d.region).deleteContainer(d.parts[0] ?? ''));
      return true;
    },
  }),
}));

builder.objectField(StorageObjectRef, 'container', (t) =>
  t.field({
    type: Container,
    resolve: (o, _args, ctx) => loadContainer(ctx, { type: 'Container', account: o.$account, region: o.$region, parts: [o.container] }),
  }),
);
