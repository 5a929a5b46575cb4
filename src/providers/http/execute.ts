/**
 * The attempt loop: sign -> send -> parse -> map errors, retried per the policy in retry.ts.
 * A 401 gives the signer one chance to refresh (onUnauthorized) and re-sign; a signer that reports
 * a stale nonce gets up to MAX_STALE_RETRIES more, which do not count as refused credentials.
 */
import { checkDeadline, withCallSignal } from '../call-scope.ts';
import { RateLimitedError, SkygraphError, toSkygraphError } from '../errors.ts';
import type { CallObserver, ConnectionOptions, ErrorResponseInfo, HttpResponse, RequestOptions, RetryOptions } from './connection.ts';
import { releaseOnClose, type ConcurrencyLimiter } from './limiter.ts';
import { findRequestId, mapAbort, mapErrorResponse, mapTransportError } from './map-errors.ts';
import { readBody, readCapped } from './parse.ts';
import { collectSecrets, scrubError } from './redact.ts';
import { classifyTransportError, parseRetryAfter, retryDelay } from './retry.ts';
import type { Transport } from './send.ts';
import { copyRequest, isIdempotentMethod, isStreamBody, serializeRequest } from './serialize.ts';
import type { HttpRequest, Signer } from './types.ts';

/** Everything createConnection resolved from ConnectionOptions. */
export interface ExecuteContext {
  provider: string;
  baseUrl: URL;
  transport: Transport;
  signer: Signer | undefined;
  recordCall: ConnectionOptions['recordCall'];
  retry: RetryOptions;
  parseError: ConnectionOptions['parseError'];
  requestIdHeaders: readonly string[];
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  userAgent: string;
  maxResponseBytes: number;
  observe?: CallObserver | undefined;
  /** see ConnectionDefaults.deadlineMs */
  deadlineMs: number | undefined;
  /** the account's connection slots (ConnectionDefaults.limiter); none: unlimited */
  limiter: ConcurrencyLimiter | undefined;
}

type Outcome =
  | { response: HttpResponse }
  | { error: SkygraphError; status?: number; headers?: Record<string, string>; retryAfterMs?: number | undefined; notSent?: boolean; retryable?: boolean };

/** why: a server whose nonces expire faster than a round trip must not keep a request looping */
export const MAX_STALE_RETRIES = 2;

export async function executeRequest(ctx: ExecuteContext, request: RequestOptions): Promise<HttpResponse> {
  const secrets = new Set<string>();
  // why: the deadline of the account call this request belongs to (src/providers/call-scope.ts) aborts it too
  const signal = withCallSignal(request.signal);
  const opts = signal === request.signal ? request : { ...request, signal };
  try {
    const prepared = serializeRequest(ctx.baseUrl, opts, ctx.userAgent);
    for (const s of collectSecrets(prepared)) secrets.add(s);
    return await attemptLoop(ctx, opts, prepared, secrets);
  } catch (err) {
    throw scrubError(toSkygraphError(err, ctx.provider), [...secrets]);
  }
}

// --- Internal helpers ---

async function attemptLoop(ctx: ExecuteContext, opts: RequestOptions, prepared: HttpRequest, secrets: Set<string>): Promise<HttpResponse> {
  const streamed = isStreamBody(prepared.body);
  const idempotent = opts.idempotent ?? isIdempotentMethod(prepared.method);
  const started = performance.now();
  let attempt = 0;
  let sent = 0;
  let reauthorized = false;
  let staleRetries = 0;
  for (;;) {
    if (opts.signal?.aborted) throw mapAbort(opts.signal.reason, ctx.provider, opts.operation);
    const req = ctx.signer ? await ctx.signer.sign(copyRequest(prepared), { now: ctx.now() }) : copyRequest(prepared);
    for (const s of collectSecrets(req)) secrets.add(s);
    // why: after signing, so the trace header is never part of a signature (the span includes a wait for a connection slot)
    const observation = ctx.observe?.start({ operation: opts.operation, method: req.method, host: req.url.host, attempt: sent++ });
    if (observation) Object.assign(req.headers, observation.headers);
    const outcome = await sendOnce(ctx, opts, req, [...secrets]);
    observation?.end('response' in outcome ? { status: outcome.response.status } : { status: outcome.status, error: scrubError(outcome.error, [...secrets]) });
    if ('response' in outcome) return outcome.response;
    if (opts.signal?.aborted) throw mapAbort(opts.signal.reason, ctx.provider, opts.operation);

    if (outcome.status === 401 && ctx.signer?.onUnauthorized && !reauthorized) {
      const verdict = (await ctx.signer.onUnauthorized({ status: 401, headers: outcome.headers ?? {} })) ?? 'retry';
      // why: a stale nonce says the credentials were right, so that retry is not the one refused credentials get
      const stale = verdict === 'stale' && staleRetries < MAX_STALE_RETRIES;
      if (stale) staleRetries++;
      else reauthorized = true;
      // why: a streamed body is gone; the refreshed credentials serve the caller's next request
      if (verdict !== 'fail' && !streamed) continue;
    }
    const { error } = outcome;
    const allowed = idempotent || outcome.notSent === true;
    const retryable = outcome.retryable ?? error.retryable;
    if (streamed || !allowed || !retryable || attempt >= ctx.retry.retries) throw error;
    const delay = retryDelay(attempt, ctx.retry, outcome.retryAfterMs);
    // why: a wait that ends past the account's deadline would only turn this error into a TIMEOUT
    if (ctx.deadlineMs !== undefined && performance.now() - started + delay >= ctx.deadlineMs) throw error;
    await sleepUnlessAborted(ctx, delay, opts);
    attempt++;
  }
}

async function sendOnce(ctx: ExecuteContext, opts: RequestOptions, req: HttpRequest, secrets: string[]): Promise<Outcome> {
  const failed = (err: unknown): Outcome => {
    if (err instanceof SkygraphError) return { error: err };
    // why: the transport code, not the error class, decides (ENOTFOUND or a closed pool is a ConnectionFailedError that retrying cannot fix)
    const { notSent, retryable } = classifyTransportError(err);
    return { error: mapTransportError(err, ctx.provider, opts.operation, secrets), notSent, retryable };
  };
  // why: after signing, so a token fetch the signer makes never waits behind the request that needs it
  const release = await takeSlot(ctx, opts);
  let streaming = false;
  try {
    checkDeadline();
    if (opts.signal?.aborted) throw mapAbort(opts.signal.reason, ctx.provider, opts.operation);
    // why: counted once it really goes out, not while it waits for a slot
    ctx.recordCall?.(opts.operation);
    let res;
    try {
      res = await ctx.transport.send(req, opts.signal);
    } catch (err) {
      return failed(err);
    }
    const { status, headers } = res;
    const requestId = findRequestId(headers, ctx.requestIdHeaders);
    const expected = opts.expect ? opts.expect.includes(status) : status >= 200 && status < 300;
    if (expected) {
      try {
        const type = opts.responseType ?? 'json';
        const parseCtx = { provider: ctx.provider, operation: opts.operation, status, requestId, secrets, xmlArrays: opts.xmlArrays, kvSeparator: opts.kvSeparator, maxBytes: ctx.maxResponseBytes };
        const body = await readBody(res, type, parseCtx);
        if (type === 'stream') {
          releaseOnClose(res.body, release);
          streaming = true;
        }
        return { response: { status, headers, body, requestId } };
      } catch (err) {
        return failed(err);
      }
    }
    let bodyText = '';
    try {
      bodyText = await readCapped(res.body);
    } catch {
      // why: a body that breaks off mid-error still leaves the status to map
    }
    const info: ErrorResponseInfo = { status, headers, bodyText, operation: opts.operation, requestId };
    const now = ctx.now();
    const error = ctx.parseError?.(info) ?? mapErrorResponse(info, ctx.provider, secrets, now);
    const retryAfterMs = error instanceof RateLimitedError && error.retryAfterMs !== undefined ? error.retryAfterMs : parseRetryAfter(headers['retry-after'], now);
    return { error, status, headers, retryAfterMs };
  } finally {
    if (!streaming) release();
  }
}

/** One of the account's connection slots; waiting for it ends when the request is aborted. */
async function takeSlot(ctx: ExecuteContext, opts: RequestOptions): Promise<() => void> {
  if (!ctx.limiter) return () => undefined;
  try {
    return await ctx.limiter.acquire(opts.signal);
  } catch (err) {
    throw mapAbort(opts.signal?.reason ?? err, ctx.provider, opts.operation);
  }
}

async function sleepUnlessAborted(ctx: ExecuteContext, ms: number, opts: RequestOptions): Promise<void> {
  const { signal } = opts;
  if (!signal) return ctx.sleep(ms);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([ctx.sleep(ms), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
  if (signal.aborted) throw mapAbort(signal.reason, ctx.provider, opts.operation);
}
