/**
 * A stateful Route 53 (REST XML API 2013-04-01) stand-in on 127.0.0.1, on the replay server:
 * every request must carry a valid SigV4 signature (signing name route53, region us-east-1),
 * query parameters and bodies are checked against the API reference, change batches are
 * applied all-or-nothing with Route 53's rules (a DELETE names the record set exactly, CREATE
 * refuses an existing one, a CNAME stands alone, the apex SOA and NS stay), and lists page with
 * Marker / NextRecordName+NextRecordType. Seeds and error bodies come from fixtures/route53.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseXml, xmlList } from '../../src/providers/http/parsers/xml.ts';
import { verifyAwsV4 } from './aws-verify.ts';
import { REPO_ROOT, startReplayServer, type ReplayRequest } from './replay-server.ts';

export const ROUTE53_TEST_CREDENTIALS = { accessKeyId: 'AKIDR53TESTEXAMPLE01', secretAccessKey: 'r53TestSecret/K7MDENG+bPxRfiCYzEXAMPLEKEY' };
export const EXAMPLE_ZONE_ID = 'Z1D633PJN98FT9';

type Xml = Record<string, unknown>;
/** A stored record set. `values` holds ResourceRecord Values as sent. */
export interface StoredRrset {
  name: string;
  type: string;
  ttl?: string | undefined;
  values: string[];
  extra: Xml;
}
export interface StoredZone {
  id: string;
  name: string;
  callerReference: string;
  comment: string;
  privateZone: boolean;
  rrsets: StoredRrset[];
}

export interface Route53ServerOptions {
  /** the most ListResourceRecordSets answers per page, whatever maxitems asks (default 300) */
  maxRecordPage?: number;
  /** the most ListHostedZones answers per page (default 100) */
  maxZonePage?: number;
}

export interface Route53TestServer {
  url: string;
  requests: ReplayRequest[];
  failures: string[];
  zones: Map<string, StoredZone>;
  /** ChangeResourceRecordSets batches received (parsed Change elements) */
  batches: { zoneId: string; changes: { action: string; rrset: StoredRrset }[] }[];
  /** answers the next requests with Route 53's Throttling (400) */
  throttleNext(count: number): void;
  close(): Promise<void>;
}

const API = '/2013-04-01';
const XMLNS = 'https://route53.amazonaws.com/doc/2013-04-01/';
const NS = ['ns-1.awsdns-01.com.', 'ns-2.awsdns-02.net.', 'ns-3.awsdns-03.org.', 'ns-4.awsdns-04.co.uk.'];

class Fault extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly violation = false,
  ) {
    super(body);
  }
}

export async function startRoute53Server(opts: Route53ServerOptions = {}): Promise<Route53TestServer> {
  const maxRecordPage = opts.maxRecordPage ?? 300;
  const maxZonePage = opts.maxZonePage ?? 100;
  const replay = await startReplayServer();
  const zones = new Map<string, StoredZone>();
  const batches: Route53TestServer['batches'] = [];
  let throttled = 0;
  seed(zones);

  const fixture = (name: string, vars: Record<string, string> = {}) =>
    readFileSync(resolve(REPO_ROOT, 'fixtures/route53', name), 'utf8').replace(/\{(\w+)\}/g, (_, k: string) => escapeXml(vars[k] ?? (k === 'requestId' ? randomUUID() : '')));
  const violation = (message: string) => new Fault(400, errorXml('InvalidInput', message), true);
  const noZone = (id: string) => new Fault(404, fixture('no-such-hosted-zone.xml', { id }));
  const badBatch = (message: string) => new Fault(400, fixture('invalid-change-batch.xml', { message }));
  const zoneOf = (id: string) => zones.get(decodeURIComponent(id)) ?? (() => { throw noZone(decodeURIComponent(id)); })();

  const route = (method: string, path: RegExp, handle: (req: ReplayRequest, m: RegExpExecArray) => { status?: number; body: string; headers?: Record<string, string> }) => {
    replay.route({
      method,
      path,
      body(req) {
        const reply = (status: number, body: string, headers: Record<string, string> = {}) => ({ status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID(), ...headers }, body });
        const verified = verifyAwsV4(
          { method: req.method, path: req.path, query: req.query, headers: req.headers, bodySha256Hex: createHash('sha256').update(req.body).digest('hex') },
          (id) => (id === ROUTE53_TEST_CREDENTIALS.accessKeyId ? ROUTE53_TEST_CREDENTIALS.secretAccessKey : undefined),
          new Date(),
          { region: 'us-east-1', service: 'route53' },
        );
        if (!verified.ok) {
          if (verified.reason !== 'signature mismatch' && verified.reason !== 'unknown access key id') replay.failures.push(`${req.method} ${req.path}: ${verified.reason}`);
          return reply(403, fixture('signature-does-not-match.xml'));
        }
        if (throttled > 0) {
          throttled--;
          return reply(400, fixture('throttling.xml'));
        }
        try {
          const out = handle(req, path.exec(req.path)!);
          return reply(out.status ?? 200, out.body, out.headers);
        } catch (err) {
          if (!(err instanceof Fault)) throw err;
          if (err.violation) replay.failures.push(`${req.method} ${req.path}: ${err.message}`);
          return reply(err.status, err.body);
        }
      },
    });
  };
  const onlyQuery = (req: ReplayRequest, allowed: string[]) => {
    for (const k of req.query.keys()) if (!allowed.includes(k)) throw violation(`unknown query parameter ${k}`);
  };
  const maxItems = (req: ReplayRequest, most: number) => {
    const raw = req.query.get('maxitems');
    if (raw !== null && !/^\d+$/.test(raw)) throw violation('maxitems must be an integer');
    return Math.min(raw === null ? most : Number(raw), most);
  };
  const body = (req: ReplayRequest, root: string): Xml => {
    if (!/xml/.test(req.headers['content-type'] ?? '')) throw violation('content-type must be XML');
    let doc: Xml;
    try {
      doc = parseXml(req.body.toString('utf8'), ['Change', 'ResourceRecord']);
    } catch {
      throw violation('body is not XML');
    }
    const el = doc[root] as Xml | undefined;
    if (!el || typeof el !== 'object') throw violation(`body must be a ${root} element`);
    if (el.xmlns !== XMLNS) throw violation(`${root} must be in namespace ${XMLNS}`);
    return el;
  };

  // https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZones.html
  route('GET', new RegExp(`^${API}/hostedzone$`), (req) => {
    onlyQuery(req, ['marker', 'maxitems']);
    const all = [...zones.values()];
    const marker = req.query.get('marker');
    const start = marker === null ? 0 : all.findIndex((z) => z.id === marker);
    if (start < 0) throw violation(`marker ${marker} names no hosted zone`);
    const limit = maxItems(req, maxZonePage);
    const page = all.slice(start, start + limit);
    const next = all[start + limit];
    return {
      body: `<?xml version="1.0"?><ListHostedZonesResponse xmlns="${XMLNS}"><HostedZones>${page.map(zoneXml).join('')}</HostedZones>` +
        `${marker === null ? '' : `<Marker>${marker}</Marker>`}<IsTruncated>${next ? 'true' : 'false'}</IsTruncated>${next ? `<NextMarker>${next.id}</NextMarker>` : ''}<MaxItems>${limit}</MaxItems></ListHostedZonesResponse>`,
    };
  });

  // https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html
  route('POST', new RegExp(`^${API}/hostedzone$`), (req) => {
    const el = body(req, 'CreateHostedZoneRequest');
    const name = str(el.Name);
    const ref = str(el.CallerReference);
    if (!name || !ref) throw violation('Name and CallerReference are required');
    for (const k of Object.keys(el)) if (!['xmlns', 'Name', 'CallerReference', 'HostedZoneConfig', 'VPC', 'DelegationSetId'].includes(k)) throw violation(`unknown element ${k}`);
    if ([...zones.values()].some((z) => z.callerReference === ref)) {
      return { status: 409, body: errorXml('HostedZoneAlreadyExists', `A hosted zone has already been created with the specified caller reference.`) };
    }
    const fqdn = name.endsWith('.') ? name.toLowerCase() : `${name.toLowerCase()}.`;
    const id = `Z${randomUUID().replace(/-/g, '').slice(0, 13).toUpperCase()}`;
    const zone: StoredZone = { id, name: fqdn, callerReference: ref, comment: str((el.HostedZoneConfig as Xml | undefined)?.Comment) ?? '', privateZone: false, rrsets: [] };
    zone.rrsets.push({ name: fqdn, type: 'NS', ttl: '172800', values: [...NS], extra: {} });
    zone.rrsets.push({ name: fqdn, type: 'SOA', ttl: '900', values: [`${NS[0]} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400`], extra: {} });
    zones.set(id, zone);
    return {
      status: 201,
      headers: { location: `https://route53.amazonaws.com${API}/hostedzone/${id}` },
      body: `<?xml version="1.0"?><CreateHostedZoneResponse xmlns="${XMLNS}">${zoneXml(zone)}${changeInfo()}<DelegationSet><NameServers>${NS.map((n) => `<NameServer>${n.replace(/\.$/, '')}</NameServer>`).join('')}</NameServers></DelegationSet></CreateHostedZoneResponse>`,
    };
  });

  // https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html
  route('GET', new RegExp(`^${API}/hostedzone/([^/]+)$`), (req, m) => {
    onlyQuery(req, []);
    const zone = zoneOf(m[1]!);
    return {
      body: `<?xml version="1.0"?><GetHostedZoneResponse xmlns="${XMLNS}">${zoneXml(zone)}<DelegationSet><NameServers>${NS.map((n) => `<NameServer>${n.replace(/\.$/, '')}</NameServer>`).join('')}</NameServers></DelegationSet></GetHostedZoneResponse>`,
    };
  });

  // https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteHostedZone.html
  route('DELETE', new RegExp(`^${API}/hostedzone/([^/]+)$`), (req, m) => {
    onlyQuery(req, []);
    const zone = zoneOf(m[1]!);
    if (zone.rrsets.some((r) => !(r.name === zone.name && (r.type === 'SOA' || r.type === 'NS')))) return { status: 400, body: fixture('hosted-zone-not-empty.xml') };
    zones.delete(zone.id);
    return { body: `<?xml version="1.0"?><DeleteHostedZoneResponse xmlns="${XMLNS}">${changeInfo()}</DeleteHostedZoneResponse>` };
  });

  // https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html
  route('GET', new RegExp(`^${API}/hostedzone/([^/]+)/rrset$`), (req, m) => {
    onlyQuery(req, ['name', 'type', 'identifier', 'maxitems']);
    const zone = zoneOf(m[1]!);
    const name = req.query.get('name');
    const type = req.query.get('type');
    if (type !== null && name === null) throw violation('type requires name');
    const sorted = [...zone.rrsets].sort(compareRrsets);
    let start = 0;
    if (name !== null) {
      const key = { name: name.toLowerCase().endsWith('.') ? name.toLowerCase() : `${name.toLowerCase()}.`, type: type ?? '' };
      start = sorted.findIndex((r) => compareRrsets(r, { ...key, values: [], extra: {} }) >= 0);
      if (start < 0) start = sorted.length;
      const identifier = req.query.get('identifier');
      if (identifier !== null) while (start < sorted.length && sorted[start]!.extra.SetIdentifier !== identifier && sorted[start]!.name === key.name) start++;
    }
    const limit = maxItems(req, maxRecordPage);
    const page = sorted.slice(start, start + limit);
    const next = sorted[start + limit];
    return {
      body: `<?xml version="1.0"?><ListResourceRecordSetsResponse xmlns="${XMLNS}"><ResourceRecordSets>${page.map(rrsetXml).join('')}</ResourceRecordSets>` +
        `<IsTruncated>${next ? 'true' : 'false'}</IsTruncated>` +
        (next ? `<NextRecordName>${escapeXml(next.name)}</NextRecordName><NextRecordType>${next.type}</NextRecordType>${next.extra.SetIdentifier ? `<NextRecordIdentifier>${escapeXml(String(next.extra.SetIdentifier))}</NextRecordIdentifier>` : ''}` : '') +
        `<MaxItems>${limit}</MaxItems></ListResourceRecordSetsResponse>`,
    };
  });

  // https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html
  route('POST', new RegExp(`^${API}/hostedzone/([^/]+)/rrset/?$`), (req, m) => {
    onlyQuery(req, []);
    const zone = zoneOf(m[1]!);
    const el = body(req, 'ChangeResourceRecordSetsRequest');
    const changes = xmlList<Xml>(((el.ChangeBatch as Xml | undefined)?.Changes as Xml | undefined)?.Change);
    if (changes.length === 0) throw violation('ChangeBatch.Changes must hold at least one Change');
    if (changes.length > 100) throw violation('at most 100 Change elements');
    const parsed = changes.map((c) => {
      const action = str(c.Action);
      if (action !== 'CREATE' && action !== 'DELETE' && action !== 'UPSERT') throw violation(`Action must be CREATE, DELETE or UPSERT`);
      return { action, rrset: parseRrset(c.ResourceRecordSet as Xml | undefined, zone, violation) };
    });
    batches.push({ zoneId: zone.id, changes: parsed });
    const next = structuredClone(zone.rrsets);
    for (const { action, rrset } of parsed) {
      const at = next.findIndex((r) => r.name === rrset.name && r.type === rrset.type && r.extra.SetIdentifier === rrset.extra.SetIdentifier);
      const label = `[name='${rrset.name}', type='${rrset.type}']`;
      if (action === 'DELETE') {
        if (at < 0) throw badBatch(`Tried to delete resource record set ${label} but it was not found`);
        if (!sameRrset(next[at]!, rrset)) throw badBatch(`Tried to delete resource record set ${label} but the values provided do not match the current values`);
        if (rrset.name === zone.name && (rrset.type === 'SOA' || rrset.type === 'NS')) throw badBatch(`A HostedZone must contain at least one NS record for the zone itself.`);
        next.splice(at, 1);
      } else {
        if (action === 'CREATE' && at >= 0) throw badBatch(`Tried to create resource record set ${label} but it already exists`);
        if (at >= 0) next.splice(at, 1);
        next.push(rrset);
      }
    }
    for (const r of next) {
      const others = next.filter((o) => o !== r && o.name === r.name);
      if (r.type === 'CNAME' && others.length) throw badBatch(`RRSet of type CNAME with DNS name ${r.name} is not permitted as it conflicts with other records with the same DNS name in zone ${zone.name}`);
    }
    zone.rrsets = next;
    return { body: `<?xml version="1.0"?><ChangeResourceRecordSetsResponse xmlns="${XMLNS}">${changeInfo()}</ChangeResourceRecordSetsResponse>` };
  });

  return {
    url: replay.url,
    requests: replay.requests,
    failures: replay.failures,
    zones,
    batches,
    throttleNext(count) {
      throttled = count;
    },
    close: () => replay.close(),
  };
}

// --- Internal helpers ---

function seed(zones: Map<string, StoredZone>): void {
  const root = parseXml(readFileSync(resolve(REPO_ROOT, 'fixtures/route53/list-hosted-zones.xml'), 'utf8'), ['HostedZone']).ListHostedZonesResponse as Xml;
  for (const z of xmlList<Xml>((root.HostedZones as Xml).HostedZone)) {
    const id = String(z.Id).replace('/hostedzone/', '');
    const config = z.Config as Xml;
    zones.set(id, { id, name: String(z.Name), callerReference: String(z.CallerReference), comment: str(config.Comment) ?? '', privateZone: config.PrivateZone === 'true', rrsets: [] });
  }
  const example = zones.get(EXAMPLE_ZONE_ID)!;
  const sets = parseXml(readFileSync(resolve(REPO_ROOT, 'fixtures/route53/list-resource-record-sets-example-com.xml'), 'utf8'), ['ResourceRecordSet', 'ResourceRecord'])
    .ListResourceRecordSetsResponse as Xml;
  for (const r of xmlList<Xml>((sets.ResourceRecordSets as Xml).ResourceRecordSet)) {
    example.rrsets.push(parseRrset(r, example, (m) => new Error(m)));
  }
  const internal = zones.get('Z3M3LMPEXAMPLE')!;
  internal.rrsets.push({ name: internal.name, type: 'NS', ttl: '172800', values: [...NS], extra: {} });
  internal.rrsets.push({ name: internal.name, type: 'SOA', ttl: '900', values: [`${NS[0]} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400`], extra: {} });
}

const RRSET_KEYS = ['Name', 'Type', 'TTL', 'ResourceRecords', 'AliasTarget', 'SetIdentifier', 'Weight', 'Region', 'Failover', 'MultiValueAnswer', 'HealthCheckId'];

function parseRrset(x: Xml | undefined, zone: StoredZone, violation: (m: string) => Error): StoredRrset {
  if (!x || typeof x !== 'object') throw violation('Change must hold a ResourceRecordSet');
  for (const k of Object.keys(x)) if (!RRSET_KEYS.includes(k)) throw violation(`unknown ResourceRecordSet element ${k}`);
  const rawName = str(x.Name);
  const type = str(x.Type);
  if (!rawName || !type) throw violation('ResourceRecordSet needs Name and Type');
  const name = (rawName.endsWith('.') ? rawName : `${rawName}.`).replace(/\\052/g, '*').toLowerCase();
  if (name !== zone.name && !name.endsWith(`.${zone.name}`)) throw violation(`${name} is not in zone ${zone.name}`);
  const extra: Xml = {};
  for (const k of ['SetIdentifier', 'Weight', 'Region', 'Failover', 'MultiValueAnswer', 'HealthCheckId', 'AliasTarget']) if (x[k] !== undefined) extra[k] = x[k];
  const values = xmlList<Xml>((x.ResourceRecords as Xml | undefined)?.ResourceRecord).map((r) => String(r.Value ?? ''));
  if (extra.AliasTarget === undefined) {
    if (!/^\d+$/.test(str(x.TTL) ?? '')) throw violation('TTL is required for a non-alias record set');
    if (values.length === 0) throw violation('ResourceRecords must hold at least one ResourceRecord');
  }
  return { name, type, ttl: str(x.TTL), values, extra };
}

function sameRrset(a: StoredRrset, b: StoredRrset): boolean {
  return a.ttl === b.ttl && JSON.stringify([...a.values].sort()) === JSON.stringify([...b.values].sort()) && JSON.stringify(a.extra) === JSON.stringify(b.extra);
}

/** Route 53 lists by name with labels reversed (com.example.www), then type. */
function compareRrsets(a: StoredRrset, b: StoredRrset): number {
  const key = (n: string) => n.replace(/\.$/, '').split('.').reverse().join('.');
  const ka = key(a.name);
  const kb = key(b.name);
  if (ka !== kb) return ka < kb ? -1 : 1;
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  return String(a.extra.SetIdentifier ?? '') < String(b.extra.SetIdentifier ?? '') ? -1 : String(a.extra.SetIdentifier ?? '') > String(b.extra.SetIdentifier ?? '') ? 1 : 0;
}

function zoneXml(z: StoredZone): string {
  return `<HostedZone><Id>/hostedzone/${z.id}</Id><Name>${escapeXml(z.name)}</Name><CallerReference>${escapeXml(z.callerReference)}</CallerReference>` +
    `<Config><Comment>${escapeXml(z.comment)}</Comment><PrivateZone>${z.privateZone}</PrivateZone></Config><ResourceRecordSetCount>${z.rrsets.length}</ResourceRecordSetCount></HostedZone>`;
}

function rrsetXml(r: StoredRrset): string {
  const name = r.name.replace(/\*/g, '\\052');
  let inner = `<Name>${escapeXml(name)}</Name><Type>${r.type}</Type>`;
  for (const k of ['SetIdentifier', 'Weight', 'Region', 'Failover', 'MultiValueAnswer']) if (r.extra[k] !== undefined) inner += `<${k}>${escapeXml(String(r.extra[k]))}</${k}>`;
  const alias = r.extra.AliasTarget as Xml | undefined;
  if (alias) {
    inner += `<AliasTarget><HostedZoneId>${escapeXml(String(alias.HostedZoneId))}</HostedZoneId><DNSName>${escapeXml(String(alias.DNSName))}</DNSName><EvaluateTargetHealth>${escapeXml(String(alias.EvaluateTargetHealth))}</EvaluateTargetHealth></AliasTarget>`;
  } else {
    inner += `<TTL>${r.ttl}</TTL><ResourceRecords>${r.values.map((v) => `<ResourceRecord><Value>${escapeXml(v)}</Value></ResourceRecord>`).join('')}</ResourceRecords>`;
  }
  if (r.extra.HealthCheckId !== undefined) inner += `<HealthCheckId>${escapeXml(String(r.extra.HealthCheckId))}</HealthCheckId>`;
  return `<ResourceRecordSet>${inner}</ResourceRecordSet>`;
}

function changeInfo(): string {
  return `<ChangeInfo><Id>/change/C${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}</Id><Status>PENDING</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo>`;
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
