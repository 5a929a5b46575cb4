/**
 * The PowerDNS Authoritative (HTTP API v1) DNS driver. PowerDNS stores rrsets (name + type, one
 * TTL, several records); a DnsRecord is one record of an rrset, its id `TYPE:name:base64(value)`
 * (see encodeRrsetId). Every change is read-modify-write of one rrset: GET it (rrset_name and
 * rrset_type filters), then PATCH it with changetype REPLACE (or DELETE when it empties), so one
 * change costs two calls and concurrent writers to the same rrset can overwrite each other.
 *
 * https://doc.powerdns.com/authoritative/http-api/zone.html
 */
import { ConflictError, MalformedResponseError, NotFoundError } from '../errors.ts';
import type { Connection } from '../http/connection.ts';
import {
  absoluteName,
  applyRecordPatch,
  checkEmail,
  checkMasters,
  checkRecordInput,
  checkTtl,
  checkZoneInput,
  decodeRecordId,
  encodeRrsetId,
  fromPresentation,
  relativeName,
  sameValue,
  toPresentation,
  type RecordValue,
} from '../dns/records.ts';
import { list, obj, str, type Json } from '../rest/json.ts';
import type { DnsDriver, DnsRecord, RecordType, Zone, ZoneType } from '../types.ts';

export const DRIVER_NAME = 'powerdns';

/** What createRecord accepts: the types whose data the shared rules check and PowerDNS parses. */
export const POWERDNS_RECORD_TYPES: readonly RecordType[] = [
  'A', 'AAAA', 'AFSDB', 'ALIAS', 'CAA', 'CERT', 'CNAME', 'DNAME', 'DS', 'HINFO', 'LOC', 'MX', 'NAPTR', 'NS', 'PTR', 'RP',
  'SPF', 'SRV', 'SSHFP', 'TLSA', 'TXT',
];

// https://doc.powerdns.com/authoritative/modes-of-operation.html (zone kinds)
export const ZONE_KIND: Readonly<Record<string, ZoneType>> = {
  Native: 'master',
  Master: 'master',
  Producer: 'master',
  Slave: 'slave',
  Consumer: 'slave',
};

/** Per-account settings (account.options). */
export interface PowerDnsOptions {
  /** the server id in the API path; default `localhost` */
  serverId: string;
  /** kind of the zones createZone makes for type master: Native (database replication) or Master (AXFR + NOTIFY) */
  masterKind: 'Native' | 'Master';
  /** host names put in new zones' NS rrset and the SOA's MNAME; default none (and MNAME a.misconfigured.dns.server.invalid, PowerDNS's own default) */
  nameservers: string[];
  /** TTL of new zones' SOA when createZone names none; default 3600 */
  defaultTtl: number;
}

interface Rrset {
  name: string;
  type: string;
  ttl: number;
  records: { content: string; disabled: boolean }[];
}

export function powerDnsDriver(conn: () => Promise<Connection>, options: PowerDnsOptions): DnsDriver {
  const server = `servers/${encodeURIComponent(options.serverId)}`;
  const zonePath = (zoneId: string) => `${server}/zones/${encodeURIComponent(zoneId)}`;
  const notFound = (what: string) => new NotFoundError(`${what} not found`, { provider: DRIVER_NAME, status: 404 });

  const request = async (operation: string, o: { method?: string; path: string; query?: Record<string, string>; json?: unknown }): Promise<unknown> => {
    const c = await conn();
    const res = await c.request({ operation, ...o, responseType: o.method === 'DELETE' || o.method === 'PATCH' || o.method === 'PUT' ? 'none' : 'json' });
    return res.body;
  };

  // https://doc.powerdns.com/authoritative/http-api/zone.html#get--servers-server_id-zones-zone_id
  const getZoneJson = async (zoneId: string, filter?: { name: string; type: string }): Promise<Json> => {
    const query: Record<string, string> = filter ? { rrset_name: filter.name, rrset_type: filter.type } : {};
    const body = obj(await request('GET /servers/{server}/zones/{zone}', { path: zonePath(zoneId), query }));
    if (!body || str(body.name) === undefined || str(body.id) === undefined) throw new MalformedResponseError('GET /zones/{zone} answered without a zone', { provider: DRIVER_NAME });
    return body;
  };
  const rrsetsOf = (zone: Json): Rrset[] => list(zone.rrsets).map(toRrset);
  // https://doc.powerdns.com/authoritative/http-api/zone.html#patch--servers-server_id-zones-zone_id
  const patch = (zoneId: string, rrsets: Json[]) => request('PATCH /servers/{server}/zones/{zone}', { method: 'PATCH', path: zonePath(zoneId), json: { rrsets } });

  /**
   * PowerDNS zone ids are the zone's name (`example.com.`) unless it needs escaping, so the rrset
   * owner name is known before the filtered GET; other ids cost one more call. loadRrset checks
   * the answer's zone name against the guess.
   */
  const domainOf = async (zoneId: string): Promise<string> => {
    const guess = zoneId.replace(/\.$/, '').toLowerCase();
    if (/^[a-z0-9_.-]+$/.test(guess) && guess.includes('.')) return guess;
    return zoneDomain(await getZoneJson(zoneId, undefined));
  };
  const loadRrset = async (zoneId: string, name: string, type: string): Promise<{ domain: string; zone: Json; rrset: Rrset | undefined }> => {
    const domain = await domainOf(zoneId);
    const owner = absoluteName(name, domain, true);
    const zone = await getZoneJson(zoneId, { name: owner, type });
    if (zoneDomain(zone) !== domain) throw new MalformedResponseError(`zone ${zoneId} is not ${domain}`, { provider: DRIVER_NAME });
    return { domain, zone, rrset: rrsetsOf(zone).find((r) => r.type === type && r.name.toLowerCase() === owner) };
  };
  const soaTtl = async (zoneId: string, domain: string): Promise<number> => {
    const zone = await getZoneJson(zoneId, { name: `${domain}.`, type: 'SOA' });
    return rrsetsOf(zone).find((r) => r.type === 'SOA')?.ttl ?? options.defaultTtl;
  };

  const valuesOf = (rrset: Rrset | undefined) => (rrset?.records ?? []).map((r) => ({ ...fromPresentation(rrset!.type, r.content), content: r.content, disabled: r.disabled }));
  const replace = (domain: string, name: string, type: string, ttl: number, records: { content: string; disabled: boolean }[]): Json =>
    records.length === 0
      ? { name: absoluteName(name, domain, true), type, changetype: 'DELETE', records: [] }
      : { name: absoluteName(name, domain, true), type, ttl, changetype: 'REPLACE', records };
  const toRecord = (zoneId: string, domain: string, rrset: Rrset, content: string, disabled: boolean): DnsRecord => {
    const name = relativeName(rrset.name, domain);
    const { data, priority } = fromPresentation(rrset.type, content);
    return {
      id: encodeRrsetId(name, rrset.type, data, priority),
      zoneId,
      name,
      type: rrset.type as RecordType,
      data,
      ttl: rrset.ttl,
      priority,
      extra: { disabled, content },
    };
  };
  const findValue = async (zoneId: string, recordId: string) => {
    const parts = decodeRecordId(recordId, DRIVER_NAME);
    const { domain, rrset } = await loadRrset(zoneId, parts.name, parts.type);
    const values = valuesOf(rrset);
    const index = values.findIndex((v) => sameValue(v, parts));
    if (!rrset || index < 0) throw notFound(`record ${JSON.stringify(recordId)}`);
    return { parts, domain, rrset, values, index };
  };
  const recordFrom = (zoneId: string, domain: string, value: RecordValue, ttl: number): DnsRecord => {
    const content = toPresentation(value.type, value.data, value.priority);
    return toRecord(zoneId, domain, { name: absoluteName(value.name, domain, true), type: value.type, ttl, records: [] }, content, false);
  };

  return {
    // why: static capability data; no upstream call
    listRecordTypes: () => [...POWERDNS_RECORD_TYPES],

    async listZones() {
      // https://doc.powerdns.com/authoritative/http-api/zone.html#get--servers-server_id-zones
      const body = await request('GET /servers/{server}/zones', { path: `${server}/zones`, query: { dnssec: 'false' } });
      if (!Array.isArray(body)) throw new MalformedResponseError('GET /zones answered without a list', { provider: DRIVER_NAME });
      return list(body).map((z) => toZone(z));
    },

    async getZone(zoneId) {
      const domain = await domainOf(zoneId).catch(() => undefined);
      if (domain === undefined) return toZone(await getZoneJson(zoneId));
      return toZone(await getZoneJson(zoneId, { name: `${domain}.`, type: 'SOA' }));
    },

    async createZone(input) {
      const value = checkZoneInput(input, DRIVER_NAME, ['master', 'slave']);
      const owner = `${value.domain}.`;
      const ttl = value.ttl ?? options.defaultTtl;
      const mname = options.nameservers[0] ?? 'a.misconfigured.dns.server.invalid';
      const rname = `${value.email.replace('@', '.')}.`;
      const kind = value.type === 'slave' ? 'Slave' : options.masterKind;
      // https://doc.powerdns.com/authoritative/http-api/zone.html#post--servers-server_id-zones
      const body = obj(
        await request('POST /servers/{server}/zones', {
          method: 'POST',
          path: `${server}/zones`,
          json: {
            name: owner,
            kind,
            masters: value.masters,
            nameservers: value.type === 'slave' ? [] : options.nameservers.map((n) => `${n.replace(/\.$/, '')}.`),
            soa_edit_api: 'DEFAULT',
            ...(value.type === 'slave'
              ? {}
              : { rrsets: [{ name: owner, type: 'SOA', ttl, records: [{ content: `${mname.replace(/\.$/, '')}. ${rname} 0 10800 3600 604800 ${ttl}`, disabled: false }] }] }),
          },
        }),
      );
      if (!body || str(body.id) === undefined) throw new MalformedResponseError('POST /zones answered without a zone', { provider: DRIVER_NAME });
      return toZone(body);
    },

    async updateZone(zoneId, change) {
      const ttl = checkTtl(change.ttl, DRIVER_NAME);
      const email = checkEmail(change.email, DRIVER_NAME);
      const masters = change.masters === undefined ? undefined : checkMasters(change.masters, DRIVER_NAME);
      const domain = await domainOf(zoneId);
      let zone = await getZoneJson(zoneId, { name: `${domain}.`, type: 'SOA' });
      if (masters !== undefined) {
        if (ZONE_KIND[str(zone.kind) ?? ''] !== 'slave') throw new ConflictError(`zone ${domain} is not a slave zone: it has no masters`, { provider: DRIVER_NAME });
        // https://doc.powerdns.com/authoritative/http-api/zone.html#put--servers-server_id-zones-zone_id
        await request('PUT /servers/{server}/zones/{zone}', { method: 'PUT', path: zonePath(zoneId), json: { masters } });
      }
      const soa = rrsetsOf(zone).find((r) => r.type === 'SOA');
      if (ttl !== undefined || email !== undefined) {
        if (!soa?.records[0]) throw new ConflictError(`zone ${domain} has no SOA to change (a slave zone before its first transfer)`, { provider: DRIVER_NAME });
        const fields = soa.records[0].content.split(/\s+/);
        if (email !== undefined) fields[1] = `${email.replace('@', '.')}.`;
        if (ttl !== undefined && fields.length === 7) fields[6] = String(ttl);
        await patch(zoneId, [replace(domain, '', 'SOA', ttl ?? soa.ttl, [{ content: fields.join(' '), disabled: false }])]);
      }
      zone = await getZoneJson(zoneId, { name: `${domain}.`, type: 'SOA' });
      return toZone(zone);
    },

    async deleteZone(zoneId) {
      // https://doc.powerdns.com/authoritative/http-api/zone.html#delete--servers-server_id-zones-zone_id
      await request('DELETE /servers/{server}/zones/{zone}', { method: 'DELETE', path: zonePath(zoneId) });
    },

    async listRecords(zoneId) {
      const zone = await getZoneJson(zoneId);
      const domain = zoneDomain(zone);
      const zid = str(zone.id) ?? zoneId;
      return rrsetsOf(zone).flatMap((rrset) => rrset.records.map((r) => toRecord(zid, domain, rrset, r.content, r.disabled)));
    },

    async getRecord(zoneId, recordId) {
      const { domain, rrset, index } = await findValue(zoneId, recordId);
      const r = rrset.records[index]!;
      return toRecord(zoneId, domain, rrset, r.content, r.disabled);
    },

    async createRecord(zoneId, input) {
      const value = checkRecordInput(input, POWERDNS_RECORD_TYPES, DRIVER_NAME);
      const { domain, rrset } = await loadRrset(zoneId, value.name, value.type);
      const values = valuesOf(rrset);
      if (values.some((v) => sameValue(v, value))) throw new ConflictError(`${value.type} ${value.name || '@'} already has this value`, { provider: DRIVER_NAME });
      const ttl = value.ttl ?? rrset?.ttl ?? (await soaTtl(zoneId, domain));
      const records = [...values.map((v) => ({ content: v.content, disabled: v.disabled })), { content: toPresentation(value.type, value.data, value.priority), disabled: false }];
      await patch(zoneId, [replace(domain, value.name, value.type, ttl, records)]);
      return recordFrom(zoneId, domain, value, ttl);
    },

    async updateRecord(zoneId, recordId, change) {
      const found = await findValue(zoneId, recordId);
      const { domain, rrset, values, index } = found;
      const current = toRecord(zoneId, domain, rrset, rrset.records[index]!.content, rrset.records[index]!.disabled);
      const value = applyRecordPatch({ ...current, ttl: change.ttl ?? null }, change, POWERDNS_RECORD_TYPES, DRIVER_NAME);
      const newContent = { content: toPresentation(value.type, value.data, value.priority), disabled: rrset.records[index]!.disabled };
      const rest = values.filter((_, i) => i !== index);
      if (value.name === current.name && value.type === current.type) {
        if (rest.some((v) => sameValue(v, value))) throw new ConflictError(`${value.type} ${value.name || '@'} already has this value`, { provider: DRIVER_NAME });
        const records = values.map((v, i) => (i === index ? newContent : { content: v.content, disabled: v.disabled }));
        const ttl = value.ttl ?? rrset.ttl;
        await patch(zoneId, [replace(domain, value.name, value.type, ttl, records)]);
        return recordFrom(zoneId, domain, value, ttl);
      }
      // why: moving a value to another name or type changes two rrsets; one PATCH does both atomically
      const target = await loadRrset(zoneId, value.name, value.type);
      const targetValues = valuesOf(target.rrset);
      if (targetValues.some((v) => sameValue(v, value))) throw new ConflictError(`${value.type} ${value.name || '@'} already has this value`, { provider: DRIVER_NAME });
      const ttl = value.ttl ?? target.rrset?.ttl ?? rrset.ttl;
      await patch(zoneId, [
        replace(domain, current.name, current.type, rrset.ttl, rest.map((v) => ({ content: v.content, disabled: v.disabled }))),
        replace(domain, value.name, value.type, ttl, [...targetValues.map((v) => ({ content: v.content, disabled: v.disabled })), newContent]),
      ]);
      return recordFrom(zoneId, domain, value, ttl);
    },

    async deleteRecord(zoneId, recordId) {
      const { parts, domain, rrset, values, index } = await findValue(zoneId, recordId);
      if (parts.type === 'SOA') throw new ConflictError('the SOA record cannot be deleted', { provider: DRIVER_NAME });
      const rest = values.filter((_, i) => i !== index).map((v) => ({ content: v.content, disabled: v.disabled }));
      await patch(zoneId, [replace(domain, parts.name, parts.type, rrset.ttl, rest)]);
    },
  };
}

// --- Internal helpers ---

function zoneDomain(zone: Json): string {
  return (str(zone.name) ?? '').replace(/\.$/, '').toLowerCase();
}

function toRrset(r: Json): Rrset {
  const name = str(r.name);
  const type = str(r.type);
  if (name === undefined || type === undefined) throw new MalformedResponseError('an rrset without name or type', { provider: DRIVER_NAME });
  return {
    name: name.toLowerCase(),
    type,
    ttl: typeof r.ttl === 'number' ? r.ttl : 0,
    records: list(r.records).map((x) => ({ content: str(x.content) ?? '', disabled: x.disabled === true })),
  };
}

function toZone(z: Json): Zone {
  const soa = list(z.rrsets).map(toRrset).find((r) => r.type === 'SOA');
  const kind = str(z.kind) ?? 'Native';
  return {
    id: str(z.id)!,
    domain: zoneDomain(z),
    type: ZONE_KIND[kind] ?? 'master',
    // why: a zone listing carries no rrsets; only getZone (and the zone answers) know the SOA's TTL
    ttl: soa ? soa.ttl : null,
    extra: {
      kind,
      serial: typeof z.serial === 'number' ? z.serial : null,
      masters: Array.isArray(z.masters) ? z.masters.filter((m): m is string => typeof m === 'string') : [],
      dnssec: z.dnssec === true,
      account: str(z.account) ?? '',
    },
  };
}
