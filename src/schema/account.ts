import { builder } from '../builder.ts';
import type { AccountRuntime } from '../runtime.ts';
import { ServiceEnum } from './enums.ts';

export const Account = builder.objectRef<AccountRuntime>('Account').implement({
  description: 'One configured cloud account. Credentials are never exposed.',
  fields: (t) => ({
    id: t.id({ resolve: (a) => a.config.id }),
    driver: t.string({ resolve: (a) => a.definition.name }),
    services: t.field({ type: [ServiceEnum], resolve: (a) => [...a.definition.services] }),
    regions: t.stringList({ resolve: (a) => a.config.regions }),
    capabilities: t.stringList({
      description: 'Optional driver operations this account supports (rebootNode, startNode, getDownloadUrl, ...). Operations not listed fail with code UNSUPPORTED.',
      resolve: (a) => a.capabilities(),
    }),
    pollIntervalMs: t.int({ resolve: (a) => a.config.pollIntervalMs }),
  }),
});

builder.queryFields((t) => ({
  accounts: t.field({
    type: [Account],
    resolve: (_root, _args, ctx) => [...ctx.runtime.accounts.values()],
  }),
  account: t.field({
    type: Account,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.runtime.accounts.get(String(args.id)) ?? null,
  }),
}));
