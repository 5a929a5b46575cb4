/**
 * Cross-account fan-out: run one operation on every selected (account, region) in parallel,
 * each under its account's deadline, and keep what succeeded next to what failed.
 */
import type { Context, ProviderFailure } from '../context.ts';
import type { AccountRuntime } from '../runtime.ts';
import type { Service } from '../providers/types.ts';
import { InvalidInputError, TimeoutError, toSkygraphError } from '../providers/errors.ts';

/** A model tagged with where it came from, so its global id and links can be built. */
export type InAccount<T> = T & { readonly $account: string; readonly $region: string | null };

export function scope<T extends object>(value: T, account: string, region: string | null): InAccount<T> {
  return Object.assign(Object.create(null) as object, value, { $account: account, $region: region }) as InAccount<T>;
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

/** Runs `fn` under the account's deadline; a slow provider becomes a TimeoutError, not a hang. */
export async function withDeadline<T>(account: AccountRuntime, operation: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`${operation} took longer than ${account.config.timeoutMs} ms`, { provider: account.definition.name })),
      account.config.timeoutMs,
    );
  });
  try {
    return await Promise.race([fn(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function recordFailure(ctx: Context, account: AccountRuntime, region: string | null, operation: string, err: unknown): ProviderFailure {
  const error = toSkygraphError(err, account.definition.name);
  const failure: ProviderFailure = {
    account: account.config.id,
    provider: account.definition.name,
    region,
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    operation,
    error,
  };
  ctx.failures.push(failure);
  return failure;
}

export interface FanOutResult<T> {
  items: InAccount<T>[];
  failures: ProviderFailure[];
}

export async function fanOut<T extends object>(
  ctx: Context,
  accounts: AccountRuntime[],
  operation: string,
  fn: (account: AccountRuntime, region: string | null) => Promise<readonly T[]>,
): Promise<FanOutResult<T>> {
  const jobs = accounts.flatMap((account) => account.regions.map((region) => ({ account, region })));
  const settled = await Promise.all(
    jobs.map(async ({ account, region }) => {
      try {
        const items = await withDeadline(account, operation, () => fn(account, region));
        return { items: items.map((i) => scope(i, account.config.id, region)) };
      } catch (err) {
        return { failure: recordFailure(ctx, account, region, operation, err) };
      }
    }),
  );
  return {
    items: settled.flatMap((s) => s.items ?? []),
    failures: settled.flatMap((s) => (s.failure ? [s.failure] : [])),
  };
}
