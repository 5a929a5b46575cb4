/** Relay-style connection types that also carry the fan-out's partial failures. */
import type { ObjectRef } from '@pothos/core';
import { builder } from '../builder.ts';
import type { ProviderFailure } from '../context.ts';
import type { Page } from '../resolvers/paginate.ts';
import { ProviderFailureRef } from './failure.ts';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

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

export function defineConnection<T>(name: string, nodeRef: ObjectRef<Types, T>) {
  const Edge = builder.objectRef<{ node: T; cursor: string }>(`${name}Edge`).implement({
    fields: (t) => ({
      node: t.field({ type: nodeRef, resolve: (e) => e.node as never }),
      cursor: t.exposeString('cursor'),
    }),
  });
  return builder.objectRef<ConnectionShape<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      edges: t.field({ type: [Edge], resolve: (c) => c.edges }),
      nodes: t.field({ type: [nodeRef], resolve: (c) => c.edges.map((e) => e.node) as never }),
      pageInfo: t.field({ type: PageInfo, resolve: (c) => c.pageInfo }),
      totalCount: t.exposeInt('totalCount', { description: 'Items across every page of the accounts that answered.' }),
      failures: t.field({
        type: [ProviderFailureRef],
        description: 'Accounts that failed; the items above come from the others.',
        resolve: (c) => c.failures,
      }),
    }),
  });
}
