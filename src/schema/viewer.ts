/** `viewer`: who is calling, so a client (the dashboard) offers only what its token may do. */
import { GraphQLError } from 'graphql';
import { builder } from '../builder.ts';
import { SCOPES } from '../config/server.ts';
import type { Principal } from '../http/auth.ts';

export const ScopeEnum = builder.enumType('Scope', {
  description: 'What a token may do; each scope includes the ones before it (README, Security).',
  values: {
    READ: { value: SCOPES[0]!, description: 'queries and subscriptions' },
    WRITE: { value: SCOPES[1]!, description: 'also the mutations that change resources' },
    DEPLOY: { value: SCOPES[2]!, description: 'also deployNode and deployToNode' },
  },
});

const Viewer = builder.objectRef<Principal>('Viewer').implement({
  description: "The caller: its token's name and scope (`anonymous` with scope DEPLOY when no tokens are configured).",
  fields: (t) => ({
    name: t.exposeString('name'),
    scope: t.field({ type: ScopeEnum, resolve: (p) => p.scope }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    description: 'Who is calling.',
    resolve: (_root, _args, ctx) => {
      // why: unreachable over HTTP and WebSocket (no token, no execution); in-process callers must say who they are
      if (!ctx.principal) throw new GraphQLError('a valid bearer token is required', { extensions: { code: 'UNAUTHENTICATED' } });
      return ctx.principal;
    },
  }),
);
