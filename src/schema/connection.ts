/** Relay-style connection types that also carry the fan-out's partial failures. */
import type { ObjectRef } from '@pothos/core';
import { builder, type Types } from '../builder.ts';
import type { ProviderFailure } from '../context.ts';
import type { Page } from '../resolvers/paginate.ts';
import { ProviderFailureRef } from './failure.ts';

export type ConnectionShape<T> = Page<T> & { failures: ProviderFailure[] };

type PageInfoShape = Page<unknown>['pageInfo'];

export const PageInfo = builder.objectRef<PageInfoShape>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.exposeString('startCursor', { nullable: true }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

/**
 * `<Name>Connection` and `<Name>Edge`. `totalCount` counts every item across all pages of the
 * accounts that answered; where the source pages upstream and cannot count cheaply (objects),
 * pass `totalCount` to describe when it is null.
 */
export function defineConnection<T>(name: string, nodeRef: ObjectRef<Types, T>, opts: { totalCount?: string } = {}) {
  const Edge = builder.objectRef<{ node: T; cursor: string }>(`${name}Edge`).implement({
    fields: (t) => ({
      node: t.field({ type: nodeRef, resolve: (e) => e.node as never }),
      cursor: t.exposeString('cursor'),
    }),
  });
  return builder.objectRef<ConnectionShape<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      // why: a page of 1,000 is completed a chunk per turn of the event loop (src/resolvers/pace.ts)
      edges: t.field({ type: [Edge], resolve: (c, _a, ctx) => ctx.pace.paced(c.edges) }),
      nodes: t.field({ type: [nodeRef], resolve: (c, _a, ctx) => ctx.pace.paced(c.edges.map((e) => e.node)) as never }),
      pageInfo: t.field({ type: PageInfo, resolve: (c) => c.pageInfo }),
      totalCount: opts.totalCount
        ? t.int({ nullable: true, description: opts.totalCount, resolve: (c) => c.totalCount })
        : t.int({ description: 'Items across every page, from the accounts that answered.', resolve: (c) => c.totalCount ?? 0 }),
      failures: t.field({
        type: [ProviderFailureRef],
        description: 'Accounts (and regions) that failed; the items above come from the others.',
        resolve: (c) => c.failures,
      }),
    }),
  });
}

/** An empty connection, for a list that has nothing to ask (a filter that excludes everything). */
export function emptyConnection<T>(failures: ProviderFailure[] = []): ConnectionShape<T> {
  return { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null }, totalCount: 0, failures };
}
