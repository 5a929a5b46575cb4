/**
 * Azure Resource Manager transport shared by the `azure` and `azure-lb` drivers: one bearer
 * connection to the management endpoint, ARM error bodies mapped to typed errors, list calls
 * that follow `nextLink`, and long-running operations followed through their
 * `Azure-AsyncOperation` or `Location` header.
 *
 * https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations
 * https://github.com/microsoft/api-guidelines/blob/vNext/azure/Guidelines.md (paging, errors)
 */
import {
  AuthenticationError,
  ConflictError,
  InvalidInputError,
  MalformedResponseError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
  TimeoutError,
  type SkygraphError,
} from '../../errors.ts';
import { createConnection, type ConnectionDefaults, type ErrorResponseInfo, type HttpResponse, type RequestOptions } from '../../http/connection.ts';
import { extractErrorDetails, statusError } from '../../http/map-errors.ts';
import { bodySnippet } from '../../http/parsers/context.ts';
import { parseRetryAfter } from '../../http/retry.ts';
import { bearerSigner, type TokenSource } from '../../http/signers/bearer.ts';
import { sleep as callSleep } from '../../call-scope.ts';

/** How the client reaches ARM. */
export interface ArmClientOptions {
  provider: string;
  /** default https://management.azure.com */
  endpoint: URL;
  tokens: TokenSource;
  recordCall: (operation: string) => void;
  now: () => Date;
  /** waits between polls of a long-running operation (injectable for tests) */
  sleep?: (ms: number) => Promise<void>;
  /** poll interval when the service sends no Retry-After (default 2000 ms) */
  pollIntervalMs?: number;
  /** give up on a long-running operation after this long (default 15 minutes) */
  operationTimeoutMs?: number;
  /** DriverContext.http: connection defaults (the account's connection slots, test retries) */
  http?: ConnectionDefaults | undefined;
}

/** An ARM request; `apiVersion` is required by every ARM call. */
export interface ArmRequest extends Omit<RequestOptions, 'query'> {
  apiVersion: string;
  query?: RequestOptions['query'];
}

/** ARM calls for one subscription. */
export interface ArmClient {
  request<T = unknown>(req: ArmRequest): Promise<HttpResponse<T>>;
  /** every item of a list call, following nextLink (one call per page) */
  list<T>(operation: string, path: string, apiVersion: string, query?: RequestOptions['query']): Promise<T[]>;
  /**
   * Waits for the long-running operation a PUT/POST/DELETE response started: any answer with
   * Azure-AsyncOperation (a PUT on an existing resource answers 200 with it), or a 201/202 with
   * Location; returns at once for a response that finished the work.
   */
  waitFor(operation: string, started: HttpResponse<unknown>): Promise<void>;
  close(): Promise<void>;
}

export const ARM_ENDPOINT = 'https://management.azure.com';
const MAX_PAGES = 1000;
const TERMINAL_FAILED = new Set(['failed', 'canceled', 'cancelled']);
const NOT_FOUND_CODES = new Set(['ResourceNotFound', 'ResourceGroupNotFound', 'NotFound', 'SubscriptionNotFound', 'ParentResourceNotFound']);
const AUTH_CODES = new Set(['InvalidAuthenticationToken', 'ExpiredAuthenticationToken', 'AuthenticationFailed', 'AuthorizationFailed', 'InvalidAuthenticationTokenTenant']);
const INVALID_CODES = new Set(['InvalidParameter', 'InvalidRequestContent', 'InvalidResourceName', 'BadRequest', 'InvalidRequestFormat', 'MissingRequiredParameter', 'PropertyChangeNotAllowed']);

export function createArmClient(opts: ArmClientOptions): ArmClient {
  const { provider } = opts;
  const conn = createConnection({
    provider,
    baseUrl: opts.endpoint.href,
    signer: bearerSigner(opts.tokens),
    recordCall: opts.recordCall,
    parseError: (info) => parseArmError(info, provider, opts.now()),
    requestIdHeaders: ['x-ms-request-id', 'x-ms-correlation-request-id'],
    now: opts.now,
    defaults: opts.http,
  });
  // why: the call's deadline ends the wait (src/providers/call-scope.ts)
  const sleep = opts.sleep ?? callSleep;
  const pollIntervalMs = opts.pollIntervalMs ?? 2000;
  const operationTimeoutMs = opts.operationTimeoutMs ?? 15 * 60_000;

  const request = <T>(req: ArmRequest) => {
    const { apiVersion, query, ...rest } = req;
    return conn.request<T>({ ...rest, query: { ...query, 'api-version': apiVersion } });
  };

  return {
    request,
    async list<T>(operation: string, path: string, apiVersion: string, query?: RequestOptions['query']) {
      const items: T[] = [];
      let res = await request<ListResult<T>>({ operation, path, apiVersion, query });
      for (let page = 1; ; page++) {
        const body = res.body;
        if (!body || !Array.isArray(body.value)) throw new MalformedResponseError(`${operation}: the response has no value array`, { provider, requestId: res.requestId });
        items.push(...body.value);
        if (!body.nextLink) return items;
        if (page >= MAX_PAGES) throw new MalformedResponseError(`${operation}: more than ${MAX_PAGES} pages; the nextLink chain does not end`, { provider });
        // why: nextLink is absolute and already carries api-version and the skip token
        res = await conn.request<ListResult<T>>({ operation, path: body.nextLink });
      }
    },
    async waitFor(operation, started) {
      const asyncUrl = started.headers['azure-asyncoperation'];
      // why: a Location on a 200 is the resource's address, not an operation to follow
      const location = started.status === 201 || started.status === 202 ? started.headers['location'] : undefined;
      if (!asyncUrl && !location) {
        if (started.status === 202) throw new MalformedResponseError(`${operation}: 202 without Azure-AsyncOperation or Location`, { provider, requestId: started.requestId });
        return;
      }
      const deadline = opts.now().getTime() + operationTimeoutMs;
      let last: HttpResponse<unknown> = started;
      for (;;) {
        const wait = Math.min(parseRetryAfter(last.headers['retry-after'], opts.now()) ?? pollIntervalMs, 60_000);
        if (opts.now().getTime() + wait > deadline) {
          throw new TimeoutError(`${operation}: the operation did not finish within ${Math.round(operationTimeoutMs / 1000)} s`, { provider });
        }
        await sleep(wait);
        if (asyncUrl) {
          // https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations#azure-asyncoperation-request-and-response
          last = await conn.request<OperationStatus>({ operation: `${operation} (status)`, path: asyncUrl });
          const body = last.body as OperationStatus | undefined;
          const status = typeof body?.status === 'string' ? body.status.toLowerCase() : undefined;
          if (status === undefined) throw new MalformedResponseError(`${operation}: the operation status has no status`, { provider, requestId: last.requestId });
          if (status === 'succeeded') return;
          if (TERMINAL_FAILED.has(status)) throw operationFailed(operation, body!, provider, last.requestId);
        } else {
          // https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations#location-request-and-response
          last = await conn.request({ operation: `${operation} (status)`, path: location!, expect: [200, 201, 202, 204], responseType: 'text' });
          if (last.status !== 202) return;
        }
      }
    },
    close: () => conn.close(),
  };
}

/**
 * ARM error bodies: `{"error": {"code", "message", "target", "details"}}`, with the status.
 * 429 carries Retry-After; a token ARM refuses is 401 (the connection then refreshes it once).
 */
export function parseArmError(info: ErrorResponseInfo, provider: string, now: Date): SkygraphError {
  const details = extractErrorDetails(info);
  const target = armErrorTarget(info.bodyText);
  const code = details.code;
  const text = details.message ?? `HTTP ${info.status}`;
  const message = `${info.operation} ${info.status}${code ? ` ${code}` : ''}: ${bodySnippet(text, [], 300)}`;
  const opts = { provider, status: info.status, requestId: info.requestId };
  if (info.status === 429) return new RateLimitedError(message, { ...opts, retryAfterMs: parseRetryAfter(info.headers['retry-after'], now) });
  if (info.status === 404 || (code && NOT_FOUND_CODES.has(code))) return new NotFoundError(message, opts);
  if (info.status === 401 || info.status === 403 || (code && AUTH_CODES.has(code))) return new AuthenticationError(message, opts);
  if (info.status === 409 || info.status === 412) return new ConflictError(message, { ...opts, retryable: code === 'RetryableError' || code === 'AnotherOperationInProgress' });
  if (info.status === 400 && code && INVALID_CODES.has(code)) return new InvalidInputError(message, { ...opts, field: target });
  return statusError(message, opts);
}

/** Parses an ARM resource id into its subscription, resource group, provider type and name. */
export function parseResourceId(id: string): { subscriptionId: string; resourceGroup: string; type: string; name: string } | undefined {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+\/[^/]+)\/([^/]+)$/i.exec(id);
  if (!m) return undefined;
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, type: m[3]!, name: m[4]! };
}

/** The id of a resource in a resource group. */
export function resourceId(subscriptionId: string, resourceGroup: string, type: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${type}/${name}`;
}

/** ARM ids compare case-insensitively. */
export function sameId(a: string | undefined | null, b: string | undefined | null): boolean {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}

/** The path of an ARM id as a request path: each segment percent-encoded. */
export function idPath(id: string): string {
  return id
    .split('/')
    .filter(Boolean)
    .map((s) => encodeURIComponent(s))
    .join('/');
}

// --- Internal helpers ---

interface ListResult<T> {
  value?: T[];
  nextLink?: string | null;
}

interface OperationStatus {
  status?: string;
  error?: { code?: string; message?: string };
}

function operationFailed(operation: string, body: OperationStatus, provider: string, requestId: string | undefined): SkygraphError {
  const code = body.error?.code;
  const text = body.error?.message ?? `the operation ended ${body.status}`;
  const message = `${operation}: ${body.status}${code ? ` ${code}` : ''}: ${bodySnippet(text, [], 300)}`;
  if (code && INVALID_CODES.has(code)) return new InvalidInputError(message, { provider, requestId });
  return new ProviderError(message, { provider, requestId });
}

function armErrorTarget(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: { target?: unknown } };
    return typeof body.error?.target === 'string' ? body.error.target : undefined;
  } catch {
    return undefined;
  }
}
