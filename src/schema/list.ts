/**
 * `defineList`: one resolver per list, registered both as the root field (across accounts) and as
 * the Account field of the same name (that account only), with the same filter, ordering and
 * Relay arguments. Accounts and regions the filter leaves out are never called.
 */
import type { ArgBuilder, InputObjectRef, ObjectRef } from '@pothos/core';
import type { GraphQLResolveInfo } from 'graphql';
import { builder, type Types } from '../builder.ts';
import type { Context, ProviderFailure } from '../context.ts';
import type { UnsupportedError } from '../providers/errors.ts';
import type { Service } from '../providers/types.ts';
import { fanOut, pathOf, recordFailure, selectAccounts, targetsOf, type InAccount } from '../resolvers/fan-out.ts';
import { paginateLists, type KeyPart, type Ordering, type PageArgs } from '../resolvers/paginate.ts';
import type { AccountRuntime } from '../runtime.ts';
import { Account } from './account.ts';
import { emptyConnection, type ConnectionShape } from './connection.ts';

/** What every list filter has: the accounts and regions to ask. */
export interface BaseFilter {
  accounts?: readonly (string | number)[] | null | undefined;
  regions?: readonly string[] | null | undefined;
}

export interface ListSpec<T extends object, F extends BaseFilter, O = never> {
  /** the field name on Query and Account, e.g. `nodes` */
  field: string;
  /** what the root field lists; the Account field says "of this account" */
  description: string;
  service: Service;
  connection: ObjectRef<Types, ConnectionShape<InAccount<T>>>;
  filter: InputObjectRef<Types, F>;
  /**
   * The account's UNSUPPORTED error when it cannot list these at all (a missing optional driver
   * method); such accounts are skipped unless the filter or the Account field names them.
   */
  unsupported?: (account: AccountRuntime) => UnsupportedError | undefined;
  /** one (account, region)'s items; the filter is there to narrow the upstream call where an API can */
  fetch: (ctx: Context, account: AccountRuntime, region: string | null, filter: F | undefined) => Promise<readonly T[]>;
  /**
   * The part of the filter `fetch` passes upstream (its loader key); lists that filter only
   * locally leave it out. Documents are priced by the distinct listings they can make (src/plugins/use-listing-cost.ts).
   */
  upstreamFilter?: (filter: F | undefined) => unknown;
  /** the filter's type-specific conditions (accounts and regions are applied before fetching) */
  match?: (item: InAccount<T>, filter: F) => boolean;
  /** what identifies an item within its account and region, e.g. [id] */
  identity: (item: InAccount<T>) => KeyPart[];
  order?: {
    input: InputObjectRef<Types, O>;
    /** the ordering an orderBy argument asks for; its tag keeps cursors of one order out of another */
    ordering: (order: O) => { tag: string; key: (item: InAccount<T>) => KeyPart[]; descending: boolean };
  };
}

interface ListArgs<F, O> extends PageArgs {
  filter?: F | null;
  orderBy?: O | null;
}

export async function resolveList<T extends object, F extends BaseFilter, O>(
  spec: ListSpec<T, F, O>,
  ctx: Context,
  info: GraphQLResolveInfo,
  args: ListArgs<F, O>,
  only?: AccountRuntime,
): Promise<ConnectionShape<InAccount<T>>> {
  const filter = args.filter ?? undefined;
  const named = filter?.accounts?.map(String);
  let accounts: AccountRuntime[];
  if (only) {
    // why: `accounts { nodes }` is a natural dashboard query; a storage account simply has none
    if (!only.definition.services.includes(spec.service)) return emptyConnection();
    if (named && !named.includes(only.config.id)) return emptyConnection();
    accounts = [only];
  } else {
    accounts = selectAccounts(ctx, named, spec.service, 'filter.accounts');
  }
  const path = pathOf(info);
  const refused: ProviderFailure[] = [];
  if (spec.unsupported) {
    const explicit = Boolean(only || named);
    accounts = accounts.filter((account) => {
      const error = spec.unsupported!(account);
      if (error && explicit) refused.push(recordFailure(ctx, account, null, path, error));
      return !error;
    });
  }
  const { lists, failures } = await fanOut(ctx, path, targetsOf(accounts, filter?.regions), spec.field, (account, region) =>
    spec.fetch(ctx, account, region, filter),
  );
  const match = filter && spec.match ? (i: InAccount<T>) => spec.match!(i, filter) : undefined;
  return { ...(await paginateLists(lists, orderingOf(spec, args.orderBy), args, match)), failures: [...refused, ...failures] };
}

function orderingOf<T extends object, F extends BaseFilter, O>(spec: ListSpec<T, F, O>, order: O | null | undefined): Ordering<InAccount<T>> {
  const identity = (i: InAccount<T>): KeyPart[] => [i.$account, i.$region ?? '', ...spec.identity(i)];
  if (order === null || order === undefined || !spec.order) return { tag: spec.field, key: identity };
  const { tag, key, descending } = spec.order.ordering(order);
  return { tag: `${spec.field}:${tag}`, key: (i) => [...key(i), ...identity(i)], descending: [descending] };
}

/** Every list field (the same name on Query and Account), for pricing documents by their listings. */
export const LIST_SPECS = new Map<string, Pick<ListSpec<object, BaseFilter>, 'service' | 'unsupported' | 'upstreamFilter'>>();

/** Registers `Query.<field>` and `Account.<field>`, both answered by resolveList. */
export function defineList<T extends object, F extends BaseFilter, O = never>(spec: ListSpec<T, F, O>): void {
  LIST_SPECS.set(spec.field, { service: spec.service, unsupported: spec.unsupported, upstreamFilter: spec.upstreamFilter as ((f: BaseFilter | undefined) => unknown) | undefined });
  const argsOf = (arg: ArgBuilder<Types>) => ({
    filter: arg({ type: spec.filter }),
    ...(spec.order ? { orderBy: arg({ type: spec.order.input }) } : {}),
    first: arg.int(),
    after: arg.string(),
    last: arg.int(),
    before: arg.string(),
  });
  builder.queryField(spec.field, (t) =>
    t.field({
      type: spec.connection,
      description: `${spec.description} Accounts are asked in parallel; one that fails is listed in \`failures\`.`,
      args: argsOf(t.arg),
      resolve: (_root, args, ctx, info) => resolveList(spec, ctx, info, args as ListArgs<F, O>),
    }),
  );
  builder.objectField(Account, spec.field, (t) =>
    t.field({
      type: spec.connection,
      description: `${spec.description} Only this account's; empty when it has no ${spec.service} service.`,
      args: argsOf(t.arg),
      resolve: (account, args, ctx, info) => resolveList(spec, ctx, info, args as ListArgs<F, O>, account),
    }),
  );
}
