/**
 * Connections for one Nova (account, region): the compute endpoint, and Glance's when the account
 * has one. Endpoints come from the auth (catalog or preset), so connections open on first use.
 */
import { MalformedResponseError } from '../../errors.ts';
import { createConnection, type Connection, type RetryOptions } from '../../http/connection.ts';
import { list, obj, str, type Json } from '../../rest/json.ts';
import type { DriverContext } from '../../types.ts';
import { requireEndpoint, type OpenStackAuth } from './auth.ts';

/** What differs between plain OpenStack and Rackspace's Nova. */
export interface NovaVariant {
  name: string;
  /** compute microversion sent with POST /servers (2.37 for networks: 'auto'); undefined sends none */
  createMicroversion: string | undefined;
  /** networks when createNode's ex.networks is absent */
  defaultNetworks: 'auto' | string[];
  /** one location per region (Rackspace has no availability zones) with this country map */
  regionCountries?: Readonly<Record<string, string>>;
}

/** Test seams and tuning. */
export interface NovaDeps {
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
  /** replaces the auth derived from the account */
  auth?: OpenStackAuth;
  /** items asked per page (limit=); default 1000 */
  pageSize?: number;
}

export interface NovaApi {
  provider: string;
  region: string | undefined;
  variant: NovaVariant;
  pageSize: number;
  compute(): Promise<Connection>;
  /** Glance v2, or undefined when the account has no image endpoint */
  image(): Promise<Connection | undefined>;
  close(): Promise<void>;
}

/** why: a broken server that always answers a next link must not loop forever */
const MAX_PAGES = 10_000;

export function createNovaApi(ctx: DriverContext, auth: OpenStackAuth, variant: NovaVariant, deps: NovaDeps = {}): NovaApi {
  const provider = variant.name;
  const connect = (baseUrl: string) =>
    createConnection({ provider, baseUrl, signer: auth, recordCall: ctx.recordCall, now: ctx.now, retry: deps.retry, sleep: deps.sleep, defaults: ctx.http });
  let compute: Promise<Connection> | undefined;
  let image: Promise<Connection | undefined> | undefined;
  const opened: Connection[] = [];
  const keep = (c: Connection) => (opened.push(c), c);
  const retryable = <T>(p: Promise<T>, reset: () => void) => p.catch((err: unknown) => (reset(), Promise.reject(err)));

  return {
    provider,
    region: ctx.region,
    variant,
    pageSize: deps.pageSize ?? 1000,
    compute: () =>
      (compute ??= retryable(
        requireEndpoint(auth, provider, 'compute', ctx.region, 'endpoint').then((url) => keep(connect(url))),
        () => (compute = undefined),
      )),
    image: () =>
      (image ??= retryable(
        (async () => {
          const configured = ctx.account.options.imageEndpoint;
          // why: the account's interface (clouds.yaml `interface`) first; many catalogs list Glance only as public
          const url =
            typeof configured === 'string' && configured !== ''
              ? configured
              : ((await auth.endpoint('image', { region: ctx.region })) ?? (await auth.endpoint('image', { region: ctx.region, interface: 'public' })));
          return url ? keep(connect(url)) : undefined;
        })(),
        () => (image = undefined),
      )),
    async close() {
      await Promise.all(opened.map((c) => c.close()));
      await auth.close?.();
    },
  };
}

/**
 * GETs `path` and follows the next links to the end. `nextOf` finds the next link in a page;
 * only its query (marker, limit) is reused, against our own path, so a proxy's rewritten host in
 * the link cannot send the token elsewhere.
 */
export async function paginate(
  conn: Connection,
  provider: string,
  path: string,
  query: Record<string, string | number | undefined>,
  itemsKey: string,
  nextOf: (page: Json) => string | undefined,
): Promise<Json[]> {
  const out: Json[] = [];
  let q: Record<string, string | number | undefined> = query;
  const seen = new Set<string>();
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await conn.request<Json>({ operation: `GET /${path}`, path, query: q });
    const body = obj(res.body);
    if (!body || !Array.isArray(body[itemsKey])) throw new MalformedResponseError(`GET /${path} answered without ${itemsKey}`, { provider });
    const items = list(body[itemsKey]);
    out.push(...items);
    const next = nextOf(body);
    if (!next || items.length === 0) return out;
    const params = new URL(next, 'http://next.invalid/').searchParams;
    const key = params.toString();
    if (seen.has(key)) throw new MalformedResponseError(`GET /${path}: the next link repeats itself`, { provider });
    seen.add(key);
    q = Object.fromEntries(params);
  }
  throw new MalformedResponseError(`GET /${path}: more than ${MAX_PAGES} pages`, { provider });
}

/** Nova's `<things>_links` rel=next. */
export const novaNext = (linksKey: string) => (page: Json) => str(list(page[linksKey]).find((l) => l.rel === 'next')?.href);
/** Glance's top-level `next`. */
export const glanceNext = (page: Json) => str(page.next);
