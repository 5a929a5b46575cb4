import { builder } from '../builder.ts';
import type { AccountHealth } from '../live/types.ts';
import type { ErrorCode } from '../providers/errors.ts';
import { capabilitiesOf } from '../resolvers/capability.ts';
import type { AccountRuntime } from '../runtime.ts';
import { CapabilityEnum, ErrorCodeEnum, ServiceEnum } from './enums.ts';
import { DateTimeScalar } from './scalars.ts';

const AccountStatusEnum = builder.enumType('AccountStatus', {
  values: {
    UNKNOWN: { description: 'Nothing has called the account yet on this replica.' },
    OK: { description: 'The latest call of every kind succeeded.' },
    FAILING: { description: 'The latest call of some kind failed (see lastError).' },
  } as const,
});

const HealthError = builder.objectRef<{ code: string; message: string }>('AccountError').implement({
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code as ErrorCode }),
    message: t.exposeString('message'),
  }),
});

const Health = builder.objectRef<AccountHealth>('AccountHealth').implement({
  description:
    "The account's health on this replica, from every call made to it: queries, mutations and live polls. Not-found and bad-input answers do not count against it.",
  fields: (t) => ({
    status: t.field({ type: AccountStatusEnum, resolve: (h) => h.status }),
    ok: t.exposeBoolean('ok', { description: 'status is not FAILING.' }),
    consecutiveFailures: t.exposeInt('consecutiveFailures', { description: 'The longest run of failures, over the kinds of call made.' }),
    lastError: t.field({ type: HealthError, nullable: true, description: 'The latest failure while FAILING.', resolve: (h) => h.lastError }),
    lastSuccessAt: t.field({ type: DateTimeScalar, nullable: true, resolve: (h) => h.lastSuccessAt }),
    lastFailureAt: t.field({ type: DateTimeScalar, nullable: true, resolve: (h) => h.lastFailureAt }),
  }),
});

export const Account = builder.objectRef<AccountRuntime>('Account').implement({
  description: 'One configured cloud account. Credentials are never exposed.',
  fields: (t) => ({
    id: t.id({ description: 'The id given in the config.', resolve: (a) => a.config.id }),
    driver: t.string({ description: 'The driver name, as in the config (`ec2`, `swift`, ...).', resolve: (a) => a.definition.name }),
    provider: t.string({ description: 'The provider as people call it ("Amazon EC2", "OpenStack Swift").', resolve: (a) => a.definition.title }),
    services: t.field({ type: [ServiceEnum], resolve: (a) => [...a.definition.services] }),
    regions: t.stringList({ description: 'The regions it is asked in; empty for providers without regions.', resolve: (a) => a.regions.filter((r): r is string => r !== null) }),
    capabilities: t.field({
      type: [CapabilityEnum],
      description: 'What it can do, named after the GraphQL fields; a field whose capability is missing fails with UNSUPPORTED.',
      resolve: (a) => capabilitiesOf(a),
    }),
    health: t.field({ type: Health, resolve: (a, _args, ctx) => ctx.services.health.get(a.config.id) }),
    pollIntervalMs: t.int({ description: 'How often live subscriptions poll it.', resolve: (a) => a.config.pollIntervalMs }),
    cacheTtlMs: t.int({ description: 'How long its listings are shared between requests; 0 when not.', resolve: (a) => a.config.cacheTtlMs ?? 0 }),
    timeoutMs: t.int({ description: 'The deadline of one call to it.', resolve: (a) => a.config.timeoutMs }),
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
