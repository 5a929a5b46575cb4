/**
 * The Kubernetes API connection of one kubevirt account: the target from kubeconfig.ts, TLS
 * material and a bearer signer, resolved on first use; paged lists; and Kubernetes
 * `Status` error bodies mapped to typed errors.
 *
 * https://kubernetes.io/docs/reference/using-api/api-concepts/
 */
import { readFile } from 'node:fs/promises';
import { AuthenticationError, ConflictError, InvalidInputError, MalformedResponseError, NotFoundError, RateLimitedError, type SkygraphError } from '../errors.ts';
import { createConnection, type Connection, type ErrorResponseInfo, type RetryOptions } from '../http/connection.ts';
import { statusError } from '../http/map-errors.ts';
import { parseRetryAfter } from '../http/retry.ts';
import { bearerSigner, staticToken, type TokenSource } from '../http/signers/bearer.ts';
import { loadClientTls } from '../http/tls.ts';
import type { Signer } from '../http/types.ts';
import { obj, type Json } from '../rest/json.ts';
import type { DriverContext } from '../types.ts';
import { resolveKubeTarget, type KubeTarget } from './kubeconfig.ts';
import { str } from './mappers.ts';

export const DRIVER_NAME = 'kubevirt';
/** why: a projected service-account token rotates; kubelet refreshes it well within this */
const TOKEN_FILE_TTL_MS = 60_000;

/** Test seams and tuning. */
export interface KubevirtDeps {
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
  /** `limit` of list calls (default 500); a page per call */
  pageSize?: number;
}

/** The opened API: the connection and what it was opened for. */
export interface KubeApi {
  readonly namespace: string;
  readonly target: KubeTarget;
  conn: Connection;
}

/** Opens the connection on first use (and again after a failed open); `close` releases it. */
export function createKubeApi(ctx: DriverContext, deps: KubevirtDeps): { open(): Promise<KubeApi>; close(): Promise<void> } {
  let opening: Promise<KubeApi> | undefined;
  const open = () =>
    (opening ??= openApi(ctx, deps).catch((err: unknown) => {
      opening = undefined;
      throw err;
    }));
  return {
    open,
    async close() {
      const api = await opening?.catch(() => undefined);
      await api?.conn.close();
    },
  };
}

/** Every item of a list, following `metadata.continue`: one call per page. */
export async function listAll(conn: Connection, path: string, operation: string, pageSize: number): Promise<Json[]> {
  const items: Json[] = [];
  let cont: string | undefined;
  do {
    const res = await conn.request<Json>({ operation, path, query: { limit: pageSize, continue: cont } });
    const body = obj(res.body);
    if (!body || !Array.isArray(body.items)) throw new MalformedResponseError(`${operation} answered without items`, { provider: DRIVER_NAME, status: res.status });
    for (const item of body.items) if (obj(item)) items.push(item as Json);
    cont = str(obj(body.metadata)?.continue);
  } while (cont !== undefined);
  return items;
}

/**
 * A Kubernetes `Status` body -> typed error: `GET /virtualmachines 404 NotFound: virtualmachines.kubevirt.io "x" not found`.
 * 401 and 403 (RBAC) are AuthenticationError, 404 NotFoundError, 409 (AlreadyExists, Conflict)
 * ConflictError, 422 (Invalid) InvalidInputError, 429 RateLimitedError; others ProviderError.
 *
 * https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/
 */
export function parseKubeStatus(info: ErrorResponseInfo): SkygraphError | undefined {
  let body: Json | undefined;
  try {
    body = obj(JSON.parse(info.bodyText));
  } catch {
    return undefined;
  }
  if (!body || body.kind !== 'Status') return undefined;
  const reason = str(body.reason);
  const text = (str(body.message) ?? reason ?? 'failed').slice(0, 300);
  const message = `${info.operation} ${info.status}${reason ? ` ${reason}` : ''}: ${text}`;
  const opts = { provider: DRIVER_NAME, status: info.status, requestId: info.requestId };
  switch (info.status) {
    case 401:
    case 403:
      return new AuthenticationError(message, opts);
    case 404:
      return new NotFoundError(message, opts);
    case 409:
      return new ConflictError(message, opts);
    case 422: {
      const cause = obj(Array.isArray(obj(body.details)?.causes) ? (obj(body.details)!.causes as unknown[])[0] : undefined);
      const field = str(cause?.field);
      return new InvalidInputError(message, { ...opts, ...(field ? { field } : {}) });
    }
    case 429:
      return new RateLimitedError(message, { ...opts, retryAfterMs: parseRetryAfter(info.headers['retry-after'], new Date()) });
    default:
      return statusError(message, opts);
  }
}

// --- Internal helpers ---

async function openApi(ctx: DriverContext, deps: KubevirtDeps): Promise<KubeApi> {
  const { target, problems } = resolveKubeTarget(ctx.account);
  if (!target) throw new InvalidInputError(problems.join('; '), { provider: DRIVER_NAME });
  const https = new URL(target.server).protocol === 'https:';
  const tls = https ? await loadClientTls(target.tls, DRIVER_NAME) : undefined;
  const conn = createConnection({
    provider: DRIVER_NAME,
    baseUrl: target.server,
    signer: signerFor(target, ctx),
    ...(tls ? { tls } : {}),
    recordCall: ctx.recordCall,
    now: ctx.now,
    retry: deps.retry,
    sleep: deps.sleep,
    parseError: parseKubeStatus,
    defaults: ctx.http,
  });
  return { namespace: target.namespace, target, conn };
}

function signerFor(target: KubeTarget, ctx: DriverContext): Signer | undefined {
  const { token } = target;
  if (!token) return undefined;
  return bearerSigner('value' in token ? staticToken(token.value) : tokenFileSource(token.file, token.field, ctx));
}

/** A token read from a file, re-read once a minute and after a 401 (projected tokens rotate). */
function tokenFileSource(file: string, field: string, ctx: DriverContext): TokenSource {
  let cached: { token: string; at: number } | undefined;
  return {
    async token(now) {
      if (cached && now.getTime() - cached.at < TOKEN_FILE_TTL_MS) return cached.token;
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new InvalidInputError(`${field} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { provider: DRIVER_NAME, field });
      }
      cached = { token: text.trim(), at: ctx.now().getTime() };
      return cached.token;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
