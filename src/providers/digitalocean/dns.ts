/**
 * The DigitalOcean DNS driver (API v2 domains and domain records). DigitalOcean keeps one
 * record per value with a numeric id, so a DnsRecord is a domain record as it is, its id the
 * record id; the zone id is the domain name. Names are relative (`@` is the apex); SRV keeps
 * priority, port and weight apart, CAA its flags and tag.
 *
 * https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domains
 * https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domain-Records
 */
import { MalformedResponseError, NotFoundError } from '../errors.ts';
import type { Connection } from '../http/connection.ts';
import { applyRecordPatch, checkRecordInput, checkZoneInput, isHostType, normalizeDomain, type RecordValue } from '../dns/records.ts';
import { obj, str, type Json } from '../rest/json.ts';
import { DIGITALOCEAN_PAGES, listAll } from '../rest/paging.ts';
import type { DnsDriver, DnsRecord, RecordType, Zone } from '../types.ts';

export const DRIVER_NAME = 'digitalocean-dns';
export const DIGITALOCEAN_RECORD_TYPES: readonly RecordType[] = ['A', 'AAAA', 'CAA', 'CNAME', 'MX', 'NS', 'SRV', 'TXT'];

export interface DigitalOceanDnsOptions {
  /** the account's connection (restConnection), opened on first use */
  conn: () => Connection;
  /** items asked per page (at most 200) */
  pageSize: number;
}

export function digitalOceanDnsDriver(opts: DigitalOceanDnsOptions): DnsDriver {
  const { conn } = opts;
  const domainPath = (zoneId: string) => `v2/domains/${encodeURIComponent(zoneDomain(zoneId))}`;
  const recordPath = (zoneId: string, recordId: string) => {
    if (!/^\d{1,18}$/.test(String(recordId))) throw new NotFoundError(`record ${JSON.stringify(String(recordId))} not found (DigitalOcean record ids are numbers)`, { provider: DRIVER_NAME, status: 404 });
    return `${domainPath(zoneId)}/records/${recordId}`;
  };
  const request = async (operation: string, o: { method?: string; path: string; json?: unknown }): Promise<Json> => {
    const res = await conn().request<Json>({ operation, ...o, responseType: o.method === 'DELETE' ? 'none' : 'json' });
    return obj(res.body) ?? {};
  };
  const one = (body: Json, key: string, operation: string): Json => {
    const item = obj(body[key]);
    if (!item) throw new MalformedResponseError(`${operation} answered without ${key}`, { provider: DRIVER_NAME });
    return item;
  };
  /** Every page of a collection; one call per page. */
  const paginate = async (operation: string, path: string, itemsKey: string): Promise<Json[]> =>
    listAll(conn(), { provider: DRIVER_NAME, path, itemsKey, style: DIGITALOCEAN_PAGES, pageSize: opts.pageSize, operation });

  const getRecord = async (zoneId: string, recordId: string): Promise<DnsRecord> => {
    // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_get_record
    const body = await request('GET /v2/domains/{name}/records/{id}', { path: recordPath(zoneId, recordId) });
    return toRecord(zoneDomain(zoneId), one(body, 'domain_record', 'GET /v2/domains/{name}/records/{id}'));
  };

  return {
    // why: static capability data; no upstream call
    listRecordTypes: () => [...DIGITALOCEAN_RECORD_TYPES],

    // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_list
    listZones: async () => (await paginate('GET /v2/domains', 'v2/domains', 'domains')).map(toZone),

    // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_get
    getZone: async (zoneId) => toZone(one(await request('GET /v2/domains/{name}', { path: domainPath(zoneId) }), 'domain', 'GET /v2/domains/{name}')),

    async createZone(input) {
      const value = checkZoneInput(input, DRIVER_NAME, ['master']);
      // why: DigitalOcean sets a domain's TTL itself (1800); the Zone answered shows it, so an asked ttl is not pretended
      const ip = input.ex?.ipAddress;
      // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_create
      const body = await request('POST /v2/domains', { method: 'POST', path: 'v2/domains', json: { name: value.domain, ...(typeof ip === 'string' ? { ip_address: ip } : {}) } });
      return toZone(one(body, 'domain', 'POST /v2/domains'));
    },

    async deleteZone(zoneId) {
      // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_delete
      await request('DELETE /v2/domains/{name}', { method: 'DELETE', path: domainPath(zoneId) });
    },

    async listRecords(zoneId) {
      const domain = zoneDomain(zoneId);
      // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_list_records
      return (await paginate('GET /v2/domains/{name}/records', `${domainPath(zoneId)}/records`, 'domain_records')).map((r) => toRecord(domain, r));
    },

    getRecord,

    async createRecord(zoneId, input) {
      const value = checkRecordInput(input, DIGITALOCEAN_RECORD_TYPES, DRIVER_NAME);
      const domain = zoneDomain(zoneId);
      // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_create_record
      const body = await request('POST /v2/domains/{name}/records', { method: 'POST', path: `${domainPath(zoneId)}/records`, json: toBody(value) });
      return toRecord(domain, one(body, 'domain_record', 'POST /v2/domains/{name}/records'));
    },

    async updateRecord(zoneId, recordId, patch) {
      const domain = zoneDomain(zoneId);
      const current = await getRecord(zoneId, recordId);
      const value = applyRecordPatch(current, patch, DIGITALOCEAN_RECORD_TYPES, DRIVER_NAME);
      // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_update_record
      const body = await request('PUT /v2/domains/{name}/records/{id}', { method: 'PUT', path: recordPath(zoneId, recordId), json: toBody(value) });
      return toRecord(domain, one(body, 'domain_record', 'PUT /v2/domains/{name}/records/{id}'));
    },

    async deleteRecord(zoneId, recordId) {
      // https://docs.digitalocean.com/reference/api/digitalocean/#operation/domains_delete_record
      await request('DELETE /v2/domains/{name}/records/{id}', { method: 'DELETE', path: recordPath(zoneId, recordId) });
    },
  };
}

// --- Internal helpers ---

/** Zone ids are domain names; an id that cannot be one names no zone. */
function zoneDomain(zoneId: string): string {
  try {
    return normalizeDomain(zoneId, DRIVER_NAME, 'zoneId');
  } catch {
    throw new NotFoundError(`zone ${JSON.stringify(String(zoneId))} not found`, { provider: DRIVER_NAME, status: 404 });
  }
}

function toZone(d: Json): Zone {
  const name = str(d.name);
  if (name === undefined) throw new MalformedResponseError('a domain without a name', { provider: DRIVER_NAME });
  return {
    id: name.toLowerCase(),
    domain: name.toLowerCase().replace(/\.$/, ''),
    type: 'master',
    ttl: typeof d.ttl === 'number' ? d.ttl : null,
    extra: { zoneFile: str(d.zone_file) ?? null },
  };
}

/** A host as DigitalOcean shows it (`@`, relative, or with its trailing dot) -> fully qualified, no dot. */
function hostOf(data: string, domain: string): string {
  if (data === '@' || data === '') return domain;
  if (data.endsWith('.')) return data.slice(0, -1).toLowerCase();
  // why: DigitalOcean answers NS data as `ns1.digitalocean.com` (no dot) but a relative `mail` for hosts in the zone
  return data.includes('.') ? data.toLowerCase() : `${data.toLowerCase()}.${domain}`;
}

function toRecord(domain: string, r: Json): DnsRecord {
  const id = typeof r.id === 'number' ? String(r.id) : str(r.id);
  const type = str(r.type);
  if (id === undefined || type === undefined) throw new MalformedResponseError('a domain record without id or type', { provider: DRIVER_NAME });
  const rawName = (str(r.name) ?? '@').toLowerCase();
  const name = rawName === '@' ? '' : rawName.endsWith(`.${domain}.`) ? rawName.slice(0, -domain.length - 2) : rawName;
  const raw = typeof r.data === 'string' ? r.data : '';
  const num = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : null);
  let data = raw;
  let priority: number | null = null;
  if (isHostType(type) || type === 'MX') data = hostOf(raw, domain);
  if (type === 'MX') priority = num(r.priority) ?? 0;
  if (type === 'SRV') {
    data = `${num(r.weight) ?? 0} ${num(r.port) ?? 0} ${hostOf(raw, domain)}`;
    priority = num(r.priority) ?? 0;
  }
  if (type === 'CAA') data = `${num(r.flags) ?? 0} ${str(r.tag) ?? 'issue'} "${raw}"`;
  if (type === 'AAAA') data = raw.toLowerCase();
  return {
    id,
    zoneId: domain,
    name,
    type: type as RecordType,
    data,
    ttl: num(r.ttl),
    priority,
    extra: {},
  };
}

/** The request body of a record: hosts fully qualified with the trailing dot, SRV and CAA split. */
function toBody(v: RecordValue): Json {
  const body: Json = { type: v.type, name: v.name === '' ? '@' : v.name, priority: null, port: null, weight: null, flags: null, tag: null };
  if (v.ttl !== undefined) body.ttl = v.ttl;
  if (isHostType(v.type) || v.type === 'MX') body.data = `${v.data}.`;
  else body.data = v.data;
  if (v.type === 'MX') body.priority = v.priority;
  if (v.type === 'SRV') {
    const [weight, port, target] = v.data.split(' ');
    Object.assign(body, { priority: v.priority, weight: Number(weight), port: Number(port), data: target === '.' ? '.' : `${target}.` });
  }
  if (v.type === 'CAA') {
    const m = /^(\d+)\s+(\S+)\s+"?(.*?)"?$/.exec(v.data);
    if (m) Object.assign(body, { flags: Number(m[1]), tag: m[2], data: m[3] });
  }
  return body;
}
