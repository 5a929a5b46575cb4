/** Retry policy: which failures are retried, and how long to wait before the next attempt. */
import type { RetryOptions } from './connection.ts';

export const DEFAULT_RETRY: RetryOptions = { retries: 3, baseDelayMs: 200, maxDelayMs: 5000 };

/** Full-jitter exponential backoff: uniform in [0, min(maxDelayMs, baseDelayMs * 2^attempt)). */
export function backoffDelay(attempt: number, opts: RetryOptions, random: () => number = Math.random): number {
  const cap = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

/** The server's Retry-After wins over backoff, but never beyond maxDelayMs. */
export function retryDelay(attempt: number, opts: RetryOptions, retryAfterMs: number | undefined): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), opts.maxDelayMs);
  return backoffDelay(attempt, opts);
}

/** Retry-After as delta-seconds or an HTTP-date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/** Transport failure codes (undici and node) grouped by what they mean for a retry. */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
/** why: these fail before a byte of the request left, so even a POST may be retried */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);
const RETRYABLE_CODES = new Set([
  ...TIMEOUT_CODES,
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);
const CONNECTION_CODES = new Set([...RETRYABLE_CODES, 'ENOTFOUND', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);
/** TLS alerts by which a server refuses the client certificate (or its absence): a credentials problem */
const CLIENT_CERT_ALERT = /^ERR_SSL_.*ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|HANDSHAKE_FAILURE)$/;
/** Node's verdicts on the server's certificate: the endpoint is not the one the CA bundle vouches for */
const SERVER_CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export interface TransportFailure {
  code: string | undefined;
  /** `client-cert`: the server refused our TLS client certificate; `server-cert`: we refused the server's */
  kind: 'timeout' | 'connection' | 'client-cert' | 'server-cert' | 'other';
  retryable: boolean;
  /** the request provably never reached the server */
  notSent: boolean;
}

export function classifyTransportError(err: unknown): TransportFailure {
  const code = errorCode(err);
  const kind: TransportFailure['kind'] =
    code === undefined ? 'other'
    : TIMEOUT_CODES.has(code) ? 'timeout'
    : CONNECTION_CODES.has(code) ? 'connection'
    : CLIENT_CERT_ALERT.test(code) ? 'client-cert'
    : SERVER_CERT_CODES.has(code) ? 'server-cert'
    : 'other';
  return {
    code,
    kind,
    retryable: code !== undefined && RETRYABLE_CODES.has(code),
    notSent: code !== undefined && NOT_SENT_CODES.has(code),
  };
}

/** `code` of an error, looking inside AggregateError (happy-eyeballs connects report one per address). */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const inner = (err as { errors?: unknown }).errors;
  return Array.isArray(inner) && inner.length ? errorCode(inner[0]) : undefined;
}
