/**
 * Calls into accounts: `callAccount` runs one driver call under the account's deadline and
 * records the outcome in the account's health; `fanOut` runs one operation on every selected
 * (account, region) in parallel and keeps what succeeded next to what failed.
 *
 * The deadline is a call scope (src/providers/call-scope.ts): when it fires, the call answers
 * TIMEOUT at once and the upstream requests it made are aborted, their sockets freed.
 */
import type { GraphQLResolveInfo } from 'graphql';
import type { Context, ProviderFailure } from '../context.ts';
import type { AccountRuntime } from '../runtime.ts';
import type { Service } from '../providers/types.ts';
import { InvalidInputError, toSkygraphError, type ErrorCode } from '../providers/errors.ts';
import { pacer, type Pacer } from './pace.ts';

/** A model tagged with where it came from, so its global id and links can be built. */
export type InAccount<T> = T & { readonly $account: string; readonly $region: string | null };

export function scope<T extends object>(value: T, account: string, region: string | null): InAccount<T> {
  return Object.assign(Object.create(null) as object, value, { $account: account, $region: region }) as InAccount<T>;
}

/** The response path of a field, as top-level errors report it. */
export function pathOf(info: Pick<GraphQLResolveInfo, 'path'>): (string | number)[] {
  const out: (string | number)[] = [];
  for (let p: GraphQLResolveInfo['path'] | undefined = info.path; p; p = p.prev) out.unshift(p.key);
  return out;
}

/** The accounts a fan-out covers: the named ones (checked) or every account with the service. */
export function selectAccounts(ctx: Context, ids: readonly string[] | null | undefined, service: Service, argument = 'accounts'): AccountRuntime[] {
  if (!ids) return [...ctx.runtime.accounts.values()].filter((a) => a.definition.services.includes(service));
  return [...new Set(ids)].map((id) => {
    const account = ctx.runtime.accounts.get(id);
    if (!account) throw new InvalidInputError(`argument "${argument}": no account "${id}" is configured`, { field: argument });
    if (!account.definition.services.includes(service)) {
      throw new InvalidInputError(`argument "${argument}": account "${id}" (driver ${account.definition.name}) has no ${service} service`, {
        field: argument,
      });
    }
    return account;
  });
}

/** Errors that say the caller asked for something wrong, not that the account is unwell. */
const CALLER_ERRORS: ReadonlySet<ErrorCode> = new Set(['NOT_FOUND', 'INVALID_INPUT', 'CONFLICT', 'UNSUPPORTED']);

export interface CallOptions {
  /** the region the call runs in, for health bookkeeping */
  region?: string | null;
  /** the call changes the account: its cached results are dropped once it settles */
  mutates?: boolean;
}

/**
 * One call into an account: under its deadline (aborting what is still upstream when it
 * fires), with the outcome recorded in Account.health
 * (a provider-side failure counts against it; not-found and bad input do not), and for
 * mutations the account's cached results dropped, whether the change succeeded or not.
 */
export async function callAccount<T>(ctx: Context, account: AccountRuntime, operation: string, fn: () => Promise<T>, opts: CallOptions = {}): Promise<T> {
  const source = `${opts.region ?? ''}:${operation}`;
  const id = account.config.id;
  try {
    const value = await account.withDeadline(operation, fn);
    ctx.services.health.record(id, source, null);
    return value;
  } catch (err) {
    const error = toSkygraphError(err, account.definition.name);
    ctx.services.health.record(id, source, CALLER_ERRORS.has(error.code) ? null : error);
    throw error;
  } finally {
    if (opts.mutates) invalidateAccount(ctx, id);
  }
}

/** Forgets what this request and the shared cache hold of an account (after it changed). */
export function invalidateAccount(ctx: Context, accountId: string): void {
  ctx.runtime.cache.invalidate(accountId);
  ctx.loaders.forget(accountId);
}

export function recordFailure(
  ctx: Context,
  account: AccountRuntime,
  region: string | null,
  path: readonly (string | number)[],
  err: unknown,
): ProviderFailure {
  const error = toSkygraphError(err, account.definition.name);
  const failure: ProviderFailure = {
    account: account.config.id,
    provider: account.definition.name,
    region,
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    path,
    error,
  };
  ctx.failures.push(failure);
  return failure;
}

export interface FanOutResult<T> {
  /** what each (account, region) that answered listed, tagged with where it came from */
  lists: readonly (readonly InAccount<T>[])[];
  failures: ProviderFailure[];
}

/** A job of a fan-out: one (account, region). */
export interface Target {
  account: AccountRuntime;
  region: string | null;
}

/** Every (account, region) of the accounts, minus the regions `regions` leaves out. */
export function targetsOf(accounts: readonly AccountRuntime[], regions?: readonly string[] | null): Target[] {
  return accounts.flatMap((account) =>
    account.regions.filter((r) => !regions || (r !== null && regions.includes(r))).map((region) => ({ account, region })),
  );
}

export async function fanOut<T extends object>(
  ctx: Context,
  path: readonly (string | number)[],
  targets: readonly Target[],
  operation: string,
  fn: (account: AccountRuntime, region: string | null) => Promise<readonly T[]>,
): Promise<FanOutResult<T>> {
  const pace = pacer();
  const settled = await Promise.all(
    targets.map(async ({ account, region }) => {
      try {
        const items = await callAccount(ctx, account, operation, () => fn(account, region), { region });
        return { items: await scopeAll(items, account.config.id, region, pace) };
      } catch (err) {
        return { failure: recordFailure(ctx, account, region, path, err) };
      }
    }),
  );
  return {
    lists: settled.flatMap((s) => (s.items ? [s.items] : [])),
    failures: settled.flatMap((s) => (s.failure ? [s.failure] : [])),
  };
}

// --- Internal helpers ---

/** Scoped copies of each listing, per (account, region), for as long as the listing lives. */
const SCOPED = new WeakMap<object, Map<string, readonly object[]>>();

/**
 * `scope` over a whole listing, giving the event loop turns as it goes. A listing the result
 * cache hands to many requests is scoped once: its copies are read, never changed, by resolvers.
 */
async function scopeAll<T extends object>(items: readonly T[], account: string, region: string | null, pace: Pacer): Promise<readonly InAccount<T>[]> {
  const target = JSON.stringify([account, region]);
  let byTarget = SCOPED.get(items);
  const known = byTarget?.get(target) as InAccount<T>[] | undefined;
  if (known) return known;
  const out: InAccount<T>[] = [];
  for (const item of items) {
    out.push(scope(item, account, region));
    const turn = pace.step();
    if (turn) await turn;
  }
  if (!byTarget) SCOPED.set(items, (byTarget = new Map()));
  byTarget.set(target, out);
  return out;
}
