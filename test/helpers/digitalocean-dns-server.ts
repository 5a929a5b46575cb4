/**
 * A stateful DigitalOcean API v2 stand-in (domains and domain records) on 127.0.0.1, on the
 * replay server: every request must carry `Authorization: Bearer <token>` (a wrong one is
 * answered 401 as DigitalOcean does), bodies are checked against the API reference, lists page
 * with `page`/`per_page` and absolute `links.pages.next` URLs on api.digitalocean.com (as the
 * real API sends), and the rules DigitalOcean enforces answer 422. Seeds and error bodies come
 * from fixtures/digitalocean-dns.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { Fault, jsonRoutes } from './json-routes.ts';
import { REPO_ROOT, startReplayServer, type ReplayRequest } from './replay-server.ts';

export const DIGITALOCEAN_TEST_TOKEN = 'dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';

type Json = Record<string, unknown>;
export interface StoredDomain {
  name: string;
  ttl: number;
  records: Json[];
}

export interface DigitalOceanServerOptions {
  /** the most items one page holds, whatever per_page asks (default 200) */
  maxPerPage?: number;
}

export interface DigitalOceanTestServer {
  url: string;
  requests: ReplayRequest[];
  failures: string[];
  domains: Map<string, StoredDomain>;
  /** request bodies of POST and PUT record calls */
  written: Json[];
  /** answers the next requests with 429 and ratelimit-reset `resetInSeconds` ahead */
  rateLimitNext(count: number, resetInSeconds: number): void;
  close(): Promise<void>;
}

const RECORD_KEYS = ['type', 'name', 'data', 'priority', 'port', 'ttl', 'weight', 'flags', 'tag'];
const TYPES = ['A', 'AAAA', 'CAA', 'CNAME', 'MX', 'NS', 'SOA', 'SRV', 'TXT'];

export async function startDigitalOceanServer(opts: DigitalOceanServerOptions = {}): Promise<DigitalOceanTestServer> {
  const maxPerPage = opts.maxPerPage ?? 200;
  const replay = await startReplayServer();
  const fixture = <T>(name: string): T => JSON.parse(readFileSync(resolve(REPO_ROOT, 'fixtures/digitalocean-dns', name), 'utf8')) as T;
  const domains = new Map<string, StoredDomain>();
  for (const d of fixture<{ domains: Json[] }>('domains.json').domains) domains.set(String(d.name), { name: String(d.name), ttl: Number(d.ttl), records: [] });
  domains.get('example.com')!.records = fixture<{ domain_records: Json[] }>('records-example-com.json').domain_records;
  let nextId = 30000000;
  domains.get('shop.example.org')!.records = seedRecords(() => ++nextId);
  const written: Json[] = [];
  let limited = { count: 0, reset: 0 };

  const violation = (message: string) => new Fault(400, { id: 'bad_request', message }, true);
  const unprocessable = (message: string) => new Fault(422, { id: 'unprocessable_entity', message });
  const notFound = () => new Fault(404, fixture<Json>('not-found.json'));
  const domainOf = (name: string) => domains.get(decodeURIComponent(name)) ?? (() => { throw notFound(); })();

  const route = jsonRoutes(replay, {
    authHeader: 'authorization',
    authHeaderName: 'Authorization',
    authValue: `Bearer ${DIGITALOCEAN_TEST_TOKEN}`,
    unauthorized: () => fixture('unauthorized.json'),
    headers: () => ({ 'content-type': 'application/json; charset=utf-8', 'ratelimit-limit': '5000', 'ratelimit-remaining': '4999' }),
    before() {
      if (limited.count <= 0) return undefined;
      limited.count--;
      return { status: 429, body: fixture('too-many-requests.json'), headers: { 'ratelimit-remaining': '0', 'ratelimit-reset': String(Math.ceil(Date.now() / 1000) + limited.reset) } };
    },
  });
  const page = <T>(req: ReplayRequest, all: T[], path: string): { items: T[]; links: Json; meta: Json } => {
    for (const k of req.query.keys()) if (!['page', 'per_page', 'name', 'type'].includes(k)) throw violation(`unknown query parameter ${k}`);
    const perPage = Math.min(Number(req.query.get('per_page') ?? 20), maxPerPage);
    const pageNo = Number(req.query.get('page') ?? 1);
    if (!Number.isInteger(perPage) || perPage < 1 || !Number.isInteger(pageNo) || pageNo < 1) throw violation('page and per_page must be positive integers');
    const items = all.slice((pageNo - 1) * perPage, pageNo * perPage);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number) => `https://api.digitalocean.com${path}?page=${p}&per_page=${perPage}`;
    const pages: Json = pageNo < last ? { next: link(pageNo + 1), last: link(last) } : {};
    if (pageNo > 1) Object.assign(pages, { first: link(1), prev: link(pageNo - 1) });
    return { items, links: Object.keys(pages).length ? { pages } : {}, meta: { total: all.length } };
  };
  const jsonBody = (req: ReplayRequest): Json => {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw violation('content-type must be application/json');
    try {
      const parsed = JSON.parse(req.body.toString('utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Json;
    } catch {
      // falls through
    }
    throw violation('body must be a JSON object');
  };
  const checkRecord = (domain: StoredDomain, b: Json, self?: Json): Json => {
    for (const k of Object.keys(b)) if (!RECORD_KEYS.includes(k)) throw violation(`unknown record field ${k}`);
    const type = b.type;
    if (typeof type !== 'string' || !TYPES.includes(type) || type === 'SOA') throw unprocessable('Type is not a valid record type.');
    if (typeof b.data !== 'string' || b.data === '') throw unprocessable('Data needs to not be blank.');
    if (typeof b.name !== 'string' || b.name === '') throw unprocessable('Name needs to not be blank.');
    if (b.ttl !== undefined && (typeof b.ttl !== 'number' || b.ttl < 30)) throw unprocessable('Ttl must be at least 30.');
    if (type === 'A' && isIP(b.data) !== 4) throw unprocessable('IP address did not match IPv4 format (e.g. 127.0.0.1).');
    if (type === 'AAAA' && isIP(b.data) !== 6) throw unprocessable('IP address did not match IPv6 format.');
    if (['CNAME', 'MX', 'NS', 'SRV'].includes(type) && !(b.data === '@' || b.data.endsWith('.'))) throw violation(`${type} data must be @ or a fully qualified name with its trailing dot`);
    if ((type === 'MX' || type === 'SRV') && typeof b.priority !== 'number') throw unprocessable('Priority is required.');
    if (type === 'SRV' && (typeof b.port !== 'number' || typeof b.weight !== 'number')) throw unprocessable('Port and weight are required.');
    if (type === 'CAA' && (typeof b.flags !== 'number' || typeof b.tag !== 'string')) throw unprocessable('Flags and tag are required.');
    const name = b.name.toLowerCase();
    const others = domain.records.filter((r) => r !== self && String(r.name).toLowerCase() === name);
    if ((type === 'CNAME' && others.length) || others.some((r) => r.type === 'CNAME')) throw unprocessable('CNAME records cannot share a name with other records.');
    const clean: Json = { type, name, data: b.data, priority: b.priority ?? null, port: b.port ?? null, ttl: b.ttl ?? 1800, weight: b.weight ?? null, flags: b.flags ?? null, tag: b.tag ?? null };
    return clean;
  };

  // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_list
  route('GET', /^\/v2\/domains$/, (req) => {
    const { items, links, meta } = page(req, [...domains.values()], '/v2/domains');
    return { body: { domains: items.map(domainJson), links, meta } };
  });
  // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_create
  route('POST', /^\/v2\/domains$/, (req) => {
    const b = jsonBody(req);
    for (const k of Object.keys(b)) if (!['name', 'ip_address'].includes(k)) throw violation(`unknown domain field ${k}`);
    if (typeof b.name !== 'string' || !/^[a-z0-9.-]+\.[a-z]+$/.test(b.name)) throw unprocessable('Name is invalid.');
    if (domains.has(b.name)) throw unprocessable('Name already exists');
    const domain: StoredDomain = { name: b.name, ttl: 1800, records: seedRecords(() => ++nextId) };
    if (typeof b.ip_address === 'string') domain.records.push({ id: ++nextId, type: 'A', name: '@', data: b.ip_address, priority: null, port: null, ttl: 1800, weight: null, flags: null, tag: null });
    domains.set(b.name, domain);
    return { status: 201, body: { domain: { name: b.name, ttl: null, zone_file: null } } };
  });
  // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_get
  route('GET', /^\/v2\/domains\/([^/]+)$/, (_req, m) => ({ body: { domain: domainJson(domainOf(m[1]!)) } }));
  route('DELETE', /^\/v2\/domains\/([^/]+)$/, (_req, m) => {
    domains.delete(domainOf(m[1]!).name);
    return { status: 204 };
  });
  // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_list_records
  route('GET', /^\/v2\/domains\/([^/]+)\/records$/, (req, m) => {
    const domain = domainOf(m[1]!);
    const { items, links, meta } = page(req, domain.records, `/v2/domains/${domain.name}/records`);
    return { body: { domain_records: items, links, meta } };
  });
  route('POST', /^\/v2\/domains\/([^/]+)\/records$/, (req, m) => {
    const domain = domainOf(m[1]!);
    const b = jsonBody(req);
    written.push(b);
    const record = { id: ++nextId, ...checkRecord(domain, b) };
    domain.records.push(record);
    return { status: 201, body: { domain_record: record } };
  });
  const recordOf = (domain: StoredDomain, id: string) => domain.records.find((r) => String(r.id) === id) ?? (() => { throw notFound(); })();
  route('GET', /^\/v2\/domains\/([^/]+)\/records\/(\d+)$/, (_req, m) => ({ body: { domain_record: recordOf(domainOf(m[1]!), m[2]!) } }));
  // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_update_record
  route('PUT', /^\/v2\/domains\/([^/]+)\/records\/(\d+)$/, (req, m) => {
    const domain = domainOf(m[1]!);
    const record = recordOf(domain, m[2]!);
    const b = jsonBody(req);
    written.push(b);
    Object.assign(record, checkRecord(domain, b, record));
    return { body: { domain_record: record } };
  });
  route('DELETE', /^\/v2\/domains\/([^/]+)\/records\/(\d+)$/, (_req, m) => {
    const domain = domainOf(m[1]!);
    const record = recordOf(domain, m[2]!);
    domain.records.splice(domain.records.indexOf(record), 1);
    return { status: 204 };
  });

  return {
    url: replay.url,
    requests: replay.requests,
    failures: replay.failures,
    domains,
    written,
    rateLimitNext(count, resetInSeconds) {
      limited = { count, reset: resetInSeconds };
    },
    close: () => replay.close(),
  };
}

// --- Internal helpers ---

/** What DigitalOcean puts in a new domain: its three name servers and the SOA (data: the TTL). */
function seedRecords(id: () => number): Json[] {
  const base = { priority: null, port: null, ttl: 1800, weight: null, flags: null, tag: null };
  return [
    ...['ns1', 'ns2', 'ns3'].map((ns) => ({ id: id(), type: 'NS', name: '@', data: `${ns}.digitalocean.com`, ...base })),
    { id: id(), type: 'SOA', name: '@', data: '1800', ...base },
  ];
}

function domainJson(d: StoredDomain): Json {
  return { name: d.name, ttl: d.ttl, zone_file: `$ORIGIN ${d.name}.\n$TTL ${d.ttl}\n` };
}
