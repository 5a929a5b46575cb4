/**
 * Error bodies and rate limits of the bearer-token REST clouds. A 429 becomes a RateLimitedError
 * whose retryAfterMs comes from Retry-After, else from the provider's reset header (epoch
 * seconds), so the connection's retry waits until the window reopens (capped by maxDelayMs).
 */
import { ConflictError, InvalidInputError, RateLimitedError, type SkygraphError } from '../errors.ts';
import type { ErrorResponseInfo } from '../http/connection.ts';
import { extractErrorDetails, mapErrorResponse } from '../http/map-errors.ts';
import { scrubError } from '../http/redact.ts';
import { parseRetryAfter } from '../http/retry.ts';

/** How one provider reports errors and rate limits. */
export interface RestErrorOptions {
  provider: string;
  /** lower-case header holding the epoch second the rate-limit window resets, e.g. `ratelimit-reset` */
  resetHeader?: string;
  /**
   * Turns a provider's error body into `{ code, message }` when the default reading
   * (`message`, `error.message`, `errors[0].message`...) misses it, e.g. Linode's
   * `errors[].reason`. Return undefined to keep the default.
   */
  details?: (body: unknown) => { code?: string | undefined; message?: string | undefined } | undefined;
  /** upstream error codes that mean a conflict whatever the status (Hetzner answers `protected` with 403) */
  conflictCodes?: readonly string[];
  /**
   * Statuses that refuse the caller's input: an InvalidInputError, or a ConflictError when the
   * message matches `conflict` (DigitalOcean's 422 `unprocessable_entity` is both "exists
   * already" and "this input is wrong"; only the message tells them apart).
   */
  inputErrors?: { statuses: readonly number[]; conflict: RegExp };
  now: () => Date;
}

/** A `parseError` for createConnection. */
export function restErrorParser(opts: RestErrorOptions): (info: ErrorResponseInfo) => SkygraphError | undefined {
  return (info) => {
    const now = opts.now();
    const custom = opts.details ? opts.details(safeJson(info.bodyText)) : undefined;
    // why: mapErrorResponse reads `code` and `message` of a JSON body; a provider-specific shape is restated in it
    const normalised = custom?.message !== undefined ? { ...info, headers: { ...info.headers, 'content-type': 'application/json' }, bodyText: JSON.stringify(custom) } : info;
    const code = extractErrorDetails(normalised).code;
    const conflict = code !== undefined && opts.conflictCodes?.includes(code) === true;
    const input = opts.inputErrors?.statuses.includes(info.status) === true;
    if (info.status !== 429 && !custom && !conflict && !input) return undefined;
    const base = mapErrorResponse(normalised, opts.provider, [], now);
    const message = base.message.replace(/^\[[^\]]+\] /, '');
    const typed = { provider: opts.provider, status: info.status, requestId: base.requestId };
    if (info.status !== 429 && conflict) return new ConflictError(message, typed);
    if (input) return opts.inputErrors!.conflict.test(message) ? new ConflictError(message, typed) : new InvalidInputError(message, typed);
    if (info.status !== 429) return base;
    return new RateLimitedError(message, {
      provider: opts.provider,
      status: 429,
      requestId: base.requestId,
      retryAfterMs: retryAfterMs(info.headers, opts.resetHeader, now),
    });
  };
}

/** Retry-After (seconds or HTTP date) first, else the reset header's epoch seconds; undefined when neither says. */
export function retryAfterMs(headers: Record<string, string>, resetHeader: string | undefined, now: Date): number | undefined {
  const fromRetryAfter = parseRetryAfter(headers['retry-after'], now);
  if (fromRetryAfter !== undefined) return fromRetryAfter;
  const reset = resetHeader ? headers[resetHeader.toLowerCase()]?.trim() : undefined;
  if (reset === undefined || !/^\d+(\.\d+)?$/.test(reset)) return undefined;
  return Math.max(0, Math.ceil(Number(reset) * 1000 - now.getTime()));
}

// --- Internal helpers ---

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Scrubs secrets the connection cannot know by name (Linode's root_pass, a TLS key under
 * ssl_key) from an error: each value, its JSON-escaped form, and its long pieces (a PEM key's
 * lines), since an upstream echo may quote any of them.
 */
export function scrubValues<E>(err: E, values: readonly string[]): E {
  const forms = new Set<string>();
  for (const value of values) {
    if (!value) continue;
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
    for (const piece of value.split(/[\s,;:=]+|\\n/)) if (piece.length >= 16) forms.add(piece);
  }
  return scrubError(err, [...forms]);
}
