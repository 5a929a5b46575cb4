/**
 * Cloud DNS v1 stand-in: managed zones (created with Google's SOA and NS, deleted only when they
 * hold nothing else: 400 containerNotEmpty), resource record sets listed with name/type filters
 * and pageToken paging, and changes applied all-or-nothing with Cloud DNS's rules: a deletion
 * must match the rrset exactly (412 conditionNotMet) and exist (404), an addition must not exist
 * (409 alreadyExists), a CNAME stands alone, the apex SOA and NS stay. rrdatas are checked in
 * presentation form (quoted TXT, trailing dots on host names). A change is `pending`, then `done`.
 * Seeds and error bodies come from fixtures/google-dns.
 *
 * https://cloud.google.com/dns/docs/reference/rest/v1
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { REPO_ROOT } from '../replay-server.ts';
import { Fault, fixture, googleError, json, onlyKeys, onlyQuery, page, requireJson, violation, type GoogleRoutes, type Json } from './core.ts';
import { TEST_PROJECT } from './token.ts';

const P = `/dns/v1/projects/${TEST_PROJECT}`;
const ZONE_NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const TYPES = ['A', 'AAAA', 'CAA', 'CNAME', 'DNSKEY', 'DS', 'HTTPS', 'IPSECKEY', 'MX', 'NAPTR', 'NS', 'PTR', 'SOA', 'SPF', 'SRV', 'SSHFP', 'SVCB', 'TLSA', 'TXT'];
const RRSET_KEYS = ['kind', 'name', 'type', 'ttl', 'rrdatas', 'signatureRrdatas', 'routingPolicy'];
const ZONE_KEYS = ['kind', 'name', 'dnsName', 'description', 'visibility', 'labels', 'dnssecConfig', 'privateVisibilityConfig', 'cloudLoggingConfig'];
const QUOTED = /^"(?:[^"\\]|\\.)*"(?:\s+"(?:[^"\\]|\\.)*")*$/;

export interface DnsZoneState {
  resource: Json;
  rrsets: Json[];
}

export interface DnsState {
  /** by managed zone name */
  zones: Map<string, DnsZoneState>;
  /** every change applied, in order, with its status (pending, then done) */
  changes: { zone: string; id: string; deletions: Json[]; additions: Json[]; status: string }[];
}

export function installDns(routes: GoogleRoutes, opts: { maxResults: number; transitionMs: number }): DnsState {
  const { route, later } = routes;
  const state: DnsState = { zones: new Map(), changes: [] };
  for (const z of fixture<{ managedZones: Json[] }>('google-dns/managed-zones.json').managedZones) {
    state.zones.set(z.name as string, { resource: z, rrsets: fixture<{ rrsets: Json[] }>(`google-dns/rrsets-${z.name as string}.json`).rrsets });
  }

  const zoneOf = (ref: string) => {
    const key = decodeURIComponent(ref);
    const z = state.zones.get(key) ?? [...state.zones.values()].find((v) => v.resource.id === key);
    if (!z) throw googleError(404, 'notFound', `The 'parameters.managedZone' resource named '${key}' does not exist.`);
    return z;
  };
  const errorFixture = (file: string, replace: Record<string, string>): Fault => {
    let text = readFileSync(resolve(REPO_ROOT, 'fixtures/google-dns', file), 'utf8');
    for (const [from, to] of Object.entries(replace)) text = text.split(from).join(to);
    const body = JSON.parse(text) as { error: { code: number } };
    return new Fault(body.error.code, body);
  };

  // https://cloud.google.com/dns/docs/reference/rest/v1/managedZones/list
  route('GET', new RegExp(`^${P}/managedZones$`), (req) => {
    onlyQuery(req.query, ['maxResults', 'pageToken', 'dnsName'], 'managedZones.list');
    const dnsName = req.query.get('dnsName');
    const all = [...state.zones.values()].map((z) => z.resource).filter((z) => dnsName === null || z.dnsName === dnsName);
    const { items, nextPageToken } = page(all, req.query, opts.maxResults);
    return json(200, { kind: 'dns#managedZonesListResponse', managedZones: items, ...(nextPageToken ? { nextPageToken } : {}) });
  });

  // https://cloud.google.com/dns/docs/reference/rest/v1/managedZones/create
  route('POST', new RegExp(`^${P}/managedZones$`), (req) => {
    onlyQuery(req.query, [], 'managedZones.create');
    const body = requireJson(req);
    onlyKeys(body, ZONE_KEYS, 'managedZone');
    const { name, dnsName, description, visibility } = body;
    if (typeof name !== 'string' || !ZONE_NAME.test(name)) throw violation(`Invalid value for 'entity.managedZone.name': '${String(name)}'`);
    if (typeof dnsName !== 'string' || !dnsName.endsWith('.') || dnsName.length < 3) throw violation(`Invalid value for 'entity.managedZone.dnsName': '${String(dnsName)}'`);
    if (typeof description !== 'string' || description.length > 1024) throw violation("The 'entity.managedZone.description' parameter is required but was missing.");
    if (visibility !== undefined && visibility !== 'public') throw violation('only public zones are made here');
    if (state.zones.has(name)) throw googleError(409, 'alreadyExists', `The resource 'entity.managedZone' named '${name}' already exists`);
    const letter = 'bcdef'[randomInt(5)]!;
    const nameServers = [1, 2, 3, 4].map((i) => `ns-cloud-${letter}${i}.googledomains.com.`);
    const resource: Json = {
      kind: 'dns#managedZone',
      name,
      dnsName,
      description,
      id: String(randomInt(1e9, 9e9)) + String(randomInt(1e9, 9e9)),
      nameServers,
      creationTime: new Date().toISOString(),
      visibility: 'public',
      ...(body.labels ? { labels: body.labels } : {}),
      cloudLoggingConfig: { kind: 'dns#managedZoneCloudLoggingConfig' },
    };
    state.zones.set(name, {
      resource,
      rrsets: [
        { kind: 'dns#resourceRecordSet', name: dnsName, type: 'NS', ttl: 21600, rrdatas: nameServers },
        { kind: 'dns#resourceRecordSet', name: dnsName, type: 'SOA', ttl: 21600, rrdatas: [`${nameServers[0]!} cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300`] },
      ],
    });
    return json(200, resource);
  });

  // https://cloud.google.com/dns/docs/reference/rest/v1/managedZones/get
  route('GET', new RegExp(`^${P}/managedZones/([^/]+)$`), (req, m) => {
    onlyQuery(req.query, [], 'managedZones.get');
    return json(200, zoneOf(m[1]!).resource);
  });

  // https://cloud.google.com/dns/docs/reference/rest/v1/managedZones/delete
  route('DELETE', new RegExp(`^${P}/managedZones/([^/]+)$`), (req, m) => {
    onlyQuery(req.query, [], 'managedZones.delete');
    const z = zoneOf(m[1]!);
    const apex = z.resource.dnsName as string;
    if (z.rrsets.some((r) => !(eqName(r.name, apex) && (r.type === 'SOA' || r.type === 'NS')))) {
      throw errorFixture('error-container-not-empty.json', { "'example-com'": `'${z.resource.name as string}'` });
    }
    state.zones.delete(z.resource.name as string);
    return { status: 204, headers: {}, body: '' };
  });

  // https://cloud.google.com/dns/docs/reference/rest/v1/resourceRecordSets/list
  route('GET', new RegExp(`^${P}/managedZones/([^/]+)/rrsets$`), (req, m) => {
    onlyQuery(req.query, ['maxResults', 'pageToken', 'name', 'type'], 'resourceRecordSets.list');
    const z = zoneOf(m[1]!);
    const name = req.query.get('name');
    const type = req.query.get('type');
    if (type !== null && name === null) throw violation("type needs name: 'If present, the \"name\" parameter must also be present.'");
    if (name !== null && !name.endsWith('.')) throw violation(`name must be fully qualified with the trailing dot, got ${name}`);
    const all = z.rrsets.filter((r) => (name === null || eqName(r.name, name)) && (type === null || r.type === type));
    const { items, nextPageToken } = page(all, req.query, opts.maxResults);
    return json(200, { kind: 'dns#resourceRecordSetsListResponse', rrsets: items, ...(nextPageToken ? { nextPageToken } : {}) });
  });

  // https://cloud.google.com/dns/docs/reference/rest/v1/changes/create
  route('POST', new RegExp(`^${P}/managedZones/([^/]+)/changes$`), (req, m) => {
    onlyQuery(req.query, [], 'changes.create');
    const z = zoneOf(m[1]!);
    const body = requireJson(req);
    onlyKeys(body, ['kind', 'additions', 'deletions'], 'change');
    const deletions = rrsetList(body.deletions, 'deletions');
    const additions = rrsetList(body.additions, 'additions');
    if (deletions.length === 0 && additions.length === 0) throw violation('a change must add or delete something');
    const apex = z.resource.dnsName as string;
    const working = [...z.rrsets];
    deletions.forEach((d, i) => {
      checkRrset(d, apex, `deletions[${i}]`, false);
      const at = working.findIndex((r) => eqName(r.name, d.name) && r.type === d.type);
      if (at < 0) throw googleError(404, 'notFound', `The resource 'entity.change.deletions[${i}]' named '${String(d.name)} (${String(d.type)})' does not exist.`);
      if (!sameRrset(working[at]!, d)) throw errorFixture('error-condition-not-met.json', { 'deletions[0]': `deletions[${i}]` });
      working.splice(at, 1);
    });
    additions.forEach((a, i) => {
      checkRrset(a, apex, `additions[${i}]`, true);
      if (working.some((r) => eqName(r.name, a.name) && r.type === a.type)) {
        throw googleError(409, 'alreadyExists', `The resource 'entity.change.additions[${i}]' named '${String(a.name)} (${String(a.type)})' already exists`);
      }
      working.push({ kind: 'dns#resourceRecordSet', ...a });
    });
    for (const type of ['SOA', 'NS']) {
      if (!working.some((r) => eqName(r.name, apex) && r.type === type)) throw googleError(400, 'invalid', `The ${type} record set at the apex of '${apex}' cannot be deleted`);
    }
    for (const c of working.filter((r) => r.type === 'CNAME')) {
      if (working.some((r) => r !== c && eqName(r.name, c.name))) throw googleError(400, 'cnameResourceRecordSetConflict', `The resource record set 'entity.change.additions' named '${String(c.name)} (CNAME)' is invalid because a CNAME cannot coexist with other record types at the same name`);
    }
    z.rrsets = working;
    const change = { zone: z.resource.name as string, id: String(state.changes.length + 1), deletions, additions, status: 'pending' };
    state.changes.push(change);
    later(() => (change.status = 'done'), opts.transitionMs);
    return json(200, { kind: 'dns#change', id: change.id, startTime: new Date().toISOString(), status: 'pending', additions, deletions });
  });

  return state;
}

// --- Internal helpers ---

function eqName(a: unknown, b: unknown): boolean {
  return String(a).toLowerCase() === String(b).toLowerCase();
}

function rrsetList(v: unknown, field: string): Json[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((r) => r && typeof r === 'object' && !Array.isArray(r))) throw violation(`${field} must be a list of resource record sets`);
  return v as Json[];
}

/** Exact match of a deletion against the stored rrset: TTL, rrdatas (any order), routing policy. */
function sameRrset(stored: Json, deletion: Json): boolean {
  const sorted = (r: Json) => [...((r.rrdatas as string[] | undefined) ?? [])].sort();
  return stored.ttl === deletion.ttl && JSON.stringify(sorted(stored)) === JSON.stringify(sorted(deletion)) && JSON.stringify(stored.routingPolicy ?? null) === JSON.stringify(deletion.routingPolicy ?? null);
}

function checkRrset(r: Json, apex: string, where: string, addition: boolean): void {
  onlyKeys(r, RRSET_KEYS, where);
  const { name, type, ttl, rrdatas } = r;
  if (r.kind !== undefined && r.kind !== 'dns#resourceRecordSet') throw violation(`${where}: kind must be dns#resourceRecordSet`);
  if (typeof name !== 'string' || !name.endsWith('.')) throw violation(`${where}: name must be fully qualified with the trailing dot`);
  if (!(eqName(name, apex) || name.toLowerCase().endsWith(`.${apex.toLowerCase()}`))) throw violation(`${where}: ${name} is not in the zone ${apex}`);
  if (typeof type !== 'string' || !TYPES.includes(type)) throw violation(`${where}: unknown type ${String(type)}`);
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0) throw violation(`${where}: ttl must be a non-negative integer`);
  if (!addition) return;
  if (!Array.isArray(rrdatas) || rrdatas.length === 0 || !rrdatas.every((d) => typeof d === 'string')) throw violation(`${where}: rrdatas must be a non-empty list of strings`);
  if (new Set(rrdatas).size !== rrdatas.length) throw googleError(400, 'invalid', `The resource record set 'entity.change.${where}' has duplicate rrdatas`);
  if (type === 'CNAME' && rrdatas.length > 1) throw googleError(400, 'invalid', `The resource record set 'entity.change.${where}' of type CNAME may hold one rrdata`);
  (rrdatas as string[]).forEach((d, i) => {
    if (!validRrdata(type, d)) throw googleError(400, 'invalid', `Invalid value for 'entity.change.${where}.rrdata[${i}]': '${d}'`);
  });
}

/** The presentation forms Cloud DNS takes; TXT must come quoted, in strings of at most 255 bytes. */
function validRrdata(type: string, d: string): boolean {
  const host = (h: string | undefined) => h !== undefined && h.endsWith('.') && /^([a-z0-9_*-]+\.)+$|^\.$/i.test(h);
  switch (type) {
    case 'A':
      return isIP(d) === 4;
    case 'AAAA':
      return isIP(d) === 6;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return host(d);
    case 'MX': {
      const [pref, exchange, ...rest] = d.split(' ');
      return rest.length === 0 && /^\d{1,5}$/.test(pref ?? '') && host(exchange);
    }
    case 'SRV': {
      const parts = d.split(' ');
      return parts.length === 4 && parts.slice(0, 3).every((p) => /^\d{1,5}$/.test(p)) && host(parts[3]);
    }
    case 'TXT':
    case 'SPF':
      return QUOTED.test(d) && [...d.matchAll(/"((?:[^"\\]|\\.)*)"/g)].every((s) => Buffer.byteLength(s[1]!.replace(/\\(\d{3}|.)/g, 'x')) <= 255);
    default:
      return d.trim() !== '' && !/[\r\n]/.test(d);
  }
}
