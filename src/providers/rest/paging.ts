/**
 * Listing every item of a paged JSON collection with one upstream call per page. Each API pages
 * its own way; a PageStyle says how to ask for the first page and how to find the next one.
 * Next-page links are never followed as URLs: only their page number or cursor is reused
 * against our own path, so a link rewritten by a proxy cannot send the token to another host.
 */
import { MalformedResponseError } from '../errors.ts';
import type { Connection } from '../http/connection.ts';
import { list, num, obj, str, type Json } from './json.ts';

export type PageQuery = Record<string, string | number>;

/** How one API pages. */
export interface PageStyle {
  /** the query of the first page */
  first(pageSize: number): PageQuery;
  /** the query of the page after `page` (fetched with `query`), or undefined when it was the last */
  next(page: Json, query: PageQuery, itemsSoFar: number): PageQuery | undefined;
}

/**
 * DigitalOcean: `page`/`per_page` (at most 200); `links.pages.next` names the next page, and
 * `meta.total` counts every item.
 *
 * https://docs.digitalocean.com/reference/api/digitalocean/#section/Introduction/Links-and-Pagination
 */
export const DIGITALOCEAN_PAGES: PageStyle = {
  first: (pageSize) => ({ page: 1, per_page: pageSize }),
  next(page, query, itemsSoFar) {
    const link = str(obj(obj(page.links)?.pages)?.next);
    const total = num(obj(page.meta)?.total);
    const current = Number(query.page);
    if (link !== undefined) {
      const linked = Number(new URL(link, 'http://next.invalid/').searchParams.get('page'));
      return { ...query, page: Number.isInteger(linked) && linked > current ? linked : current + 1 };
    }
    return total !== undefined && itemsSoFar < total ? { ...query, page: current + 1 } : undefined;
  },
};

/**
 * Hetzner Cloud: `page`/`per_page` (at most 50); `meta.pagination.next_page` is the next page
 * number, null on the last.
 *
 * https://docs.hetzner.cloud/reference/cloud#pagination
 */
export const HETZNER_PAGES: PageStyle = {
  first: (pageSize) => ({ page: 1, per_page: pageSize }),
  next(page, query) {
    const next = num(obj(obj(page.meta)?.pagination)?.next_page);
    return next !== undefined && next > Number(query.page) ? { ...query, page: next } : undefined;
  },
};

/**
 * Linode: `page`/`page_size` (25 to 500); the body says `page` and `pages`.
 *
 * https://techdocs.akamai.com/linode-api/reference/pagination
 */
export const LINODE_PAGES: PageStyle = {
  first: (pageSize) => ({ page: 1, page_size: pageSize }),
  next(page, query) {
    const current = num(page.page) ?? Number(query.page);
    const pages = num(page.pages);
    return pages !== undefined && current < pages ? { ...query, page: current + 1 } : undefined;
  },
};

/**
 * Vultr: `per_page` (at most 500) and an opaque `cursor`; `meta.links.next` is the next cursor,
 * empty on the last page.
 *
 * https://www.vultr.com/api/#section/Introduction/Meta-and-Pagination
 */
export const VULTR_PAGES: PageStyle = {
  first: (pageSize) => ({ per_page: pageSize }),
  next(page, query) {
    const cursor = str(obj(obj(page.meta)?.links)?.next);
    return cursor !== undefined ? { ...query, cursor } : undefined;
  },
};

/** why: a broken server that always names a next page must not loop forever */
const MAX_PAGES = 10_000;

/** One paged listing. */
export interface ListAllOptions {
  provider: string;
  /** relative to the connection's base URL, e.g. `droplets` */
  path: string;
  /** the key holding the items, e.g. `droplets`, `data` */
  itemsKey: string;
  style: PageStyle;
  pageSize: number;
  /** filters sent with every page (tag_name, type, ...) */
  query?: Record<string, string | number | undefined>;
  /** extra request headers (Linode's X-Filter) */
  headers?: Record<string, string>;
  /** logical operation name; default `GET /<path>` */
  operation?: string;
}

/** GETs every page of a collection, in order; one upstream call per page. */
export async function listAll(conn: Connection, opts: ListAllOptions): Promise<Json[]> {
  const operation = opts.operation ?? `GET /${opts.path}`;
  const filters = Object.fromEntries(Object.entries(opts.query ?? {}).filter((e): e is [string, string | number] => e[1] !== undefined));
  let query: PageQuery | undefined = { ...filters, ...opts.style.first(opts.pageSize) };
  const out: Json[] = [];
  const seen = new Set<string>();
  for (let n = 0; n < MAX_PAGES && query; n++) {
    const key = JSON.stringify(query);
    if (seen.has(key)) throw new MalformedResponseError(`${operation}: the next page repeats an earlier one`, { provider: opts.provider });
    seen.add(key);
    const res = await conn.request<Json>({ operation, path: opts.path, query, ...(opts.headers ? { headers: opts.headers } : {}) });
    const body = obj(res.body);
    if (!body || !Array.isArray(body[opts.itemsKey])) throw new MalformedResponseError(`${operation} answered without ${opts.itemsKey}`, { provider: opts.provider });
    const items = list(body[opts.itemsKey]);
    out.push(...items);
    if (items.length === 0) return out;
    query = opts.style.next(body, query, out.length);
  }
  if (query) throw new MalformedResponseError(`${operation}: more than ${MAX_PAGES} pages`, { provider: opts.provider });
  return out;
}
