/**
 * The Google Cloud DNS (REST v1) DNS driver. Cloud DNS stores resource record sets (name + type,
 * one TTL, several rrdatas in presentation form); a DnsRecord is one rrdata, its id
 * `TYPE:name:base64(value)` (encodeRrsetId), as for Route 53 and PowerDNS. Every write is one
 * `changes.create`: the rrset exactly as it was read goes in `deletions` and what it becomes in
 * `additions`, applied atomically. Cloud DNS refuses a deletion that no longer matches (412
 * conditionNotMet) or an addition that exists (409 alreadyExists), so a concurrent change to the
 * same rrset is a ConflictError instead of being overwritten. Record sets with a routing policy
 * (geo, weighted round robin, failover) are listed with their policy in `extra` and are read-only.
 *
 * Zone ids are the managed zone's name (`example-com`); Cloud DNS also takes the numeric id there.
 *
 * https://cloud.google.com/dns/docs/reference/rest/v1
 */
import { ConflictError, InvalidInputError, MalformedResponseError, NotFoundError, UnsupportedError, type SkygraphError } from '../../errors.ts';
import type { ErrorResponseInfo } from '../../http/connection.ts';
import {
  absoluteName,
  applyRecordPatch,
  checkRecordInput,
  checkZoneInput,
  decodeRecordId,
  encodeRrsetId,
  fromPresentation,
  relativeName,
  sameValue,
  toPresentation,
  type RecordValue,
} from '../../dns/records.ts';
import { zoneDomains } from '../../dns/zone-domains.ts';
import type { DnsDriver, DnsRecord, RecordType, Zone } from '../../types.ts';
import { encodeProject, forEachPage, type GoogleClient } from '../client.ts';
import { googleErrorDetails } from '../errors.ts';
import { int, list, obj, str, strings, type Json } from '../json.ts';

export const DRIVER_NAME = 'google-dns';
export const API_PATH = 'dns/v1';
/** why: Cloud DNS's default quota of rrset deletions in one change (deleteZone's clean-up) */
const MAX_DELETIONS = 100;
/** the TTL of an rrset created without one (Cloud DNS requires a TTL on every rrset) */
const DEFAULT_TTL = 300;

// https://cloud.google.com/dns/docs/records-overview#supported_dns_record_types
export const GOOGLE_DNS_RECORD_TYPES: readonly RecordType[] = ['A', 'AAAA', 'CAA', 'CNAME', 'DS', 'MX', 'NAPTR', 'NS', 'PTR', 'SPF', 'SRV', 'SSHFP', 'TLSA', 'TXT'];

/** A managed zone name: 1-63 lower-case letters, digits and dashes, starting with a letter. */
export const ZONE_NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

/** A record set as Cloud DNS gave it; `raw` is kept so a deletion can name it exactly. */
interface Rrset {
  /** fully qualified, lower case, with the trailing dot */
  name: string;
  type: string;
  ttl: number | null;
  /** rrdatas, or the policy items' rrdatas for a routing-policy rrset */
  values: { rrdata: string; extra: Json }[];
  raw: Json;
  /** routing-policy record sets: read-only here */
  special: boolean;
}

export interface GoogleDnsOptions {
  /** maxResults of list calls; undefined lets Cloud DNS choose */
  pageSize: number | undefined;
}

export function googleDnsDriver(client: GoogleClient, opts: GoogleDnsOptions): DnsDriver {
  const provider = DRIVER_NAME;
  const notFound = (what: string) => new NotFoundError(`${what} not found`, { provider, status: 404 });
  const projectPath = async () => `${API_PATH}/projects/${encodeProject(await client.project())}`;
  const zonePath = async (zoneId: string) => `${await projectPath()}/managedZones/${encodeURIComponent(zoneId)}`;

  const call = async (operation: string, path: string, o: { method?: string; json?: unknown; idempotent?: boolean } = {}): Promise<Json | undefined> => {
    const res = await client.request<unknown>({
      operation,
      method: o.method ?? 'GET',
      path,
      json: o.json,
      ...(o.idempotent === undefined ? {} : { idempotent: o.idempotent }),
      responseType: o.method === 'DELETE' ? 'none' : 'json',
    });
    if (o.method === 'DELETE') return undefined;
    const body = obj(res.body);
    if (!body) throw new MalformedResponseError(`${operation} answered without a JSON object`, { provider, status: res.status });
    return body;
  };

  // https://cloud.google.com/dns/docs/reference/rest/v1/managedZones/get
  const getManagedZone = async (zoneId: string) => (await call('GET managedZones/{zone}', await zonePath(zoneId)))!;

  // why: owner names need the zone's domain, which a zone id does not carry
  const domains = zoneDomains(async (zoneId) => toZone(await getManagedZone(zoneId)).domain);

  /** Every rrset of the zone, one call per page (name and type narrow the listing to one rrset). */
  // https://cloud.google.com/dns/docs/reference/rest/v1/resourceRecordSets/list
  const rrsets = async (zoneId: string, filter?: { name: string; type: string }): Promise<Rrset[]> => {
    const out: Rrset[] = [];
    await forEachPage(client, 'GET rrsets', `${await zonePath(zoneId)}/rrsets`, { maxResults: opts.pageSize, name: filter?.name, type: filter?.type }, (body) => {
      out.push(...list(body.rrsets).map(toRrset));
    });
    return out;
  };
  /** The rrset `name`/`type` (one call: the listing filtered to it), and the zone's domain. */
  const loadRrset = async (zoneId: string, name: string, type: string) => {
    const domain = await domains.get(zoneId);
    const owner = absoluteName(name, domain, true);
    const found = (await rrsets(zoneId, { name: owner, type })).filter((s) => s.name === owner && s.type === type);
    return { domain, rrset: found.find((s) => !s.special), special: found.filter((s) => s.special) };
  };
  const findValue = async (zoneId: string, recordId: string) => {
    const parts = decodeRecordId(recordId, provider);
    const { domain, rrset, special } = await loadRrset(zoneId, parts.name, parts.type);
    const index = rrset ? rrset.values.findIndex((v) => sameValue(fromPresentation(rrset.type, v.rrdata), parts)) : -1;
    if (rrset && index >= 0) return { parts, domain, rrset, index };
    const inSpecial = special.find((s) => toRecords(zoneId, domain, s).some((r) => r.id === recordId));
    if (inSpecial) return { parts, domain, rrset: inSpecial, index: -1 };
    throw notFound(`record ${JSON.stringify(recordId)}`);
  };
  const readOnly = () => new UnsupportedError('record sets with a routing policy (geo, weighted round robin, failover) are read-only through skygraph', { provider });

  // https://cloud.google.com/dns/docs/reference/rest/v1/changes/create
  const change = async (zoneId: string, deletions: Json[], additions: Json[]) => {
    if (deletions.length === 0 && additions.length === 0) return;
    await call('POST changes', `${await zonePath(zoneId)}/changes`, {
      method: 'POST',
      json: { ...(deletions.length ? { deletions } : {}), ...(additions.length ? { additions } : {}) },
      // why: a change names what it deletes exactly and Cloud DNS refuses an addition that exists, so a repeat (after a 429 or a lost answer)
      // cannot apply twice; a repeat of one that did apply answers CONFLICT
      idempotent: true,
    });
  };
  const rrsetJson = (domain: string, name: string, type: string, ttl: number, rrdatas: string[]): Json => ({ name: absoluteName(name, domain, true), type, ttl, rrdatas });
  /** The deletion of what was read (when it existed) and the addition of what it becomes (when not empty). */
  const rewrite = (domain: string, before: Rrset | undefined, name: string, type: string, ttl: number, rrdatas: string[]) => ({
    deletions: before ? [before.raw] : [],
    additions: rrdatas.length ? [rrsetJson(domain, name, type, ttl, rrdatas)] : [],
  });
  const recordFrom = (zoneId: string, domain: string, value: RecordValue, ttl: number): DnsRecord => {
    const rrdata = toPresentation(value.type, value.data, value.priority);
    return toRecords(zoneId, domain, toRrset(rrsetJson(domain, value.name, value.type, ttl, [rrdata])))[0]!;
  };

  return {
    // why: static capability data; no upstream call
    listRecordTypes: () => [...GOOGLE_DNS_RECORD_TYPES],

    async listZones() {
      const out: Zone[] = [];
      // https://cloud.google.com/dns/docs/reference/rest/v1/managedZones/list
      await forEachPage(client, 'GET managedZones', `${await projectPath()}/managedZones`, { maxResults: opts.pageSize }, (body) => {
        for (const z of list(body.managedZones)) out.push(domains.prime(toZone(z)));
      });
      return out;
    },

    async getZone(zoneId) {
      return domains.prime(toZone(await getManagedZone(zoneId)));
    },

    async createZone(input) {
      const value = checkZoneInput(input, provider, ['master']);
      const ex = input.ex ?? {};
      const name = ex.name === undefined ? zoneNameFor(value.domain) : ex.name;
      if (typeof name !== 'string' || !ZONE_NAME.test(name)) {
        throw new InvalidInputError('ex.name must be a managed zone name: 1-63 lower-case letters, digits and dashes, starting with a letter', { provider, field: 'ex.name' });
      }
      const description = ex.description ?? '';
      if (typeof description !== 'string' || description.length > 1024) throw new InvalidInputError('ex.description must be a string of at most 1024 characters', { provider, field: 'ex.description' });
      // https://cloud.google.com/dns/docs/reference/rest/v1/managedZones/create
      const body = await call('POST managedZones', `${await projectPath()}/managedZones`, {
        method: 'POST',
        json: { name, dnsName: `${value.domain}.`, description, visibility: 'public' },
      });
      return domains.prime(toZone(body!));
    },

    async deleteZone(zoneId) {
      const domain = await domains.get(zoneId);
      // why: Cloud DNS refuses to delete a zone that holds more than its apex SOA and NS (400 containerNotEmpty)
      const removable = (await rrsets(zoneId)).filter((s) => !(s.name === `${domain}.` && (s.type === 'SOA' || s.type === 'NS'))).map((s) => s.raw);
      for (let i = 0; i < removable.length; i += MAX_DELETIONS) await change(zoneId, removable.slice(i, i + MAX_DELETIONS), []);
      // https://cloud.google.com/dns/docs/reference/rest/v1/managedZones/delete
      await call('DELETE managedZones/{zone}', await zonePath(zoneId), { method: 'DELETE' });
      domains.forget(zoneId);
    },

    async listRecords(zoneId) {
      const domain = await domains.get(zoneId);
      return (await rrsets(zoneId)).flatMap((s) => toRecords(zoneId, domain, s));
    },

    async getRecord(zoneId, recordId) {
      const { domain, rrset } = await findValue(zoneId, recordId);
      return toRecords(zoneId, domain, rrset).find((r) => r.id === recordId)!;
    },

    async createRecord(zoneId, input) {
      const value = checkRecordInput(input, GOOGLE_DNS_RECORD_TYPES, provider);
      const { domain, rrset, special } = await loadRrset(zoneId, value.name, value.type);
      if (special.length) throw readOnly();
      const rrdatas = rrset?.values.map((v) => v.rrdata) ?? [];
      if (rrdatas.some((v) => sameValue(fromPresentation(value.type, v), value))) {
        throw new ConflictError(`${value.type} ${value.name || '@'} already has this value`, { provider });
      }
      const ttl = value.ttl ?? rrset?.ttl ?? DEFAULT_TTL;
      const { deletions, additions } = rewrite(domain, rrset, value.name, value.type, ttl, [...rrdatas, toPresentation(value.type, value.data, value.priority)]);
      await change(zoneId, deletions, additions);
      return recordFrom(zoneId, domain, value, ttl);
    },

    async updateRecord(zoneId, recordId, patch) {
      const { domain, rrset, index } = await findValue(zoneId, recordId);
      if (rrset.special) throw readOnly();
      const current = toRecords(zoneId, domain, rrset)[index]!;
      const value = applyRecordPatch({ ...current, ttl: patch.ttl ?? null }, patch, GOOGLE_DNS_RECORD_TYPES, provider);
      const rrdata = toPresentation(value.type, value.data, value.priority);
      const rrdatas = rrset.values.map((v) => v.rrdata);
      const rest = rrdatas.filter((_, i) => i !== index);
      if (value.name === current.name && value.type === current.type) {
        if (rest.some((v) => sameValue(fromPresentation(value.type, v), value))) throw new ConflictError(`${value.type} ${value.name || '@'} already has this value`, { provider });
        const ttl = value.ttl ?? rrset.ttl ?? DEFAULT_TTL;
        const { deletions, additions } = rewrite(domain, rrset, value.name, value.type, ttl, rrdatas.map((v, i) => (i === index ? rrdata : v)));
        await change(zoneId, deletions, additions);
        return recordFrom(zoneId, domain, value, ttl);
      }
      // why: moving a value to another name or type changes two rrsets; one change does both or neither
      const target = await loadRrset(zoneId, value.name, value.type);
      if (target.special.length) throw readOnly();
      const targetData = target.rrset?.values.map((v) => v.rrdata) ?? [];
      if (targetData.some((v) => sameValue(fromPresentation(value.type, v), value))) throw new ConflictError(`${value.type} ${value.name || '@'} already has this value`, { provider });
      const ttl = value.ttl ?? target.rrset?.ttl ?? rrset.ttl ?? DEFAULT_TTL;
      const from = rewrite(domain, rrset, current.name, current.type, rrset.ttl ?? DEFAULT_TTL, rest);
      const to = rewrite(domain, target.rrset, value.name, value.type, ttl, [...targetData, rrdata]);
      await change(zoneId, [...from.deletions, ...to.deletions], [...from.additions, ...to.additions]);
      return recordFrom(zoneId, domain, value, ttl);
    },

    async deleteRecord(zoneId, recordId) {
      const { parts, domain, rrset, index } = await findValue(zoneId, recordId);
      if (rrset.special) throw readOnly();
      if (parts.type === 'SOA') throw new UnsupportedError('the SOA record of a managed zone cannot be deleted', { provider });
      const rest = rrset.values.map((v) => v.rrdata).filter((_, i) => i !== index);
      const { deletions, additions } = rewrite(domain, rrset, parts.name, parts.type, rrset.ttl ?? DEFAULT_TTL, rest);
      await change(zoneId, deletions, additions);
    },
  };
}

/**
 * Cloud DNS errors particular to zones and changes, before Google's common mapping (../errors.ts,
 * which already makes 409 alreadyExists and 412 conditionNotMet ConflictErrors):
 * - a change whose deletion names an rrset that is gone (404 on `entity.change.deletions[n]`)
 *   raced another writer: ConflictError, not a missing zone;
 * - a zone that still holds records (400 containerNotEmpty): ConflictError;
 * - rrdata Cloud DNS refuses (400 invalid on `entity.change.additions[n]`): InvalidInputError.
 *
 * https://cloud.google.com/dns/docs/troubleshooting
 */
export function parseGoogleDnsError(info: ErrorResponseInfo): SkygraphError | undefined {
  const { reason, message } = googleErrorDetails(info.bodyText);
  const text = `${info.operation} ${info.status}${reason ? ` ${reason}` : ''}: ${(message ?? 'no error message').slice(0, 300)}`;
  const opts = { provider: DRIVER_NAME, status: info.status, requestId: info.requestId };
  const aboutChange = message !== undefined && /entity\.change\b/.test(message);
  if (info.status === 404 && aboutChange) return new ConflictError(text, opts);
  if (info.status === 400 && reason === 'containerNotEmpty') return new ConflictError(text, opts);
  if (info.status === 400 && aboutChange && reason === 'invalid') return new InvalidInputError(text, opts);
  return undefined;
}

// --- Internal helpers ---

/** `example.com` -> `example-com`; why: a managed zone needs a name, and one derived from the domain reads well in the console */
export function zoneNameFor(domain: string): string {
  let name = domain.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(name)) name = `zone-${name}`;
  return name.slice(0, 63).replace(/-+$/, '');
}

function toRrset(r: Json): Rrset {
  const name = str(r.name);
  const type = str(r.type);
  if (name === undefined || type === undefined) throw new MalformedResponseError('a resource record set without name or type', { provider: DRIVER_NAME });
  const policy = obj(r.routingPolicy);
  return {
    name: `${name.replace(/\.$/, '').toLowerCase()}.`,
    type,
    ttl: int(r.ttl) ?? null,
    values: policy ? policyValues(policy) : strings(r.rrdatas).map((rrdata) => ({ rrdata, extra: {} })),
    raw: r,
    special: policy !== undefined,
  };
}

/** The rrdatas of a routing policy's items, each with where it applies. */
function policyValues(policy: Json): { rrdata: string; extra: Json }[] {
  const out: { rrdata: string; extra: Json }[] = [];
  const items = (kind: string, holder: Json | undefined, key: 'location' | 'weight') => {
    for (const item of list(holder?.items)) {
      for (const rrdata of strings(item.rrdatas)) out.push({ rrdata, extra: { routingPolicy: kind, [key]: item[key] ?? null } });
    }
  };
  items('geo', obj(policy.geo), 'location');
  items('wrr', obj(policy.wrr), 'weight');
  items('primaryBackup', obj(obj(policy.primaryBackup)?.backupGeoTargets), 'location');
  return out;
}

function toRecords(zoneId: string, domain: string, s: Rrset): DnsRecord[] {
  const name = relativeName(s.name, domain);
  return s.values.map(({ rrdata, extra }) => {
    const { data, priority } = fromPresentation(s.type, rrdata);
    return { id: encodeRrsetId(name, s.type, data, priority), zoneId, name, type: s.type as RecordType, data, ttl: s.ttl, priority, extra: { ...extra } };
  });
}

function toZone(z: Json): Zone {
  const name = str(z.name);
  const dnsName = str(z.dnsName);
  if (name === undefined || dnsName === undefined) throw new MalformedResponseError('a managed zone without name or dnsName', { provider: DRIVER_NAME });
  return {
    id: name,
    domain: dnsName.replace(/\.$/, '').toLowerCase(),
    type: 'master',
    // why: Cloud DNS has no zone-wide default TTL; every record set carries its own
    ttl: null,
    extra: {
      numericId: str(z.id) ?? null,
      description: typeof z.description === 'string' ? z.description : null,
      visibility: str(z.visibility) ?? 'public',
      nameServers: strings(z.nameServers).map((n) => n.replace(/\.$/, '')),
      creationTime: str(z.creationTime) ?? null,
      dnssec: str(obj(z.dnssecConfig)?.state) ?? 'off',
      labels: obj(z.labels) ?? {},
    },
  };
}
