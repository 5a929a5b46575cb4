/**
 * One Google REST API connection for a driver instance: the base URL (Google's, or the account's
 * `endpoint`), OAuth bearer tokens from the account's credentials (auth.ts), Google's error body
 * mapping (errors.ts), and `nextPageToken` paging.
 */
import { MalformedResponseError } from '../errors.ts';
import { createConnection, type HttpResponse, type RequestOptions, type RetryOptions } from '../http/connection.ts';
import { bearerSigner } from '../http/signers/bearer.ts';
import type { DriverContext } from '../types.ts';
import { googleTokenSource, resolveProject, type GoogleTokenSource } from './auth.ts';
import { googleErrorParser } from './errors.ts';
import { list, obj, str, type Json } from './json.ts';

/** Test seams and tuning shared by the Google drivers. */
export interface GoogleDeps {
  retry?: Partial<RetryOptions>;
  /** the connection's backoff and the operation waits */
  sleep?: (ms: number) => Promise<void>;
  /** default process.env (GOOGLE_APPLICATION_CREDENTIALS) */
  env?: Record<string, string | undefined>;
  /** between polls of a pending operation (default 2000) */
  pollIntervalMs?: number;
  /** the longest one operation wait lasts (default 600000) */
  operationTimeoutMs?: number;
  /** maxResults of list calls (default 500, the Compute Engine maximum) */
  pageSize?: number;
}

/** A connection with its token source and project. */
export interface GoogleClient {
  provider: string;
  request<T = Json>(opts: RequestOptions): Promise<HttpResponse<T>>;
  /** options.project, else the key's project_id (resolved once) */
  project(): Promise<string>;
  auth: GoogleTokenSource;
  readonly baseUrl: URL;
  close(): Promise<void>;
}

/** why: list calls stop here even if an API keeps answering nextPageToken */
const MAX_PAGES = 1000;

export function createGoogleClient(ctx: DriverContext, opts: { provider: string; defaultBaseUrl: string; scopes: readonly string[]; deps?: GoogleDeps }): GoogleClient {
  const { provider } = opts;
  const deps = opts.deps ?? {};
  const auth = googleTokenSource(ctx.account, {
    provider,
    scopes: opts.scopes,
    recordCall: (op) => ctx.recordCall(op),
    retry: deps.retry,
    sleep: deps.sleep,
    env: deps.env,
    http: ctx.http,
  });
  const connection = createConnection({
    provider,
    baseUrl: ctx.account.endpoint ?? opts.defaultBaseUrl,
    signer: bearerSigner(auth),
    recordCall: (op) => ctx.recordCall(op),
    now: () => ctx.now(),
    retry: deps.retry,
    sleep: deps.sleep,
    parseError: googleErrorParser(provider),
    requestIdHeaders: ['x-guploader-uploadid', 'x-request-id'],
    defaults: ctx.http,
  });
  let project: Promise<string> | undefined;
  return {
    provider,
    request: <T>(request: RequestOptions) => connection.request<T>(request),
    project: () =>
      (project ??= resolveProject(ctx.account, auth, provider).catch((err: unknown) => {
        project = undefined;
        throw err;
      })),
    auth,
    get baseUrl() {
      return connection.baseUrl;
    },
    async close() {
      await connection.close();
      await auth.close();
    },
  };
}

/** Every item of a paged list (`items` + `nextPageToken`): one call per page. */
export async function listAllPages(
  client: GoogleClient,
  operation: string,
  path: string,
  query: Record<string, string | number | undefined>,
  onPage: (body: Json) => void = () => undefined,
): Promise<Json[]> {
  const items: Json[] = [];
  await forEachPage(client, operation, path, query, (body) => {
    items.push(...list(body.items));
    onPage(body);
  });
  return items;
}

/** Calls `onPage` with each page's body, following nextPageToken. */
export async function forEachPage(
  client: GoogleClient,
  operation: string,
  path: string,
  query: Record<string, string | number | undefined>,
  onPage: (body: Json) => void,
): Promise<void> {
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.request<unknown>({ operation, path, query: { ...query, pageToken } });
    const body = obj(res.body);
    if (!body) throw new MalformedResponseError(`${operation} answered without a JSON object`, { provider: client.provider, status: res.status });
    onPage(body);
    pageToken = str(body.nextPageToken);
    if (!pageToken) return;
  }
  throw new MalformedResponseError(`${operation} kept answering nextPageToken after ${MAX_PAGES} pages`, { provider: client.provider });
}

/**
 * A Compute Engine / Cloud Storage list filter matching any of `names`:
 * `(name = "a") OR (name = "b")`. Names are resource names ([a-z0-9-_.]), so no quoting is needed
 * beyond the double quotes.
 */
export function nameFilter(names: readonly string[]): string {
  return names.map((n) => `(name = "${n}")`).join(' OR ');
}
