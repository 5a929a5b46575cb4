/**
 * Map-errors stage: unexpected HTTP statuses and transport failures -> typed SkygraphErrors.
 * Messages carry the operation, status, upstream error code and a short upstream message; never
 * the URL, request headers or request body, and upstream text is scrubbed of known secrets.
 */
import { STATUS_CODES } from 'node:http';
import {
  AuthenticationError,
  ConflictError,
  ConnectionFailedError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
  SkygraphError,
  TimeoutError,
  UnavailableError,
  type SkygraphErrorOptions,
} from '../errors.ts';
import type { ErrorResponseInfo } from './connection.ts';
import { bodySnippet } from './parsers/context.ts';
import { isJsonResponse } from './parsers/json.ts';
import { decodeXmlEntities, isXmlResponse } from './parsers/xml.ts';
import { redact } from './redact.ts';
import { classifyTransportError, parseRetryAfter } from './retry.ts';

const MESSAGE_CHARS = 300;
/** why: retrying these cannot help, although they are 5xx */
const PERMANENT_5XX = new Set([501, 505]);

export interface ErrorDetails {
  code?: string | undefined;
  message?: string | undefined;
  requestId?: string | undefined;
}

/** First non-empty value among the given response headers. */
export function findRequestId(headers: Record<string, string>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = headers[name.toLowerCase()];
    if (value) return value;
  }
  return undefined;
}

/** The default mapping by status (see ConnectionOptions.parseError for provider-specific ones). */
export function mapErrorResponse(info: ErrorResponseInfo, provider: string, secrets: readonly string[], now: Date): SkygraphError {
  const details = extractErrorDetails(info);
  const requestId = info.requestId ?? details.requestId;
  const text = details.message ?? STATUS_CODES[info.status] ?? 'unexpected status';
  const message = `${info.operation} ${info.status}${details.code ? ` ${details.code}` : ''}: ${bodySnippet(text, secrets, MESSAGE_CHARS)}`;
  const opts = { provider, status: info.status, requestId };
  const { status } = info;
  if (status === 401 || status === 403) return new AuthenticationError(message, opts);
  if (status === 404) return new NotFoundError(message, opts);
  if (status === 409 || status === 412) return new ConflictError(message, opts);
  if (status === 429) return new RateLimitedError(message, { ...opts, retryAfterMs: parseRetryAfter(info.headers['retry-after'], now) });
  return statusError(message, opts);
}

/**
 * The error for a status that no more specific rule claimed, shared by the providers' own
 * parsers: 503 is UnavailableError, another 5xx a retried ProviderError (not 501 or 505), and
 * anything else a ProviderError.
 */
export function statusError(message: string, opts: SkygraphErrorOptions & { status: number }): SkygraphError {
  if (opts.status === 503) return new UnavailableError(message, opts);
  if (opts.status >= 500) return new ProviderError(message, { ...opts, retryable: !PERMANENT_5XX.has(opts.status) });
  return new ProviderError(message, opts);
}

/** Upstream error code, message and request id from a JSON, XML, HTML or plain-text error body. */
export function extractErrorDetails(info: Pick<ErrorResponseInfo, 'headers' | 'bodyText'>): ErrorDetails {
  const text = info.bodyText.trim();
  if (!text) return {};
  const type = info.headers['content-type'];
  if (isJsonResponse(type) || text.startsWith('{')) {
    const parsed = safeJson(text);
    if (parsed && typeof parsed === 'object') return jsonDetails(parsed as Record<string, unknown>);
  }
  if (/^<!doctype html|^<html/i.test(text) || /\btext\/html\b/i.test(type ?? '')) {
    return { message: text.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ') };
  }
  if (isXmlResponse(type) || text.startsWith('<')) {
    const pick = (tag: string) => {
      const m = new RegExp(`<${tag}>([^<]{1,2000})</${tag}>`, 'i').exec(text);
      return m?.[1] ? decodeXmlEntities(m[1].trim()) : undefined;
    };
    return { code: asCode(pick('Code')), message: pick('Message'), requestId: pick('RequestId') ?? pick('RequestID') };
  }
  return { message: text };
}

/**
 * Turns an undici/node transport error into ConnectionFailedError, TimeoutError or ProviderError;
 * a server refusing the TLS client certificate is an AuthenticationError.
 */
export function mapTransportError(err: unknown, provider: string, operation: string, secrets: readonly string[]): SkygraphError {
  const failure = classifyTransportError(err);
  const raw = err instanceof Error ? err.message : String(err);
  // why: keep a cause for debugging, but a fresh one that holds nothing but a scrubbed message and code
  const cause = Object.assign(new Error(redact(raw, secrets)), { code: failure.code });
  const what = failure.code ?? (err instanceof Error ? err.name : 'error');
  if (failure.kind === 'timeout') {
    const phase = failure.code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connecting' : failure.code === 'UND_ERR_BODY_TIMEOUT' ? 'reading the body' : 'waiting for the response';
    return new TimeoutError(`${operation}: timed out ${phase} (${what})`, { provider, cause });
  }
  if (failure.kind === 'connection') return new ConnectionFailedError(`${operation}: connection failed (${what})`, { provider, cause });
  if (failure.kind === 'client-cert') {
    return new AuthenticationError(`${operation}: the server refused the TLS client certificate, or its absence (${what})`, { provider, cause });
  }
  if (failure.kind === 'server-cert') {
    return new ConnectionFailedError(`${operation}: the server's TLS certificate is not trusted for this endpoint (${what}); check the CA bundle and server name`, { provider, cause, retryable: false });
  }
  return new ProviderError(`${operation}: request failed (${what})`, { provider, cause, retryable: false });
}

/** Error for a caller-aborted request: deadlines (AbortSignal.timeout) read as TimeoutError. */
export function mapAbort(reason: unknown, provider: string, operation: string): SkygraphError {
  if (reason instanceof SkygraphError) return reason;
  const name = reason instanceof Error ? reason.name : '';
  if (name === 'TimeoutError') return new TimeoutError(`${operation}: aborted by the caller's deadline`, { provider });
  return new ProviderError(`${operation}: aborted by the caller`, { provider });
}

// --- Internal helpers ---

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : undefined;
}

function asCode(v: unknown): string | undefined {
  const s = str(v);
  if (!s) return undefined;
  const code = s.includes('#') ? s.slice(s.lastIndexOf('#') + 1) : s; // AWS JSON `__type`: "ns#Code"
  return /^[A-Za-z][\w.:-]{0,79}$/.test(code) ? code : undefined;
}

/** AWS JSON, OpenStack (`{"itemNotFound": {...}}`, `{"error": {...}}`), DigitalOcean, GCE shapes. */
function jsonDetails(o: Record<string, unknown>): ErrorDetails {
  const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  const err = obj(o.error) ?? obj(o.Error);
  const keys = Object.keys(o);
  const only = keys.length === 1 && keys[0] ? obj(o[keys[0]]) : undefined;
  const inner = err ?? only;
  const firstOf = (list: unknown) => (Array.isArray(list) ? obj(list[0]) : undefined);
  const message =
    str(o.message) ?? str(o.Message) ?? str(inner?.message) ?? str(inner?.Message) ?? str(o.error_description) ??
    str(o.error) ?? str(firstOf(o.errors)?.message) ?? str(o.detail) ?? str(o.title);
  const code =
    asCode(o.code) ?? asCode(o.Code) ?? asCode(o.__type) ?? asCode(inner?.code) ?? asCode(inner?.Code) ??
    asCode(inner?.title) ?? (only && !err ? asCode(keys[0]) : undefined) ?? asCode(o.id);
  return { code, message, requestId: str(o.RequestId) ?? str(o.requestId) ?? str(o.request_id) };
}
