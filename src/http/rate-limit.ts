/**
 * Per-caller request budget: a token bucket per principal name holding `requests`, refilled
 * evenly over `perSeconds`. A refused request learns how long until the next one is allowed
 * (`Retry-After`). Memory is one small entry per configured token (plus `anonymous`).
 */

export interface RateLimiter {
  /** takes one request from `key`'s bucket; 0 when allowed, else the seconds to wait */
  take(key: string): number;
}

export function createRateLimiter(opts: { requests: number; perSeconds: number; now?: () => number }): RateLimiter {
  const now = opts.now ?? (() => performance.now());
  const perMs = opts.requests / (opts.perSeconds * 1000);
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const t = now();
      const b = buckets.get(key) ?? { tokens: opts.requests, at: t };
      b.tokens = Math.min(opts.requests, b.tokens + (t - b.at) * perMs);
      b.at = t;
      buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
    },
  };
}

/** A limiter that never refuses (`server.limits.rateLimit: false`). */
export const UNLIMITED: RateLimiter = { take: () => 0 };
