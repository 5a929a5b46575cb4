/**
 * The OpenStack Designate (DNS API v2) driver. Designate stores recordsets (name + type, one
 * TTL, several records); a DnsRecord is one record of a recordset, its id
 * `<recordset id>:<base64url of the value in presentation form>`, so getRecord is one GET of the
 * recordset. Zones and recordsets are changed asynchronously (status PENDING, then ACTIVE);
 * deleteZone waits, with a deadline, until the zone is gone, the rest report `extra.status`.
 *
 * https://docs.openstack.org/api-ref/dns/
 */
import { ConflictError, MalformedResponseError, NotFoundError, TimeoutError } from '../../errors.ts';
import type { Connection } from '../../http/connection.ts';
import {
  absoluteName,
  applyRecordPatch,
  checkEmail,
  checkMasters,
  checkRecordInput,
  checkTtl,
  checkZoneInput,
  fromPresentation,
  relativeName,
  sameValue,
  toPresentation,
  type RecordValue,
} from '../../dns/records.ts';
import { list, obj, str, type Json } from '../../rest/json.ts';
import type { DnsDriver, DnsRecord, RecordType, Zone } from '../../types.ts';

export const DRIVER_NAME = 'designate';
// https://docs.openstack.org/designate/latest/admin/supported-record-types.html (the defaults)
export const DESIGNATE_RECORD_TYPES: readonly RecordType[] = ['A', 'AAAA', 'CAA', 'CNAME', 'MX', 'NAPTR', 'NS', 'PTR', 'SPF', 'SRV', 'SSHFP', 'TXT'];
const MAX_PAGES = 10_000;

export interface DesignateOptions {
  pageSize: number;
  pollIntervalMs: number;
  waitTimeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

export function designateDnsDriver(conn: () => Promise<Connection>, opts: DesignateOptions): DnsDriver {
  const zonePath = (zoneId: string) => `v2/zones/${encodeURIComponent(zoneId)}`;
  const notFound = (what: string) => new NotFoundError(`${what} not found`, { provider: DRIVER_NAME, status: 404 });
  const request = async (operation: string, o: { method?: string; path: string; query?: Record<string, string | number | undefined>; json?: unknown }): Promise<Json> => {
    const c = await conn();
    const res = await c.request<Json>({ operation, ...o });
    return obj(res.body) ?? {};
  };
  const paginate = async (operation: string, path: string, key: string, filter: Record<string, string> = {}): Promise<Json[]> => {
    const out: Json[] = [];
    let query: Record<string, string | number | undefined> = { limit: opts.pageSize, ...filter };
    const seen = new Set<string>();
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await request(operation, { path, query });
      if (!Array.isArray(body[key])) throw new MalformedResponseError(`${operation} answered without ${key}`, { provider: DRIVER_NAME });
      out.push(...list(body[key]));
      const next = str(obj(body.links)?.next);
      if (next === undefined) return out;
      const params = new URL(next, 'http://next.invalid').searchParams;
      if (seen.has(params.toString())) throw new MalformedResponseError(`${operation}: the next link repeats itself`, { provider: DRIVER_NAME });
      seen.add(params.toString());
      query = Object.fromEntries(params);
    }
    throw new MalformedResponseError(`${operation}: more than ${MAX_PAGES} pages`, { provider: DRIVER_NAME });
  };
  // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#show-a-zone
  const getZoneJson = async (zoneId: string) => request('GET /v2/zones/{id}', { path: zonePath(zoneId) });
  // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#show-a-recordset
  const getRecordset = async (zoneId: string, rsId: string) =>
    request('GET /v2/zones/{id}/recordsets/{rs}', { path: `${zonePath(zoneId)}/recordsets/${encodeURIComponent(rsId)}` });
  /** The recordset `name`/`type` of a zone, found with the list filters (one call). */
  const findRecordset = async (zoneId: string, domain: string, name: string, type: string): Promise<Json | undefined> => {
    // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#list-recordsets-in-a-zone
    const body = await request('GET /v2/zones/{id}/recordsets', { path: `${zonePath(zoneId)}/recordsets`, query: { name: absoluteName(name, domain, true), type } });
    return list(body.recordsets).find((rs) => str(rs.type) === type && (str(rs.name) ?? '').toLowerCase() === absoluteName(name, domain, true));
  };
  const splitId = (recordId: string) => {
    const m = /^([0-9a-fA-F-]{1,64}):([A-Za-z0-9_-]+)$/.exec(String(recordId));
    if (!m) throw notFound(`record ${JSON.stringify(String(recordId))}`);
    return { rsId: m[1]!, value: Buffer.from(m[2]!, 'base64url').toString('utf8') };
  };
  const findValue = async (zoneId: string, recordId: string) => {
    const { rsId, value } = splitId(recordId);
    const zone = await getZoneJson(zoneId);
    const domain = zoneDomain(zone);
    const rs = await getRecordset(zoneId, rsId);
    const type = str(rs.type) ?? '';
    const wanted = fromPresentation(type, value);
    const records = (Array.isArray(rs.records) ? rs.records : []).map(String);
    const index = records.findIndex((r) => sameValue(fromPresentation(type, r), wanted));
    if (index < 0) throw notFound(`record ${JSON.stringify(recordId)}`);
    return { domain, rs, records, index };
  };
  const write = async (zoneId: string, domain: string, existing: Json | undefined, value: { name: string; type: string }, ttl: number | undefined, records: string[]): Promise<Json | undefined> => {
    if (existing && records.length === 0) {
      // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#delete-a-recordset
      await request('DELETE /v2/zones/{id}/recordsets/{rs}', { method: 'DELETE', path: `${zonePath(zoneId)}/recordsets/${encodeURIComponent(str(existing.id)!)}`, });
      return undefined;
    }
    if (existing) {
      // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#update-a-recordset
      return request('PUT /v2/zones/{id}/recordsets/{rs}', {
        method: 'PUT',
        path: `${zonePath(zoneId)}/recordsets/${encodeURIComponent(str(existing.id)!)}`,
        json: { records, ...(ttl === undefined ? {} : { ttl }) },
      });
    }
    // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#create-recordset
    return request('POST /v2/zones/{id}/recordsets', {
      method: 'POST',
      path: `${zonePath(zoneId)}/recordsets`,
      json: { name: absoluteName(value.name, domain, true), type: value.type, records, ...(ttl === undefined ? {} : { ttl }) },
    });
  };
  const recordOf = (zoneId: string, domain: string, rs: Json, value: RecordValue): DnsRecord => {
    const presentation = toPresentation(value.type, value.data, value.priority);
    return toRecords(zoneId, domain, { ...rs, records: [presentation] })[0]!;
  };

  return {
    // why: static capability data; no upstream call
    listRecordTypes: () => [...DESIGNATE_RECORD_TYPES],

    // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#list-zones
    listZones: async () => (await paginate('GET /v2/zones', 'v2/zones', 'zones')).map(toZone),

    getZone: async (zoneId) => toZone(await getZoneJson(zoneId)),

    async createZone(input) {
      const value = checkZoneInput(input, DRIVER_NAME, ['master', 'slave']);
      const description = input.ex?.description;
      // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#create-zone
      const body = await request('POST /v2/zones', {
        method: 'POST',
        path: 'v2/zones',
        json:
          value.type === 'slave'
            ? { name: `${value.domain}.`, type: 'SECONDARY', masters: value.masters, ...(typeof description === 'string' ? { description } : {}) }
            : { name: `${value.domain}.`, type: 'PRIMARY', email: value.email, ...(value.ttl === undefined ? {} : { ttl: value.ttl }), ...(typeof description === 'string' ? { description } : {}) },
      });
      return toZone(body);
    },

    async updateZone(zoneId, patch) {
      const ttl = checkTtl(patch.ttl, DRIVER_NAME);
      const email = checkEmail(patch.email, DRIVER_NAME);
      const masters = patch.masters === undefined ? undefined : checkMasters(patch.masters, DRIVER_NAME);
      const change = { ...(ttl === undefined ? {} : { ttl }), ...(email === undefined ? {} : { email }), ...(masters === undefined ? {} : { masters }) };
      if (Object.keys(change).length === 0) return toZone(await getZoneJson(zoneId));
      // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#update-a-zone
      return toZone(await request('PATCH /v2/zones/{id}', { method: 'PATCH', path: zonePath(zoneId), json: change }));
    },

    async deleteZone(zoneId) {
      // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#delete-a-zone
      await request('DELETE /v2/zones/{id}', { method: 'DELETE', path: zonePath(zoneId) });
      // why: Designate deletes asynchronously; the zone stays listed (action DELETE) until its backends drop it
      const deadline = opts.now().getTime() + opts.waitTimeoutMs;
      for (;;) {
        try {
          const zone = await getZoneJson(zoneId);
          if (str(zone.status) === 'ERROR') throw new MalformedResponseError(`zone ${zoneId} went to ERROR while being deleted`, { provider: DRIVER_NAME });
        } catch (err) {
          if (err instanceof NotFoundError) return;
          throw err;
        }
        if (opts.now().getTime() >= deadline) throw new TimeoutError(`zone ${zoneId} still there ${opts.waitTimeoutMs} ms after its deletion`, { provider: DRIVER_NAME });
        await opts.sleep(opts.pollIntervalMs);
      }
    },

    async listRecords(zoneId) {
      const zone = await getZoneJson(zoneId);
      const domain = zoneDomain(zone);
      const sets = await paginate('GET /v2/zones/{id}/recordsets', `${zonePath(zoneId)}/recordsets`, 'recordsets');
      return sets.flatMap((rs) => toRecords(zoneId, domain, rs));
    },

    async getRecord(zoneId, recordId) {
      const { domain, rs, records, index } = await findValue(zoneId, recordId);
      return toRecords(zoneId, domain, { ...rs, records: [records[index]!] })[0]!;
    },

    async createRecord(zoneId, input) {
      const value = checkRecordInput(input, DESIGNATE_RECORD_TYPES, DRIVER_NAME);
      const domain = zoneDomain(await getZoneJson(zoneId));
      const existing = await findRecordset(zoneId, domain, value.name, value.type);
      const records = existing ? (Array.isArray(existing.records) ? existing.records.map(String) : []) : [];
      if (records.some((r) => sameValue(fromPresentation(value.type, r), value))) throw new ConflictError(`${value.type} ${value.name || '@'} already has this value`, { provider: DRIVER_NAME });
      const rs = await write(zoneId, domain, existing, value, value.ttl, [...records, toPresentation(value.type, value.data, value.priority)]);
      return recordOf(zoneId, domain, rs!, value);
    },

    async updateRecord(zoneId, recordId, patch) {
      const { domain, rs, records, index } = await findValue(zoneId, recordId);
      const current = toRecords(zoneId, domain, { ...rs, records: [records[index]!] })[0]!;
      const value = applyRecordPatch({ ...current, ttl: patch.ttl ?? null }, patch, DESIGNATE_RECORD_TYPES, DRIVER_NAME);
      const presentation = toPresentation(value.type, value.data, value.priority);
      if (value.name === current.name && value.type === current.type) {
        const next = records.map((r, i) => (i === index ? presentation : r));
        const updated = await write(zoneId, domain, rs, value, value.ttl, next);
        return recordOf(zoneId, domain, updated!, value);
      }
      // why: another name or type is another recordset; add the value there first, so a failure leaves it where it was
      const target = await findRecordset(zoneId, domain, value.name, value.type);
      const targetRecords = target && Array.isArray(target.records) ? target.records.map(String) : [];
      if (targetRecords.some((r) => sameValue(fromPresentation(value.type, r), value))) throw new ConflictError(`${value.type} ${value.name || '@'} already has this value`, { provider: DRIVER_NAME });
      const written = await write(zoneId, domain, target, value, value.ttl, [...targetRecords, presentation]);
      await write(zoneId, domain, rs, current, undefined, records.filter((_, i) => i !== index));
      return recordOf(zoneId, domain, written!, value);
    },

    async deleteRecord(zoneId, recordId) {
      const { domain, rs, records, index } = await findValue(zoneId, recordId);
      const current = toRecords(zoneId, domain, { ...rs, records: [records[index]!] })[0]!;
      await write(zoneId, domain, rs, current, undefined, records.filter((_, i) => i !== index));
    },
  };
}

// --- Internal helpers ---

function zoneDomain(zone: Json): string {
  const name = str(zone.name);
  if (name === undefined) throw new MalformedResponseError('a zone without a name', { provider: DRIVER_NAME });
  return name.replace(/\.$/, '').toLowerCase();
}

function toZone(z: Json): Zone {
  const id = str(z.id);
  if (id === undefined) throw new MalformedResponseError('a zone without an id', { provider: DRIVER_NAME });
  return {
    id,
    domain: zoneDomain(z),
    type: str(z.type) === 'SECONDARY' ? 'slave' : 'master',
    ttl: typeof z.ttl === 'number' ? z.ttl : null,
    extra: {
      status: str(z.status) ?? null,
      action: str(z.action) ?? null,
      serial: typeof z.serial === 'number' ? z.serial : null,
      email: str(z.email) ?? null,
      masters: Array.isArray(z.masters) ? z.masters.filter((m): m is string => typeof m === 'string') : [],
      description: str(z.description) ?? null,
      poolId: str(z.pool_id) ?? null,
      createdAt: str(z.created_at) ?? null,
    },
  };
}

function toRecords(zoneId: string, domain: string, rs: Json): DnsRecord[] {
  const rsId = str(rs.id);
  const type = str(rs.type);
  if (rsId === undefined || type === undefined) throw new MalformedResponseError('a recordset without id or type', { provider: DRIVER_NAME });
  const name = relativeName(str(rs.name) ?? '', domain);
  const records = Array.isArray(rs.records) ? rs.records.map(String) : [];
  return records.map((content) => {
    const { data, priority } = fromPresentation(type, content);
    return {
      id: `${rsId}:${Buffer.from(toPresentation(type, data, priority), 'utf8').toString('base64url')}`,
      zoneId,
      name,
      type: type as RecordType,
      data,
      ttl: typeof rs.ttl === 'number' ? rs.ttl : null,
      priority,
      extra: { recordsetId: rsId, status: str(rs.status) ?? null, action: str(rs.action) ?? null },
    };
  });
}
