/**
 * Compute Engine v1 for one (account, region): project-relative calls, paged and aggregated
 * lists, the region's zones, and waiting on zone / region / global operations. Shared by the
 * gce compute driver and the gce-lb load-balancer driver.
 *
 * https://cloud.google.com/compute/docs/reference/rest/v1
 */
import { randomUUID, createHash } from 'node:crypto';
import {
  ConflictError,
  InvalidInputError,
  MalformedResponseError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
  TimeoutError,
  type SkygraphError,
} from '../../errors.ts';
import type { DriverContext } from '../../types.ts';
import { GOOGLE_SCOPES } from '../auth.ts';
import { createGoogleClient, encodeProject, forEachPage, listAllPages, type GoogleClient, type GoogleDeps } from '../client.ts';
import { lastSegment, list, obj, str, type Json } from '../json.ts';
import { sleep as callSleep } from '../../call-scope.ts';

export const DEFAULT_BASE_URL = 'https://compute.googleapis.com';
export const API_PATH = 'compute/v1';
export const DEFAULT_REGION = 'us-central1';
const DEFAULT_PAGE_SIZE = 500;
/** why: keeps one list filter well inside URL limits */
export const FILTER_NAMES_MAX = 50;

/** RFC 1035 label: the syntax of every Compute Engine resource name. */
export const RESOURCE_NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

export interface GceApi {
  provider: string;
  region: string;
  client: GoogleClient;
  /** `projects/{project}/{rest}` under compute/v1; `project` defaults to the account's */
  path(rest: string, project?: string): Promise<string>;
  /** one JSON call under the project; mutating calls get a requestId so retries are idempotent */
  call(operation: string, rest: string, opts?: { method?: string; query?: Record<string, string | number | undefined>; json?: unknown }): Promise<Json>;
  /** every item of a paged project list; `project` defaults to the account's */
  list(operation: string, rest: string, query?: Record<string, string | number | undefined>, project?: string): Promise<Json[]>;
  /** `aggregated/{resource}`: the items of this region's scopes (its zones, or the region), one call per page */
  aggregated(resource: string, query?: Record<string, string | undefined>): Promise<Json[]>;
  /** this region's zones, sorted by name (listed once per instance) */
  zones(): Promise<Json[]>;
  /** polls an operation until DONE; throws its error when it failed */
  wait(op: Json, what: string): Promise<Json>;
  close(): Promise<void>;
}

export function createGceApi(ctx: DriverContext, provider: string, deps: GoogleDeps = {}): GceApi {
  const region = ctx.region ?? DEFAULT_REGION;
  const client = createGoogleClient(ctx, { provider, defaultBaseUrl: DEFAULT_BASE_URL, scopes: [GOOGLE_SCOPES.compute], deps });
  const pageSize = deps.pageSize ?? DEFAULT_PAGE_SIZE;
  const pollMs = deps.pollIntervalMs ?? 2000;
  const timeoutMs = deps.operationTimeoutMs ?? 600_000;
  // why: the call's deadline ends the wait (src/providers/call-scope.ts)
  const sleep = deps.sleep ?? callSleep;
  let zones: Promise<Json[]> | undefined;

  const path = async (rest: string, project?: string) => `${API_PATH}/projects/${encodeProject(project ?? (await client.project()))}/${rest}`;

  const call: GceApi['call'] = async (operation, rest, opts = {}) => {
    const method = opts.method ?? 'GET';
    const mutating = method !== 'GET';
    const res = await client.request<unknown>({
      operation,
      method,
      path: await path(rest),
      // why: with a requestId, Compute Engine answers a repeated request with the first one's operation
      query: mutating ? { requestId: randomUUID(), ...opts.query } : opts.query,
      json: opts.json,
      idempotent: true,
    });
    const body = obj(res.body);
    if (!body) throw new MalformedResponseError(`${operation} answered without a JSON object`, { provider, status: res.status });
    return body;
  };

  const api: GceApi = {
    provider,
    region,
    client,
    path,
    call,
    list: async (operation, rest, query = {}, project) => listAllPages(client, operation, await path(rest, project), { maxResults: pageSize, ...query }),

    async aggregated(resource, query = {}) {
      const out: Json[] = [];
      // https://cloud.google.com/compute/docs/reference/rest/v1/instances/aggregatedList
      await forEachPage(client, `GET aggregated/${resource}`, await path(`aggregated/${resource}`), { maxResults: pageSize, ...query }, (body) => {
        for (const [scope, value] of Object.entries(obj(body.items) ?? {})) {
          if (!scopeInRegion(scope, region)) continue;
          const entry = obj(value) ?? {};
          const warning = obj(entry.warning);
          if (str(warning?.code) === 'UNREACHABLE') {
            throw new ProviderError(`GET aggregated/${resource}: ${scope} is unreachable`, { provider, retryable: true });
          }
          out.push(...list(entry[resource]));
        }
      });
      return out;
    },

    zones: () =>
      (zones ??= (async () => {
        // https://cloud.google.com/compute/docs/reference/rest/v1/zones/list
        const all = await api.list('GET zones', 'zones');
        return all.filter((z) => lastSegment(z.region) === region).sort((a, b) => String(a.name).localeCompare(String(b.name)));
      })().catch((err: unknown) => {
        zones = undefined;
        throw err;
      })),

    async wait(op, what) {
      let current = op;
      const deadline = ctx.now().getTime() + timeoutMs;
      const name = str(op.name);
      if (!name) throw new MalformedResponseError(`${what} answered without an operation name`, { provider });
      const scope = operationScope(op);
      while (str(current.status) !== 'DONE') {
        if (ctx.now().getTime() >= deadline) throw new TimeoutError(`${what}: operation ${name} still ${str(current.status) ?? 'unknown'} after ${timeoutMs} ms`, { provider });
        await sleep(pollMs);
        // https://cloud.google.com/compute/docs/reference/rest/v1/zoneOperations/get
        current = await call(`GET ${scope.kind}Operations`, `${scope.path}/operations/${name}`);
      }
      const failure = operationError(current, what, provider);
      if (failure) throw failure;
      return current;
    },

    close: () => client.close(),
  };
  return api;
}

/** The region of a zone: `us-central1-a` -> `us-central1`. */
export function zoneRegion(zone: string): string {
  return zone.slice(0, zone.lastIndexOf('-'));
}

/** A node id (`zone/name`) split, or InvalidInputError naming `field`. */
export function parseNodeId(id: unknown, provider: string, field = 'id'): { zone: string; name: string } {
  const m = typeof id === 'string' ? /^([a-z][-a-z0-9]*)\/([a-z][-a-z0-9]*)$/.exec(id) : null;
  if (!m || !RESOURCE_NAME.test(m[2]!)) throw new InvalidInputError(`${field} must be a node id: zone/name (like us-central1-a/web-1)`, { provider, field });
  return { zone: m[1]!, name: m[2]! };
}

/** Checks a resource name (RFC 1035, at most 63 characters); InvalidInputError names `field`. */
export function checkName(name: unknown, provider: string, field = 'name'): string {
  if (typeof name !== 'string' || !RESOURCE_NAME.test(name)) {
    throw new InvalidInputError(`${field} must be 1 to 63 lower-case letters, digits or hyphens, starting with a letter and not ending with a hyphen`, { provider, field });
  }
  return name;
}

/** A requestId (a UUID) for a caller's idempotency token: the token itself when it is a UUID, else a UUID made from its hash. */
export function requestIdFor(token: string | undefined): string {
  if (token === undefined) return randomUUID();
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(token)) return token.toLowerCase();
  const h = createHash('sha256').update(token).digest('hex');
  // why: version 5-style bits, so the result is a well-formed UUID
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// --- Internal helpers ---

/** why: legacy domain-scoped project ids (`example.com:proj`) keep their colon in the path */
function scopeInRegion(scope: string, region: string): boolean {
  const [kind, name] = scope.split('/');
  if (!name) return false;
  if (kind === 'zones') return zoneRegion(name) === region;
  if (kind === 'regions') return name === region;
  return false;
}

function operationScope(op: Json): { kind: 'zone' | 'region' | 'global'; path: string } {
  const zone = lastSegment(op.zone);
  if (zone) return { kind: 'zone', path: `zones/${zone}` };
  const region = lastSegment(op.region);
  if (region) return { kind: 'region', path: `regions/${region}` };
  return { kind: 'global', path: 'global' };
}

/** The failure of a DONE operation, typed by its httpErrorStatusCode. */
function operationError(op: Json, what: string, provider: string): SkygraphError | undefined {
  const errors = list(obj(op.error)?.errors);
  if (errors.length === 0) return undefined;
  const first = errors[0]!;
  const code = str(first.code) ?? 'UNKNOWN';
  const message = `${what}: operation ${str(op.name) ?? ''} failed: ${code}: ${str(first.message) ?? ''}`.slice(0, 500);
  const status = typeof op.httpErrorStatusCode === 'number' ? op.httpErrorStatusCode : undefined;
  const opts = { provider, status };
  if (status === 404 || code === 'RESOURCE_NOT_FOUND') return new NotFoundError(message, opts);
  if (status === 409 || code === 'RESOURCE_ALREADY_EXISTS' || code === 'RESOURCE_IN_USE_BY_ANOTHER_RESOURCE') return new ConflictError(message, opts);
  if (status === 429 || code === 'RATE_LIMIT_EXCEEDED') return new RateLimitedError(message, opts);
  return new ProviderError(message, { ...opts, retryable: code === 'ZONE_RESOURCE_POOL_EXHAUSTED' });
}
