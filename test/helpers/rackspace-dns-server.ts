/**
 * A stateful Rackspace Cloud DNS (API v1.0) stand-in on 127.0.0.1, on the replay server, with
 * Keystone v2.0 RAX-KSKEY auth whose catalog lists `rax:dns` here. Every request must carry the
 * token (a wrong one is answered 401), bodies are checked against the API reference, lists page
 * with limit/offset and absolute `links` rel=next, and every change is an asynchronous job:
 * 202 RUNNING at once, COMPLETED (or ERROR with failedItems, for a duplicate or a CNAME
 * conflict) once it has been polled `jobPolls` times. Seeds come from fixtures/rackspace-dns.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { Fault, jsonRoutes } from './json-routes.ts';
import { OPENSTACK_TEST_TOKEN, addIdentityRoutes } from './openstack-server.ts';
import { REPO_ROOT, startReplayServer, type ReplayRequest } from './replay-server.ts';

type Json = Record<string, unknown>;
export const RAX_DNS_TENANT = '123456';
export const RAX_DOMAIN_ID = '2725233';

export interface RackspaceDnsServerOptions {
  /** the most items one page holds (default 100) */
  maxLimit?: number;
  /** status polls a job needs before it finishes (default 1) */
  jobPolls?: number;
}

export interface RackspaceDnsTestServer {
  url: string;
  /** `${url}/v1.0/123456` */
  endpoint: string;
  authUrl: string;
  requests: ReplayRequest[];
  failures: string[];
  domains: Map<string, Json & { records: Json[] }>;
  close(): Promise<void>;
}

interface Job {
  id: string;
  verb: string;
  requestUrl: string;
  polls: number;
  outcome: () => { response?: Json; error?: Json };
}

export async function startRackspaceDnsServer(opts: RackspaceDnsServerOptions = {}): Promise<RackspaceDnsTestServer> {
  const maxLimit = opts.maxLimit ?? 100;
  const jobPolls = opts.jobPolls ?? 1;
  const replay = await startReplayServer();
  const base = `/v1.0/${RAX_DNS_TENANT}`;
  addIdentityRoutes(replay, [{ type: 'rax:dns', name: 'cloudDNS', url: `${replay.url}${base}` }]);
  const fixture = <T>(name: string): T => JSON.parse(readFileSync(resolve(REPO_ROOT, 'fixtures/rackspace-dns', name), 'utf8')) as T;
  const domains = new Map<string, Json & { records: Json[] }>(fixture<{ domains: Json[] }>('domains.json').domains.map((d) => [String(d.id), { ...d, records: [] }]));
  domains.get(RAX_DOMAIN_ID)!.records = fixture<{ records: Json[] }>('records-example-com.json').records;
  const jobs = new Map<string, Job>();
  let nextDomain = 3000000;
  let nextRecord = 7000000;

  const violation = (message: string) => new Fault(400, { code: 400, message }, true);
  const validation = (...messages: string[]) => new Fault(400, { validationErrors: { messages }, code: 400 });
  const notFound = () => new Fault(404, fixture('not-found.json'));
  const domainOf = (id: string) => domains.get(id) ?? (() => { throw notFound(); })();
  const now = () => new Date().toISOString().replace('Z', '+0000');
  const jobStatus = (j: Job, done: { response?: Json; error?: Json } | undefined): Json => ({
    status: done ? (done.error ? 'ERROR' : 'COMPLETED') : 'RUNNING',
    verb: j.verb,
    jobId: j.id,
    callbackUrl: `https://dns.api.rackspacecloud.com${base}/status/${j.id}`,
    requestUrl: `https://dns.api.rackspacecloud.com${j.requestUrl}`,
    ...(done?.response ? { response: done.response } : {}),
    ...(done?.error ? { error: done.error } : {}),
  });
  const startJob = (req: ReplayRequest, outcome: Job['outcome']) => {
    const j: Job = { id: randomUUID(), verb: req.method, requestUrl: req.path, polls: 0, outcome };
    jobs.set(j.id, j);
    return { status: 202, body: jobStatus(j, undefined) };
  };
  const failed = (code: number, message: string) => ({ error: { failedItems: { faults: [{ message, code, details: message }] }, code: 500, message: 'One or more items could not be completed', details: message } });

  const route = jsonRoutes(replay, {
    authHeader: 'x-auth-token',
    authHeaderName: 'X-Auth-Token',
    authValue: OPENSTACK_TEST_TOKEN,
    unauthorized: () => fixture('unauthorized.json'),
    headers: () => ({ 'content-type': 'application/json' }),
  });
  const jsonBody = (req: ReplayRequest, allowed: string[]): Json => {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw violation('content-type must be application/json');
    const parsed = JSON.parse(req.body.toString('utf8')) as Json;
    for (const k of Object.keys(parsed)) if (!allowed.includes(k)) throw violation(`unexpected field ${k}`);
    return parsed;
  };
  const page = (req: ReplayRequest, all: Json[], path: string) => {
    for (const k of req.query.keys()) if (!['limit', 'offset', 'showRecords', 'showSubdomains', 'name'].includes(k)) throw violation(`unknown query parameter ${k}`);
    const limit = Math.min(Number(req.query.get('limit') ?? maxLimit), maxLimit);
    const offset = Number(req.query.get('offset') ?? 0);
    if (!Number.isInteger(limit) || !Number.isInteger(offset) || offset % limit !== 0) throw violation('offset must be a multiple of limit');
    const links = offset + limit < all.length ? [{ rel: 'next', href: `https://dns.api.rackspacecloud.com${path}?limit=${limit}&offset=${offset + limit}` }] : [];
    return { items: all.slice(offset, offset + limit), links, totalEntries: all.length };
  };
  const checkRecord = (r: Json, domain: Json, update: boolean) => {
    for (const k of Object.keys(r)) if (!['name', 'type', 'data', 'ttl', 'priority', 'comment'].includes(k)) throw violation(`unexpected record field ${k}`);
    const type = String(update ? '' : r.type);
    if (!update && !['A', 'AAAA', 'CNAME', 'MX', 'NS', 'PTR', 'SRV', 'TXT'].includes(type)) throw validation('Record type is invalid');
    if (typeof r.name !== 'string' || !(r.name === domain.name || r.name.endsWith(`.${String(domain.name)}`))) throw validation('Record name must be within the domain');
    if (typeof r.data !== 'string' || r.data === '') throw validation('Record data is required');
    if (r.ttl !== undefined && (typeof r.ttl !== 'number' || r.ttl < 300)) throw validation('TTL must be greater than or equal to 300');
    if (type === 'A' && isIP(r.data) !== 4) throw validation('Invalid IPv4 address');
    if ((type === 'MX' || type === 'SRV') && typeof r.priority !== 'number') throw validation('Priority is required for MX and SRV records');
    if (['CNAME', 'MX', 'NS'].includes(type) && r.data.endsWith('.')) throw violation('Cloud DNS host names carry no trailing dot');
  };

  // https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/jobs#show-job-status
  route('GET', new RegExp(`^${base}/status/([^/]+)$`), (req, m) => {
    const j = jobs.get(m[1]!) ?? (() => { throw notFound(); })();
    if (req.query.get('showDetails') !== 'true') throw violation('poll with showDetails=true to get the job response');
    j.polls++;
    return { body: jobStatus(j, j.polls >= jobPolls ? j.outcome() : undefined) };
  });
  route('GET', new RegExp(`^${base}/domains$`), (req) => {
    const { items, links, totalEntries } = page(req, [...domains.values()].map(({ records: _r, ttl: _t, ...d }) => d), `${base}/domains`);
    return { body: { domains: items, totalEntries, ...(links.length ? { links } : {}) } };
  });
  route('POST', new RegExp(`^${base}/domains$`), (req) => {
    const b = jsonBody(req, ['domains']);
    const d = (b.domains as Json[] | undefined)?.[0];
    if (!d || typeof d.name !== 'string' || typeof d.emailAddress !== 'string') throw validation('Domain name and emailAddress are required');
    if (typeof d.ttl !== 'number' || d.ttl < 300) throw validation('Domain TTL is required and must be greater than or equal to 300');
    return startJob(req, () => {
      if ([...domains.values()].some((x) => x.name === d.name)) return failed(409, 'Domain already exists');
      const id = String(++nextDomain);
      const domain = { name: d.name, id: Number(id), accountId: Number(RAX_DNS_TENANT), emailAddress: d.emailAddress, ttl: d.ttl, comment: d.comment, created: now(), updated: now(), nameservers: [{ name: 'dns1.stabletransit.com' }, { name: 'dns2.stabletransit.com' }], records: [] as Json[] };
      domain.records.push(...['dns1.stabletransit.com', 'dns2.stabletransit.com'].map((ns) => ({ name: d.name, id: `NS-${++nextRecord}`, type: 'NS', data: ns, ttl: d.ttl, created: now(), updated: now() })));
      domains.set(id, domain);
      const { records: _r, ...shown } = domain;
      return { response: { domains: [shown] } };
    });
  });
  route('GET', new RegExp(`^${base}/domains/(\\d+)$`), (_req, m) => {
    const { records: _r, ...d } = domainOf(m[1]!);
    return { body: { ...d, nameservers: d.nameservers ?? [{ name: 'dns1.stabletransit.com' }, { name: 'dns2.stabletransit.com' }] } };
  });
  route('PUT', new RegExp(`^${base}/domains/(\\d+)$`), (req, m) => {
    const domain = domainOf(m[1]!);
    const b = jsonBody(req, ['ttl', 'emailAddress', 'comment']);
    if (b.ttl !== undefined && (typeof b.ttl !== 'number' || b.ttl < 300)) throw validation('TTL must be greater than or equal to 300');
    return startJob(req, () => (Object.assign(domain, b, { updated: now() }), {}));
  });
  route('DELETE', new RegExp(`^${base}/domains/(\\d+)$`), (req, m) => {
    const domain = domainOf(m[1]!);
    return startJob(req, () => (domains.delete(String(domain.id)), {}));
  });
  route('GET', new RegExp(`^${base}/domains/(\\d+)/records$`), (req, m) => {
    const domain = domainOf(m[1]!);
    const { items, links, totalEntries } = page(req, domain.records, `${base}/domains/${m[1]}/records`);
    return { body: { records: items, totalEntries, ...(links.length ? { links } : {}) } };
  });
  route('POST', new RegExp(`^${base}/domains/(\\d+)/records$`), (req, m) => {
    const domain = domainOf(m[1]!);
    const b = jsonBody(req, ['records']);
    const records = b.records as Json[] | undefined;
    if (!Array.isArray(records) || records.length === 0) throw validation('records are required');
    records.forEach((r) => checkRecord(r, domain, false));
    return startJob(req, () => {
      const out: Json[] = [];
      for (const r of records) {
        const same = domain.records.filter((x) => x.name === r.name);
        if (same.some((x) => x.type === r.type && x.data === r.data)) return failed(409, 'Record is a duplicate of another record.');
        if ((r.type === 'CNAME' && same.length) || same.some((x) => x.type === 'CNAME')) return failed(400, 'CNAME records cannot coexist with other records of the same name.');
        const record = { ...r, id: `${String(r.type)}-${++nextRecord}`, ttl: r.ttl ?? domain.ttl, created: now(), updated: now() };
        domain.records.push(record);
        out.push(record);
      }
      return { response: { records: out } };
    });
  });
  const recordOf = (domain: Json & { records: Json[] }, id: string) => domain.records.find((r) => r.id === id) ?? (() => { throw notFound(); })();
  route('GET', new RegExp(`^${base}/domains/(\\d+)/records/([A-Z]+-\\d+)$`), (_req, m) => ({ body: recordOf(domainOf(m[1]!), m[2]!) }));
  route('PUT', new RegExp(`^${base}/domains/(\\d+)/records/([A-Z]+-\\d+)$`), (req, m) => {
    const domain = domainOf(m[1]!);
    const record = recordOf(domain, m[2]!);
    const b = jsonBody(req, ['name', 'data', 'ttl', 'priority', 'comment']);
    checkRecord({ ...b, name: b.name ?? record.name, data: b.data ?? record.data }, domain, true);
    return startJob(req, () => (Object.assign(record, b, { updated: now() }), {}));
  });
  route('DELETE', new RegExp(`^${base}/domains/(\\d+)/records/([A-Z]+-\\d+)$`), (req, m) => {
    const domain = domainOf(m[1]!);
    const record = recordOf(domain, m[2]!);
    return startJob(req, () => (domain.records.splice(domain.records.indexOf(record), 1), {}));
  });

  return {
    url: replay.url,
    endpoint: `${replay.url}${base}`,
    authUrl: `${replay.url}/identity/v2.0`,
    requests: replay.requests,
    failures: replay.failures,
    domains,
    close: () => replay.close(),
  };
}
