/**
 * The Rackspace Cloud DNS (API v1.0) driver. Domains have numeric ids and records ids such as
 * `A-6817754`, one record per value. Every change is an asynchronous job: the API answers 202
 * with a jobId, and the driver polls `status/{jobId}?showDetails=true` (on its own endpoint,
 * not the callbackUrl's host) until COMPLETED, with a deadline; an ERROR job becomes the typed
 * error of its code.
 *
 * https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/
 */
import { ConflictError, InvalidInputError, MalformedResponseError, NotFoundError, ProviderError, TimeoutError } from '../../errors.ts';
import type { Connection } from '../../http/connection.ts';
import { absoluteName, applyRecordPatch, checkEmail, checkRecordInput, checkTtl, checkZoneInput, isHostType, relativeName, type RecordValue } from '../../dns/records.ts';
import { list, obj, str, type Json } from '../../rest/json.ts';
import type { DnsDriver, DnsRecord, RecordType, Zone } from '../../types.ts';

export const DRIVER_NAME = 'rackspace-dns';
// https://docs.rackspace.com/docs/cloud-dns/v1/general-api-info/supported-record-types
export const RACKSPACE_RECORD_TYPES: readonly RecordType[] = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'PTR', 'SRV', 'TXT'];
/** why: Cloud DNS refuses TTLs under 300 seconds */
const MIN_TTL = 300;
const MAX_PAGES = 10_000;

export interface RackspaceDnsOptions {
  pageSize: number;
  pollIntervalMs: number;
  waitTimeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

export function rackspaceDnsDriver(conn: () => Promise<Connection>, opts: RackspaceDnsOptions): DnsDriver {
  const domainPath = (zoneId: string) => {
    if (!/^\d{1,18}$/.test(String(zoneId))) throw new NotFoundError(`zone ${JSON.stringify(String(zoneId))} not found (Cloud DNS domain ids are numbers)`, { provider: DRIVER_NAME, status: 404 });
    return `domains/${zoneId}`;
  };
  const recordPath = (zoneId: string, recordId: string) => {
    if (!/^[A-Z]+-\d{1,18}$/.test(String(recordId))) throw new NotFoundError(`record ${JSON.stringify(String(recordId))} not found`, { provider: DRIVER_NAME, status: 404 });
    return `${domainPath(zoneId)}/records/${recordId}`;
  };
  const request = async (operation: string, o: { method?: string; path: string; query?: Record<string, string | number>; json?: unknown }): Promise<Json> => {
    const c = await conn();
    const res = await c.request<Json>({ operation, ...o });
    return obj(res.body) ?? {};
  };
  /** Sends a change and waits for its job; resolves to the job's `response`. */
  const job = async (operation: string, o: { method: string; path: string; json?: unknown }): Promise<Json> => {
    let status = await request(operation, o);
    const jobId = str(status.jobId);
    if (jobId === undefined) throw new MalformedResponseError(`${operation} answered without a jobId`, { provider: DRIVER_NAME });
    const deadline = opts.now().getTime() + opts.waitTimeoutMs;
    for (;;) {
      const state = str(status.status);
      if (state === 'COMPLETED') return obj(status.response) ?? {};
      if (state === 'ERROR') throw jobError(operation, obj(status.error) ?? {});
      if (opts.now().getTime() >= deadline) throw new TimeoutError(`${operation}: job ${jobId} still ${state ?? 'unknown'} after ${opts.waitTimeoutMs} ms`, { provider: DRIVER_NAME });
      await opts.sleep(opts.pollIntervalMs);
      // https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/jobs#show-job-status
      status = await request('GET /status/{jobId}', { path: `status/${encodeURIComponent(jobId)}`, query: { showDetails: 'true' } });
    }
  };
  /** offset/limit pages, following links rel=next; one call per page. */
  const paginate = async (operation: string, path: string, key: string): Promise<Json[]> => {
    const out: Json[] = [];
    let query: Record<string, string | number> = { limit: opts.pageSize, offset: 0 };
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await request(operation, { path, query });
      if (!Array.isArray(body[key])) throw new MalformedResponseError(`${operation} answered without ${key}`, { provider: DRIVER_NAME });
      out.push(...list(body[key]));
      const next = str(list(body.links).find((l) => l.rel === 'next')?.href);
      if (next === undefined) return out;
      const params = Object.fromEntries(new URL(next, 'http://next.invalid').searchParams);
      if (Number(params.offset) <= Number(query.offset)) throw new MalformedResponseError(`${operation}: the next link does not move on`, { provider: DRIVER_NAME });
      query = params;
    }
    throw new MalformedResponseError(`${operation}: more than ${MAX_PAGES} pages`, { provider: DRIVER_NAME });
  };
  // https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/domains#show-domain
  const getDomain = (zoneId: string) => request('GET /domains/{id}', { path: domainPath(zoneId), query: { showRecords: 'false', showSubdomains: 'false' } });
  const ttlOf = (ttl: number | undefined, field = 'ttl') => {
    if (ttl !== undefined && ttl < MIN_TTL) throw new InvalidInputError(`${field} must be at least ${MIN_TTL} seconds on Cloud DNS`, { provider: DRIVER_NAME, field });
    return ttl;
  };
  const recordBody = (v: RecordValue, domain: string, withType: boolean): Json => {
    const body: Json = { name: absoluteName(v.name, domain), data: v.data };
    if (withType) body.type = v.type;
    const ttl = ttlOf(v.ttl);
    if (ttl !== undefined) body.ttl = ttl;
    if (v.priority !== null) body.priority = v.priority;
    return body;
  };
  const getRecord = async (zoneId: string, recordId: string): Promise<DnsRecord> => {
    const domain = zoneDomain(await getDomain(zoneId));
    // https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/records#show-record
    return toRecord(zoneId, domain, await request('GET /domains/{id}/records/{recordId}', { path: recordPath(zoneId, recordId) }));
  };
  const create = async (zoneId: string, domain: string, value: RecordValue): Promise<DnsRecord> => {
    // https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/records#add-records
    const response = await job('POST /domains/{id}/records', { method: 'POST', path: `${domainPath(zoneId)}/records`, json: { records: [recordBody(value, domain, true)] } });
    const created = list(response.records)[0];
    if (!created) throw new MalformedResponseError('POST /domains/{id}/records: the job answered without the record', { provider: DRIVER_NAME });
    return toRecord(zoneId, domain, created);
  };

  return {
    // why: static capability data; no upstream call
    listRecordTypes: () => [...RACKSPACE_RECORD_TYPES],

    // https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/domains#list-domains
    listZones: async () => (await paginate('GET /domains', 'domains', 'domains')).map(toZone),

    getZone: async (zoneId) => toZone(await getDomain(zoneId)),

    async createZone(input) {
      const value = checkZoneInput(input, DRIVER_NAME, ['master']);
      const comment = input.ex?.comment;
      // https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/domains#create-domain
      const response = await job('POST /domains', {
        method: 'POST',
        path: 'domains',
        json: { domains: [{ name: value.domain, emailAddress: value.email, ttl: ttlOf(value.ttl) ?? 3600, ...(typeof comment === 'string' ? { comment } : {}), recordsList: { records: [] } }] },
      });
      const domain = list(response.domains)[0];
      if (!domain) throw new MalformedResponseError('POST /domains: the job answered without the domain', { provider: DRIVER_NAME });
      return toZone(domain);
    },

    async updateZone(zoneId, patch) {
      const ttl = ttlOf(checkTtl(patch.ttl, DRIVER_NAME));
      const email = checkEmail(patch.email, DRIVER_NAME);
      if (patch.masters !== undefined) throw new InvalidInputError('Cloud DNS has no slave zones: masters cannot be set', { provider: DRIVER_NAME, field: 'masters' });
      if (ttl !== undefined || email !== undefined) {
        // https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/domains#modify-domain
        await job('PUT /domains/{id}', { method: 'PUT', path: domainPath(zoneId), json: { ...(ttl === undefined ? {} : { ttl }), ...(email === undefined ? {} : { emailAddress: email }) } });
      }
      return toZone(await getDomain(zoneId));
    },

    async deleteZone(zoneId) {
      // https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/domains#remove-domain
      await job('DELETE /domains/{id}', { method: 'DELETE', path: domainPath(zoneId) });
    },

    async listRecords(zoneId) {
      const domain = zoneDomain(await getDomain(zoneId));
      // https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/records#list-records
      return (await paginate('GET /domains/{id}/records', `${domainPath(zoneId)}/records`, 'records')).map((r) => toRecord(zoneId, domain, r));
    },

    getRecord,

    async createRecord(zoneId, input) {
      const value = checkRecordInput(input, RACKSPACE_RECORD_TYPES, DRIVER_NAME);
      ttlOf(value.ttl);
      return create(zoneId, zoneDomain(await getDomain(zoneId)), value);
    },

    async updateRecord(zoneId, recordId, patch) {
      const current = await getRecord(zoneId, recordId);
      const value = applyRecordPatch(current, patch, RACKSPACE_RECORD_TYPES, DRIVER_NAME);
      const domain = zoneDomain(await getDomain(zoneId));
      if (value.type !== current.type) {
        // why: Cloud DNS cannot change a record's type; add the new record first, so a failure leaves the old one
        const created = await create(zoneId, domain, value);
        await job('DELETE /domains/{id}/records/{recordId}', { method: 'DELETE', path: recordPath(zoneId, recordId) });
        return created;
      }
      // https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/records#modify-record
      await job('PUT /domains/{id}/records/{recordId}', { method: 'PUT', path: recordPath(zoneId, recordId), json: recordBody(value, domain, false) });
      return getRecord(zoneId, recordId);
    },

    async deleteRecord(zoneId, recordId) {
      // https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/records#delete-record
      await job('DELETE /domains/{id}/records/{recordId}', { method: 'DELETE', path: recordPath(zoneId, recordId) });
    },
  };
}

// --- Internal helpers ---

function zoneDomain(d: Json): string {
  const name = str(d.name);
  if (name === undefined) throw new MalformedResponseError('a domain without a name', { provider: DRIVER_NAME });
  return name.replace(/\.$/, '').toLowerCase();
}

function toZone(d: Json): Zone {
  const id = typeof d.id === 'number' ? String(d.id) : str(d.id);
  if (id === undefined) throw new MalformedResponseError('a domain without an id', { provider: DRIVER_NAME });
  return {
    id,
    domain: zoneDomain(d),
    type: 'master',
    // why: domain listings carry no ttl; getZone and the create job's answer do
    ttl: typeof d.ttl === 'number' ? d.ttl : null,
    extra: {
      email: str(d.emailAddress) ?? null,
      comment: str(d.comment) ?? null,
      accountId: d.accountId ?? null,
      nameServers: list(d.nameservers).map((n) => str(n.name)).filter((n): n is string => n !== undefined),
      created: str(d.created) ?? null,
      updated: str(d.updated) ?? null,
    },
  };
}

function toRecord(zoneId: string, domain: string, r: Json): DnsRecord {
  const id = str(r.id);
  const type = str(r.type);
  if (id === undefined || type === undefined) throw new MalformedResponseError('a record without id or type', { provider: DRIVER_NAME });
  const raw = typeof r.data === 'string' ? r.data : '';
  const data = isHostType(type) || type === 'MX' ? raw.replace(/\.$/, '').toLowerCase() : type === 'AAAA' ? raw.toLowerCase() : raw;
  return {
    id,
    zoneId,
    name: relativeName(str(r.name) ?? domain, domain),
    type: type as RecordType,
    data,
    ttl: typeof r.ttl === 'number' ? r.ttl : null,
    priority: type === 'MX' || type === 'SRV' ? (typeof r.priority === 'number' ? r.priority : 0) : null,
    extra: { comment: str(r.comment) ?? null, created: str(r.created) ?? null, updated: str(r.updated) ?? null },
  };
}

/** An ERROR job's `error` -> the typed error of its code. */
function jobError(operation: string, error: Json): Error {
  const faults = list(obj(error.failedItems)?.faults);
  // why: the job's own code is 500 whenever an item failed; the item's fault carries the real one
  const faultCode = Number(faults[0]?.code);
  const code = Number.isInteger(faultCode) && faultCode > 0 ? faultCode : typeof error.code === 'number' ? error.code : 500;
  const detail = [str(error.message), ...faults.map((f) => str(f.details) ?? str(f.message)), str(error.details)].filter(Boolean).join(': ');
  const message = `${operation} job failed (${code}): ${detail.slice(0, 300)}`;
  const opts = { provider: DRIVER_NAME, status: code };
  if (code === 404) return new NotFoundError(message, opts);
  if (code === 409) return new ConflictError(message, opts);
  if (code === 400) return new InvalidInputError(message, opts);
  return new ProviderError(message, opts);
}
