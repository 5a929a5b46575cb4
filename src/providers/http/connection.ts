/**
 * The HTTP connection every remote driver uses:
 * serialize -> sign -> send (undici Pool) -> parse -> map errors, with retries around sign..parse.
 */
import { InvalidInputError, type SkygraphError } from '../errors.ts';
import { executeRequest } from './execute.ts';
import { DEFAULT_RETRY } from './retry.ts';
import type { ConcurrencyLimiter } from './limiter.ts';
import { createPoolTransport } from './send.ts';
import { checkClientTls, type ClientTlsOptions } from './tls.ts';
import type { KvSeparator } from './parsers/kv.ts';
import type { Signer } from './types.ts';

/** Backoff settings; delays use full jitter and honour Retry-After (capped by maxDelayMs). */
export interface RetryOptions {
  /** retries after the first attempt (so attempts = retries + 1) */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Settings the core hands every connection of a driver (DriverContext.http), beneath the
 * driver's own: tests shorten retries here without touching production defaults.
 */
export interface ConnectionDefaults {
  retry?: Partial<RetryOptions> | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
  /** largest json/xml/text/kv response body read (bytes); default 64 MiB */
  maxResponseBytes?: number | undefined;
  /** hears every attempt sent (tracing, error counts); the runtime sets one per account */
  observe?: CallObserver | undefined;
  /**
   * The account's deadline (ms; the core sets it from AccountConfig.timeoutMs): a retry whose
   * wait would end past it, counted from the request's start, is not made, and the error that
   * called for it is thrown at once (a 429 stays RATE_LIMITED rather than running into a TIMEOUT).
   */
  deadlineMs?: number | undefined;
  /**
   * The account's connection slots (its maxConcurrency), shared by every connection of the
   * account: each request holds one from sending until its response is read.
   */
  limiter?: ConcurrencyLimiter | undefined;
}

/**
 * Watches upstream calls one attempt at a time: src/observe.ts makes a span and counts errors.
 * It sees the operation name, method and host, never a URL, header or body (they may hold secrets).
 */
export interface CallObserver {
  /** an attempt is about to be sent (signed already); its `headers` are added to the request (W3C traceparent) */
  start(call: { operation: string; method: string; host: string; attempt: number }): CallObservation;
}

/** One attempt being watched; `end` is called once, with its status or its error (or both). */
export interface CallObservation {
  readonly headers: Readonly<Record<string, string>>;
  end(outcome: { status?: number | undefined; error?: SkygraphError | undefined }): void;
}

/** Options of one connection (one base URL, one credential set, one socket pool). */
export interface ConnectionOptions {
  /** used as the [provider] prefix in error messages */
  provider: string;
  /** scheme+host+optional base path */
  baseUrl: string;
  signer?: Signer;
  /** called once per HTTP attempt actually sent, after signing (metrics: skygraph_upstream_calls_total) */
  recordCall?: (operation: string) => void;
  /** headers timeout / body timeout (idle time between body chunks), default 30000 */
  timeoutMs?: number;
  /** default 10000 */
  connectTimeoutMs?: number;
  /** default {retries: 3, baseDelayMs: 200, maxDelayMs: 5000} */
  retry?: Partial<RetryOptions>;
  /** undici Pool size, default 16 */
  connections?: number;
  /** https only: X.509 client certificate and key, CA bundle, server name (see tls.ts for a loader) */
  tls?: ClientTlsOptions;
  /**
   * Provider-specific error body mapping (e.g. AWS `<Error><Code>`); return undefined to fall back
   * to the default status mapping. The returned error's `retryable` decides whether an idempotent
   * request is retried (so mapping a 400 `Throttling` to RateLimitedError makes it retried).
   */
  parseError?: (res: ErrorResponseInfo) => SkygraphError | undefined;
  /** e.g. ['x-amz-request-id','x-amzn-requestid','x-openstack-request-id','x-trans-id'] */
  requestIdHeaders?: string[];
  now?: () => Date;
  /** injectable so tests need not wait */
  sleep?: (ms: number) => Promise<void>;
  userAgent?: string;
  /** largest json/xml/text/kv response body read (bytes); a longer one is a MalformedResponseError. Default 64 MiB */
  maxResponseBytes?: number;
  /** DriverContext.http: used where the options above leave a setting out */
  defaults?: ConnectionDefaults | undefined;
}

/** An unexpected response, as handed to `parseError`. Never holds request data. */
export interface ErrorResponseInfo {
  status: number;
  /** response headers, lower-case names */
  headers: Record<string, string>;
  /** at most the first 64 KiB of the body */
  bodyText: string;
  operation: string;
  /** from requestIdHeaders, when present */
  requestId?: string | undefined;
}

/**
 * `stream` gives the undici body as a node Readable; `none` drains the body; `kv` (one object) and
 * `kv-records` (blank-line-separated records as KvPairs[]) see parsers/kv.ts.
 */
export type ResponseType = 'json' | 'xml' | 'text' | 'kv' | 'kv-records' | 'stream' | 'none';

/** One logical call. */
export interface RequestOptions {
  /** logical name, e.g. 'DescribeInstances', 'ListObjectsV2', 'GET /servers/detail' */
  operation: string;
  /** default GET */
  method?: string;
  /**
   * appended to baseUrl's path (baseUrl path + '/' + path, no double slashes), percent-encoded by
   * the caller, may end in its own `?query`; or a full absolute URL on the same origin
   * (pagination 'next' links)
   */
  path?: string;
  /** RFC 3986 encoded; null/undefined skipped; arrays repeat the key */
  query?: Record<string, string | number | boolean | undefined | null | string[]>;
  headers?: Record<string, string>;
  /** async iterables are streamed, never buffered, and make the request non-retryable */
  body?: string | Uint8Array | AsyncIterable<Uint8Array>;
  /** serialised with content-type application/json */
  json?: unknown;
  /** application/x-www-form-urlencoded (AWS Query API), RFC 3986 encoding */
  form?: Record<string, string>;
  /**
   * default true for GET/HEAD/PUT/DELETE/OPTIONS, false for POST/PATCH. Read-only calls sent as
   * POST (AWS Query API `Describe*`) should pass true so they are retried.
   */
  idempotent?: boolean;
  /** acceptable statuses; default any 2xx */
  expect?: number[];
  /** default 'json' (for 'none' the body is drained) */
  responseType?: ResponseType;
  /** tag names (or dotted paths) that are always arrays, e.g. ['item','member','Contents'] */
  xmlArrays?: readonly string[];
  /** how `kv`/`kv-records` lines split (parsers/kv.ts); default 'any' */
  kvSeparator?: KvSeparator;
  /** aborts the request; combined with the signal of the account call it runs in (src/providers/call-scope.ts) */
  signal?: AbortSignal;
}

/** A successful response. For `responseType: 'stream'` the body is a Readable the caller must consume or destroy. */
export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
  requestId: string | undefined;
}

/** A connection to one base URL; `close()` releases its sockets. */
export interface Connection {
  request<T = unknown>(opts: RequestOptions): Promise<HttpResponse<T>>;
  close(): Promise<void>;
  readonly baseUrl: URL;
}

/** Request-id headers looked for when ConnectionOptions.requestIdHeaders is not given. */
export const DEFAULT_REQUEST_ID_HEADERS: readonly string[] = [
  'x-amz-request-id',
  'x-amzn-requestid',
  'x-openstack-request-id',
  'x-compute-request-id',
  'x-trans-id',
  'x-ms-request-id',
  'x-request-id',
];

export const DEFAULT_USER_AGENT = 'skygraph/1.0';
/** why: a list page is a few MB at most; a runaway or hostile body must not fill the heap */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export function createConnection(opts: ConnectionOptions): Connection {
  // why: the base URL may come from config; never echo it (it could carry userinfo)
  const baseUrl = URL.canParse(opts.baseUrl) ? new URL(opts.baseUrl) : undefined;
  if (!baseUrl || (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:')) {
    throw new InvalidInputError('baseUrl must be an absolute http(s) URL', { provider: opts.provider, field: 'baseUrl' });
  }
  baseUrl.search = '';
  baseUrl.hash = '';
  if (opts.tls) {
    if (baseUrl.protocol !== 'https:') throw new InvalidInputError('TLS options need an https baseUrl', { provider: opts.provider, field: 'baseUrl' });
    checkClientTls(opts.tls, opts.provider);
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const transport = createPoolTransport(baseUrl.origin, {
    connections: opts.connections ?? 16,
    timeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
    tls: opts.tls,
  });
  const ctx = {
    provider: opts.provider,
    baseUrl,
    transport,
    signer: opts.signer,
    recordCall: opts.recordCall,
    retry: { ...DEFAULT_RETRY, ...opts.defaults?.retry, ...opts.retry },
    parseError: opts.parseError,
    requestIdHeaders: opts.requestIdHeaders ?? DEFAULT_REQUEST_ID_HEADERS,
    now: opts.now ?? (() => new Date()),
    sleep: opts.sleep ?? opts.defaults?.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    userAgent: opts.userAgent ?? DEFAULT_USER_AGENT,
    maxResponseBytes: opts.maxResponseBytes ?? opts.defaults?.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    observe: opts.defaults?.observe,
    deadlineMs: opts.defaults?.deadlineMs,
    limiter: opts.defaults?.limiter,
  };
  let closing: Promise<void> | undefined;
  return {
    get baseUrl() {
      return new URL(baseUrl);
    },
    request: <T>(request: RequestOptions) => executeRequest(ctx, request) as Promise<HttpResponse<T>>,
    close: () => (closing ??= transport.close()),
  };
}
