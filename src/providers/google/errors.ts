/**
 * Google's JSON error body -> typed errors, for every Google API (Compute Engine, Cloud Storage):
 *
 *   {"error": {"code": 403, "message": "Rate Limit Exceeded", "status": "RESOURCE_EXHAUSTED",
 *              "errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded", "message": "..."}]}}
 *
 * Rate limits come as 429 or as 403 with reason rateLimitExceeded / userRateLimitExceeded; both
 * become RateLimitedError (retried, honouring Retry-After). A 403 quotaExceeded is a project quota
 * that waiting does not lift, so it stays a ProviderError.
 *
 * https://cloud.google.com/storage/docs/json_api/v1/status-codes
 * https://cloud.google.com/compute/docs/troubleshooting/troubleshooting-api-rate-limits
 */
import {
  AuthenticationError,
  ConflictError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
  type SkygraphError,
} from '../errors.ts';
import type { ErrorResponseInfo } from '../http/connection.ts';
import { statusError } from '../http/map-errors.ts';
import { bodySnippet } from '../http/parsers/context.ts';
import { parseRetryAfter } from '../http/retry.ts';
import { list, obj, str } from './json.ts';

const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'RATE_LIMIT_EXCEEDED']);
/** why: 403s that are about quotas, not about who is asking */
const QUOTA_REASONS = new Set(['quotaExceeded', 'dailyLimitExceeded', 'limitExceeded', 'QUOTA_EXCEEDED']);

/** The upstream reason (errors[0].reason, else status) and message of a Google error body. */
export function googleErrorDetails(bodyText: string): { reason: string | undefined; message: string | undefined } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    return { reason: undefined, message: bodyText.trim() ? bodyText : undefined };
  }
  const error = obj(obj(parsed)?.error);
  if (!error) return { reason: undefined, message: undefined };
  const first = list(error.errors)[0];
  const reason = [str(first?.reason), str(error.status)].find((r) => r !== undefined && /^[A-Za-z][\w.-]{0,63}$/.test(r));
  return { reason, message: str(error.message) ?? str(first?.message) };
}

/** A ConnectionOptions.parseError for Google APIs; `provider` is the [prefix]. */
export function googleErrorParser(provider: string): (info: ErrorResponseInfo) => SkygraphError {
  return (info) => {
    const { reason, message } = googleErrorDetails(info.bodyText);
    const text = `${info.operation} ${info.status}${reason ? ` ${reason}` : ''}: ${bodySnippet(message ?? 'no error message', [], 300)}`;
    const opts = { provider, status: info.status, requestId: info.requestId };
    const { status } = info;
    if (status === 429 || (status === 403 && reason !== undefined && RATE_LIMIT_REASONS.has(reason))) {
      return new RateLimitedError(text, { ...opts, retryAfterMs: parseRetryAfter(info.headers['retry-after'], new Date()) });
    }
    if (status === 403 && reason !== undefined && QUOTA_REASONS.has(reason)) return new ProviderError(text, opts);
    if (status === 401 || status === 403) return new AuthenticationError(text, opts);
    if (status === 404) return new NotFoundError(text, opts);
    if (status === 409 || status === 412) return new ConflictError(text, opts);
    return statusError(text, opts);
  };
}
