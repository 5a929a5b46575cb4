import type { Context } from '../context.ts';
import type { FanOutResult } from '../resolvers/fan-out.ts';

/**
 * A single-account list whose every region failed has nothing to show: raise the first
 * failure as the field's error rather than answer an empty list that looks like "none".
 */
export function throwIfAllFailed<T>(ctx: Context, result: FanOutResult<T>): void {
  const first = result.failures[0];
  if (result.items.length > 0 || !first?.error) return;
  // why: the field error replaces the top-level partial-failure entries for the same call
  ctx.failures = ctx.failures.filter((f) => !result.failures.includes(f));
  throw first.error;
}
