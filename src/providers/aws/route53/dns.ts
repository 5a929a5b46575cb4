/**
 * The Route 53 DNS driver. Route 53 stores record sets (name + type, one TTL, several values);
 * a DnsRecord is one value, its id `TYPE:name:base64(value)` (encodeRrsetId). Changes are
 * ChangeResourceRecordSets batches that DELETE the rrset exactly as it was read and CREATE what
 * it becomes, so a concurrent change to the same rrset makes the batch fail (ConflictError)
 * instead of being overwritten. Alias and routing-policy record sets (SetIdentifier) are listed
 * with their settings in `extra`, and are read-only here.
 *
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_Operations_Amazon_Route_53.html
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, MalformedResponseError, NotFoundError, UnsupportedError } from '../../errors.ts';
import type { Connection } from '../../http/connection.ts';
import { xmlList } from '../../http/parsers/xml.ts';
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

export const DRIVER_NAME = 'route53';
const API = '2013-04-01';
const XMLNS = `https://route53.amazonaws.com/doc/${API}/`;
const XML_ARRAYS = ['HostedZone', 'ResourceRecordSet', 'ResourceRecord', 'NameServer', 'Message'];
/** why: Route 53 takes at most 100 Change elements in one batch (deleteZone's clean-up) */
const MAX_CHANGES = 100;
const MAX_PAGES = 10_000;

// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/ResourceRecordTypes.html
export const ROUTE53_RECORD_TYPES: readonly RecordType[] = ['A', 'AAAA', 'CAA', 'CNAME', 'DS', 'MX', 'NAPTR', 'NS', 'PTR', 'SPF', 'SRV', 'TXT'];

type Xml = Record<string, unknown>;

/** A record set as Route 53 gave it; `raw` is kept so a DELETE can name it exactly. */
interface Rrset {
  name: string;
  type: string;
  ttl: number | null;
  values: string[];
  raw: Xml;
  /** alias or routing-policy record sets: read-only here */
  special: boolean;
}

export interface Route53Options {
  recordPageSize: number;
  zonePageSize: number;
}

export function route53DnsDriver(conn: () => Promise<Connection>, opts: Route53Options): DnsDriver {
  const zonePath = (zoneId: string) => `${API}/hostedzone/${encodeURIComponent(bareZoneId(zoneId))}`;
  const notFound = (what: string) => new NotFoundError(`${what} not found`, { provider: DRIVER_NAME, status: 404 });

  const call = async (operation: string, o: { method?: string; path: string; query?: Record<string, string | undefined>; body?: string }): Promise<Xml> => {
    const c = await conn();
    const res = await c.request<Xml | undefined>({
      operation,
      method: o.method ?? 'GET',
      path: o.path,
      query: o.query,
      ...(o.body === undefined ? {} : { body: o.body, headers: { 'content-type': 'application/xml' } }),
      responseType: 'xml',
      xmlArrays: XML_ARRAYS,
    });
    const root = res.body?.[`${operation}Response`];
    if (!root || typeof root !== 'object') throw new MalformedResponseError(`${operation}: the response has no ${operation}Response element`, { provider: DRIVER_NAME, requestId: res.requestId });
    return root as Xml;
  };

  // https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html
  const getHostedZone = async (zoneId: string) => {
    const body = await call('GetHostedZone', { path: zonePath(zoneId) });
    const zone = xmlList<Xml>(body.HostedZone)[0];
    if (!zone) throw new MalformedResponseError('GetHostedZone answered without a HostedZone', { provider: DRIVER_NAME });
    return { zone, nameServers: nameServersOf(body) };
  };

  /** One page of ListResourceRecordSets, from `start` (name, type, identifier) on. */
  // https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html
  const rrsetPage = async (zoneId: string, start: { name?: string; type?: string; identifier?: string }, maxItems: number) => {
    const body = await call('ListResourceRecordSets', {
      path: `${zonePath(zoneId)}/rrset`,
      query: { name: start.name, type: start.type, identifier: start.identifier, maxitems: String(maxItems) },
    });
    const sets = xmlList<Xml>((body.ResourceRecordSets as Xml | undefined)?.ResourceRecordSet).map(toRrset);
    const next = body.IsTruncated === 'true' ? { name: text(body.NextRecordName), type: text(body.NextRecordType), identifier: text(body.NextRecordIdentifier) } : undefined;
    return { sets, next };
  };
  const allRrsets = async function* (zoneId: string) {
    let start: { name?: string; type?: string; identifier?: string } = {};
    for (let page = 0; page < MAX_PAGES; page++) {
      const { sets, next } = await rrsetPage(zoneId, start, opts.recordPageSize);
      yield sets;
      if (!next) return;
      if (next.name === undefined) throw new MalformedResponseError('ListResourceRecordSets: truncated without NextRecordName', { provider: DRIVER_NAME });
      start = next;
    }
    throw new MalformedResponseError(`ListResourceRecordSets: more than ${MAX_PAGES} pages`, { provider: DRIVER_NAME });
  };
  /** The simple record set `name`/`type` (one call: the listing starts at it), and the zone's domain. */
  const loadRrset = async (zoneId: string, name: string, type: string) => {
    const domain = await domains.get(zoneId);
    const owner = absoluteName(name, domain, true);
    const { sets } = await rrsetPage(zoneId, { name: owner, type }, 100);
    const matching = sets.filter((s) => s.name === owner && s.type === type);
    return { domain, rrset: matching.find((s) => !s.special), special: matching.filter((s) => s.special) };
  };
  // why: owner names need the zone's domain, which a zone id does not carry
  const domains = zoneDomains((id) => getHostedZone(id).then((z) => decodeName(text(z.zone.Name) ?? '')), bareZoneId);
  const findValue = async (zoneId: string, recordId: string) => {
    const parts = decodeRecordId(recordId, DRIVER_NAME);
    const { domain, rrset, special } = await loadRrset(zoneId, parts.name, parts.type);
    const index = rrset ? rrset.values.findIndex((v) => sameValue(fromPresentation(rrset.type, v), parts)) : -1;
    if (rrset && index >= 0) return { parts, domain, rrset, index };
    const inSpecial = special.find((s) => toRecords(bareZoneId(zoneId), domain, s).some((r) => r.id === recordId));
    if (inSpecial) return { parts, domain, rrset: inSpecial, index: -1 };
    throw notFound(`record ${JSON.stringify(recordId)}`);
  };
  const readOnly = () => new UnsupportedError('alias and routing-policy record sets (AliasTarget, SetIdentifier) are read-only through skygraph', { provider: DRIVER_NAME });

  // https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html
  const change = async (zoneId: string, changes: string[]) => {
    if (changes.length === 0) return;
    const body = `<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="${XMLNS}"><ChangeBatch><Changes>${changes.join('')}</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`;
    await call('ChangeResourceRecordSets', { method: 'POST', path: `${zonePath(zoneId)}/rrset/`, body });
  };
  const simple = (domain: string, name: string, type: string, ttl: number, values: string[]) => ({ name: absoluteName(name, domain, true), type, ttl, values });
  const recordFrom = (zoneId: string, domain: string, value: RecordValue, ttl: number): DnsRecord => {
    const presentation = toPresentation(value.type, value.data, value.priority);
    return toRecords(zoneId, domain, { ...simple(domain, value.name, value.type, ttl, [presentation]), raw: {}, special: false })[0]!;
  };
  /** DELETE what was read (when it existed) and CREATE what it becomes (when not empty). */
  const rewrite = (domain: string, before: Rrset | undefined, name: string, type: string, ttl: number, values: string[]): string[] => [
    ...(before ? [changeXml('DELETE', before)] : []),
    ...(values.length ? [changeXml('CREATE', simple(domain, name, type, ttl, values))] : []),
  ];

  return {
    // why: static capability data; no upstream call
    listRecordTypes: () => [...ROUTE53_RECORD_TYPES],

    async listZones() {
      const out: Zone[] = [];
      let marker: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        // https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZones.html
        const body = await call('ListHostedZones', { path: `${API}/hostedzone`, query: { marker, maxitems: String(opts.zonePageSize) } });
        for (const z of xmlList<Xml>((body.HostedZones as Xml | undefined)?.HostedZone)) out.push(domains.prime(toZone(z, undefined)));
        if (body.IsTruncated !== 'true') return out;
        const next = text(body.NextMarker);
        if (next === undefined || next === marker) throw new MalformedResponseError('ListHostedZones: truncated without a new NextMarker', { provider: DRIVER_NAME });
        marker = next;
      }
      throw new MalformedResponseError(`ListHostedZones: more than ${MAX_PAGES} pages`, { provider: DRIVER_NAME });
    },

    async getZone(zoneId) {
      const { zone, nameServers } = await getHostedZone(zoneId);
      return domains.prime(toZone(zone, nameServers));
    },

    async createZone(input) {
      const value = checkZoneInput(input, DRIVER_NAME, ['master']);
      const comment = input.ex?.comment;
      // https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html
      const body = await call('CreateHostedZone', {
        method: 'POST',
        path: `${API}/hostedzone`,
        body:
          `<?xml version="1.0" encoding="UTF-8"?><CreateHostedZoneRequest xmlns="${XMLNS}"><Name>${escapeXml(value.domain)}.</Name>` +
          `<CallerReference>skygraph-${randomUUID()}</CallerReference>` +
          (typeof comment === 'string' ? `<HostedZoneConfig><Comment>${escapeXml(comment)}</Comment></HostedZoneConfig>` : '') +
          `</CreateHostedZoneRequest>`,
      });
      const zone = xmlList<Xml>(body.HostedZone)[0];
      if (!zone) throw new MalformedResponseError('CreateHostedZone answered without a HostedZone', { provider: DRIVER_NAME });
      return domains.prime(toZone(zone, nameServersOf(body)));
    },

    async deleteZone(zoneId) {
      const domain = await domains.get(zoneId);
      // why: Route 53 refuses to delete a zone that holds more than its SOA and apex NS; clear it a page at a time
      for await (const sets of allRrsets(zoneId)) {
        const removable = sets.filter((s) => !(s.name === `${domain}.` && (s.type === 'SOA' || s.type === 'NS')));
        for (let i = 0; i < removable.length; i += MAX_CHANGES) await change(zoneId, removable.slice(i, i + MAX_CHANGES).map((s) => changeXml('DELETE', s)));
      }
      // https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteHostedZone.html
      await call('DeleteHostedZone', { method: 'DELETE', path: zonePath(zoneId) });
      domains.forget(zoneId);
    },

    async listRecords(zoneId) {
      const domain = await domains.get(zoneId);
      const out: DnsRecord[] = [];
      for await (const sets of allRrsets(zoneId)) for (const s of sets) out.push(...toRecords(bareZoneId(zoneId), domain, s));
      return out;
    },

    async getRecord(zoneId, recordId) {
      const { domain, rrset } = await findValue(zoneId, recordId);
      return toRecords(bareZoneId(zoneId), domain, rrset).find((r) => r.id === recordId)!;
    },

    async createRecord(zoneId, input) {
      const value = checkRecordInput(input, ROUTE53_RECORD_TYPES, DRIVER_NAME);
      const { domain, rrset, special } = await loadRrset(zoneId, value.name, value.type);
      if (special.length) throw readOnly();
      const presentation = toPresentation(value.type, value.data, value.priority);
      const values = rrset?.values ?? [];
      if (rrset && values.some((v) => sameValue(fromPresentation(value.type, v), value))) {
        throw new ConflictError(`${value.type} ${value.name || '@'} already has this value`, { provider: DRIVER_NAME });
      }
      const ttl = value.ttl ?? rrset?.ttl ?? 300;
      await change(zoneId, rewrite(domain, rrset, value.name, value.type, ttl, [...values, presentation]));
      return recordFrom(bareZoneId(zoneId), domain, value, ttl);
    },

    async updateRecord(zoneId, recordId, patch) {
      const { domain, rrset, index } = await findValue(zoneId, recordId);
      if (rrset.special) throw readOnly();
      const current = toRecords(bareZoneId(zoneId), domain, rrset)[index]!;
      const value = applyRecordPatch({ ...current, ttl: patch.ttl ?? null }, patch, ROUTE53_RECORD_TYPES, DRIVER_NAME);
      const presentation = toPresentation(value.type, value.data, value.priority);
      const rest = rrset.values.filter((_, i) => i !== index);
      if (value.name === current.name && value.type === current.type) {
        const ttl = value.ttl ?? rrset.ttl ?? 300;
        await change(zoneId, rewrite(domain, rrset, value.name, value.type, ttl, rrset.values.map((v, i) => (i === index ? presentation : v))));
        return recordFrom(bareZoneId(zoneId), domain, value, ttl);
      }
      // why: moving a value to another name or type changes two record sets; one batch does both or neither
      const target = await loadRrset(zoneId, value.name, value.type);
      if (target.special.length) throw readOnly();
      const ttl = value.ttl ?? target.rrset?.ttl ?? rrset.ttl ?? 300;
      await change(zoneId, [
        ...rewrite(domain, rrset, current.name, current.type, rrset.ttl ?? 300, rest),
        ...rewrite(domain, target.rrset, value.name, value.type, ttl, [...(target.rrset?.values ?? []), presentation]),
      ]);
      return recordFrom(bareZoneId(zoneId), domain, value, ttl);
    },

    async deleteRecord(zoneId, recordId) {
      const { parts, domain, rrset, index } = await findValue(zoneId, recordId);
      if (rrset.special) throw readOnly();
      if (parts.type === 'SOA') throw new UnsupportedError('the SOA record of a hosted zone cannot be deleted', { provider: DRIVER_NAME });
      await change(zoneId, rewrite(domain, rrset, parts.name, parts.type, rrset.ttl ?? 300, rrset.values.filter((_, i) => i !== index)));
    },
  };
}

// --- Internal helpers ---

/** `/hostedzone/Z123` -> `Z123`. */
function bareZoneId(id: string): string {
  return String(id).replace(/^\/?hostedzone\//, '');
}

function nameServersOf(body: Xml): string[] {
  return xmlList<string>(((body.DelegationSet as Xml | undefined)?.NameServers as Xml | undefined)?.NameServer);
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Route 53 escapes characters outside [a-z0-9-_.] as `\NNN` (octal) in names: `\052` is `*`. */
function decodeName(name: string): string {
  return name.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))).replace(/\.$/, '').toLowerCase();
}

function toRrset(x: Xml): Rrset {
  const name = text(x.Name);
  const type = text(x.Type);
  if (name === undefined || type === undefined) throw new MalformedResponseError('a ResourceRecordSet without Name or Type', { provider: DRIVER_NAME });
  const values = xmlList<Xml>((x.ResourceRecords as Xml | undefined)?.ResourceRecord).map((r) => String(r.Value ?? ''));
  const alias = x.AliasTarget as Xml | undefined;
  return {
    name: `${decodeName(name)}.`,
    type,
    ttl: text(x.TTL) === undefined ? null : Number(x.TTL),
    values: alias ? [String(alias.DNSName ?? '')] : values,
    raw: x,
    special: alias !== undefined || x.SetIdentifier !== undefined,
  };
}

function toRecords(zoneId: string, domain: string, s: Rrset): DnsRecord[] {
  const name = relativeName(s.name, domain);
  const extra: Record<string, unknown> = {};
  const raw = s.raw;
  if (raw.AliasTarget) {
    const a = raw.AliasTarget as Xml;
    extra.aliasTarget = { hostedZoneId: a.HostedZoneId, dnsName: a.DNSName, evaluateTargetHealth: a.EvaluateTargetHealth === 'true' };
  }
  for (const key of ['SetIdentifier', 'Weight', 'Region', 'Failover', 'MultiValueAnswer', 'HealthCheckId'] as const) {
    if (raw[key] !== undefined) extra[key[0]!.toLowerCase() + key.slice(1)] = raw[key];
  }
  return s.values.map((v) => {
    const { data, priority } = raw.AliasTarget ? { data: v.replace(/\.$/, '').toLowerCase(), priority: null } : fromPresentation(s.type, v);
    return { id: encodeRrsetId(name, s.type, data, priority), zoneId, name, type: s.type as RecordType, data, ttl: s.ttl, priority, extra: { ...extra } };
  });
}

function toZone(z: Xml, nameServers: string[] | undefined): Zone {
  const id = text(z.Id);
  if (id === undefined) throw new MalformedResponseError('a HostedZone without Id', { provider: DRIVER_NAME });
  const config = (z.Config ?? {}) as Xml;
  return {
    id: bareZoneId(id),
    domain: decodeName(text(z.Name) ?? ''),
    type: 'master',
    // why: Route 53 has no zone-wide default TTL; every record set carries its own
    ttl: null,
    extra: {
      callerReference: text(z.CallerReference) ?? null,
      comment: text(config.Comment) ?? null,
      privateZone: config.PrivateZone === 'true',
      recordSetCount: text(z.ResourceRecordSetCount) === undefined ? null : Number(z.ResourceRecordSetCount),
      ...(nameServers ? { nameServers } : {}),
    },
  };
}

/** One `<Change>`; a DELETE of a read record set echoes it exactly (raw), as Route 53 requires. */
function changeXml(action: 'CREATE' | 'DELETE', s: { name: string; type: string; ttl: number | null; values: string[]; raw?: Xml }): string {
  const raw = s.raw ?? {};
  let inner = `<Name>${escapeXml(s.name)}</Name><Type>${escapeXml(s.type)}</Type>`;
  for (const key of ['SetIdentifier', 'Weight', 'Region', 'Failover', 'MultiValueAnswer']) if (raw[key] !== undefined) inner += `<${key}>${escapeXml(String(raw[key]))}</${key}>`;
  if (raw.AliasTarget) {
    const a = raw.AliasTarget as Xml;
    inner += `<AliasTarget><HostedZoneId>${escapeXml(String(a.HostedZoneId))}</HostedZoneId><DNSName>${escapeXml(String(a.DNSName))}</DNSName><EvaluateTargetHealth>${escapeXml(String(a.EvaluateTargetHealth))}</EvaluateTargetHealth></AliasTarget>`;
  } else {
    if (s.ttl !== null) inner += `<TTL>${s.ttl}</TTL>`;
    inner += `<ResourceRecords>${s.values.map((v) => `<ResourceRecord><Value>${escapeXml(v)}</Value></ResourceRecord>`).join('')}</ResourceRecords>`;
  }
  if (raw.HealthCheckId !== undefined) inner += `<HealthCheckId>${escapeXml(String(raw.HealthCheckId))}</HealthCheckId>`;
  return `<Change><Action>${action}</Action><ResourceRecordSet>${inner}</ResourceRecordSet></Change>`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
