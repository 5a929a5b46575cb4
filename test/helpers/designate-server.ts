/**
 * A stateful OpenStack Designate (DNS API v2) stand-in on 127.0.0.1, on the replay server, with
 * Keystone v3 password auth answering a catalog whose `dns` endpoint is this server. Every
 * request must carry the Keystone token (a wrong one is answered 401 as keystonemiddleware
 * does), bodies are checked against the API reference (recordset data in zone-file form: TXT
 * quoted, host names with their trailing dot), zones and recordsets go PENDING -> ACTIVE and a
 * deleted zone goes `transitionMs` after the call, lists page with limit/marker and
 * absolute `links.next`. Seeds and error bodies come from fixtures/designate.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { Fault, jsonRoutes } from './json-routes.ts';
import { OPENSTACK_TEST_TOKEN, addIdentityRoutes } from './openstack-server.ts';
import { REPO_ROOT, startReplayServer, type ReplayRequest } from './replay-server.ts';

type Json = Record<string, unknown>;

export const DESIGNATE_ZONE_ID = 'a86dba58-0043-4cc6-a1bb-69d5e86f3ca3';

export interface DesignateServerOptions {
  /** the most items one page holds, whatever limit asks (default 1000) */
  maxLimit?: number;
  /** how long PENDING lasts and a deleted zone stays (default 50 ms) */
  transitionMs?: number;
}

export interface DesignateTestServer {
  url: string;
  /** the Keystone v3 auth URL (`.../identity/v3`) */
  authUrl: string;
  requests: ReplayRequest[];
  failures: string[];
  zones: Map<string, Json>;
  recordsets: Map<string, Json[]>;
  close(): Promise<void>;
}

export async function startDesignateServer(opts: DesignateServerOptions = {}): Promise<DesignateTestServer> {
  const maxLimit = opts.maxLimit ?? 1000;
  const transitionMs = opts.transitionMs ?? 50;
  const replay = await startReplayServer();
  addIdentityRoutes(replay, [{ type: 'dns', name: 'designate', url: `${replay.url}/v2` }]);
  const fixture = <T>(name: string): T => JSON.parse(readFileSync(resolve(REPO_ROOT, 'fixtures/designate', name), 'utf8')) as T;
  const zones = new Map<string, Json>(fixture<{ zones: Json[] }>('zones.json').zones.map((z) => [String(z.id), z]));
  const recordsets = new Map<string, Json[]>([...zones.keys()].map((id) => [id, []]));
  recordsets.set(DESIGNATE_ZONE_ID, fixture<{ recordsets: Json[] }>('recordsets-example-org.json').recordsets);
  const timers: { at: number; run: () => void }[] = [];
  const later = (run: () => void) => timers.push({ at: Date.now() + transitionMs, run });
  const settle = () => {
    const now = Date.now();
    for (let i = 0; i < timers.length; ) {
      if (timers[i]!.at <= now) timers.splice(i, 1)[0]!.run();
      else i++;
    }
  };
  const violation = (message: string) => new Fault(400, { code: 400, type: 'invalid_object', message }, true);
  const bad = (message: string) => new Fault(400, { code: 400, type: 'invalid_object', message });
  const zoneOf = (id: string) => {
    settle();
    const z = zones.get(decodeURIComponent(id));
    if (!z) throw new Fault(404, fixture('zone-not-found.json'));
    return z;
  };
  const rsOf = (zoneId: string, id: string) => {
    const rs = recordsets.get(zoneId)!.find((r) => r.id === decodeURIComponent(id));
    if (!rs) throw new Fault(404, fixture('recordset-not-found.json'));
    return rs;
  };
  const pending = (o: Json, action: string) => {
    Object.assign(o, { status: 'PENDING', action });
    later(() => Object.assign(o, { status: 'ACTIVE', action: 'NONE' }));
  };

  const route = jsonRoutes(replay, {
    authHeader: 'x-auth-token',
    authHeaderName: 'X-Auth-Token',
    authValue: OPENSTACK_TEST_TOKEN,
    unauthorized: () => ({ code: 401, type: 'unauthorized', message: 'The request you have made requires authentication.' }),
    headers: () => ({ 'content-type': 'application/json', 'x-openstack-request-id': `req-${randomUUID()}` }),
  });
  const jsonBody = (req: ReplayRequest, allowed: string[]): Json => {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw violation('content-type must be application/json');
    const parsed = JSON.parse(req.body.toString('utf8')) as Json;
    for (const k of Object.keys(parsed)) if (!allowed.includes(k)) throw violation(`Additional properties are not allowed ('${k}' was unexpected)`);
    return parsed;
  };
  const page = (req: ReplayRequest, all: Json[], path: string, filters: string[]) => {
    for (const k of req.query.keys()) if (!['limit', 'marker', 'sort_key', 'sort_dir', ...filters].includes(k)) throw violation(`unknown query parameter ${k}`);
    let items = all;
    for (const f of filters) {
      const v = req.query.get(f);
      if (v !== null) items = items.filter((x) => String(x[f]).toLowerCase() === v.toLowerCase());
    }
    const limit = Math.min(Number(req.query.get('limit') ?? maxLimit), maxLimit);
    const marker = req.query.get('marker');
    const start = marker === null ? 0 : items.findIndex((x) => x.id === marker) + 1;
    if (marker !== null && start === 0) throw bad(`Marker ${marker} could not be found`);
    const slice = items.slice(start, start + limit);
    const more = start + limit < items.length;
    const links: Json = { self: `${replay.url}${path}` };
    if (more) links.next = `https://dns.example.invalid:9001${path}?limit=${limit}&marker=${String(slice.at(-1)!.id)}`;
    return { slice, links, metadata: { total_count: items.length } };
  };
  const checkRecords = (type: string, records: unknown) => {
    if (!Array.isArray(records) || records.length === 0 || !records.every((r) => typeof r === 'string')) throw violation('records must be a non-empty list of strings');
    for (const r of records as string[]) {
      if (type === 'A' && isIP(r) !== 4) throw bad(`u'${r}' is not a 'ipv4'`);
      if (type === 'AAAA' && isIP(r) !== 6) throw bad(`u'${r}' is not a 'ipv6'`);
      if (['CNAME', 'NS', 'PTR'].includes(type) && !r.endsWith('.')) throw violation(`${type} data must be a fully qualified name with its trailing dot`);
      if (type === 'MX' && !/^\d+ \S+\.$/.test(r)) throw violation('MX data must be "priority host."');
      if (type === 'SRV' && !/^\d+ \d+ \d+ \S+\.$/.test(r)) throw violation('SRV data must be "priority weight port target."');
      if ((type === 'TXT' || type === 'SPF') && !/^".*"$/.test(r)) throw bad('TXT record is missing a quote');
    }
  };

  // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#list-zones
  route('GET', /^\/v2\/zones$/, (req) => {
    settle();
    const { slice, links, metadata } = page(req, [...zones.values()], '/v2/zones', ['name', 'type', 'status']);
    return { body: { zones: slice, links, metadata } };
  });
  // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#create-zone
  route('POST', /^\/v2\/zones$/, (req) => {
    const b = jsonBody(req, ['name', 'email', 'ttl', 'description', 'type', 'masters', 'attributes']);
    if (typeof b.name !== 'string' || !b.name.endsWith('.')) throw bad('name must be a fully qualified zone name with its trailing dot');
    const type = b.type ?? 'PRIMARY';
    if (type === 'PRIMARY' && typeof b.email !== 'string') throw bad('email is required for PRIMARY zones');
    if (type === 'SECONDARY' && !(Array.isArray(b.masters) && b.masters.length)) throw bad('masters are required for SECONDARY zones');
    if ([...zones.values()].some((z) => z.name === b.name)) throw new Fault(409, fixture('duplicate-zone.json'));
    const id = randomUUID();
    const zone: Json = {
      id, pool_id: '572ba08c-d929-4c70-8e42-03824bb24ca2', project_id: '4335d1f0-f793-11e2-b778-0800200c9a66', name: b.name, email: b.email ?? null, ttl: b.ttl ?? 3600,
      serial: Math.floor(Date.now() / 1000), status: 'PENDING', action: 'CREATE', description: b.description ?? null, masters: b.masters ?? [], type, version: 1,
      created_at: new Date().toISOString(), updated_at: null, attributes: {}, links: { self: `${replay.url}/v2/zones/${id}` },
    };
    pending(zone, 'CREATE');
    zones.set(id, zone);
    const base = { zone_id: id, zone_name: b.name, ttl: null, status: 'ACTIVE', action: 'NONE', description: null, version: 1, created_at: zone.created_at, updated_at: null };
    recordsets.set(id, type === 'PRIMARY' ? [
      { id: randomUUID(), name: b.name, type: 'SOA', records: [`ns1.example.net. ${String(b.email).replace('@', '.')}. ${String(zone.serial)} 3600 600 86400 3600`], ...base },
      { id: randomUUID(), name: b.name, type: 'NS', records: ['ns1.example.net.', 'ns2.example.net.'], ...base },
    ] : []);
    return { status: 202, body: zone };
  });
  route('GET', /^\/v2\/zones\/([^/]+)$/, (_req, m) => ({ body: zoneOf(m[1]!) }));
  // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#update-a-zone
  route('PATCH', /^\/v2\/zones\/([^/]+)$/, (req, m) => {
    const zone = zoneOf(m[1]!);
    const b = jsonBody(req, ['email', 'ttl', 'description', 'masters']);
    if (b.masters !== undefined && zone.type !== 'SECONDARY') throw bad('masters can only be set on SECONDARY zones');
    Object.assign(zone, b, { serial: Number(zone.serial) + 1, version: Number(zone.version) + 1, updated_at: new Date().toISOString() });
    pending(zone, 'UPDATE');
    return { status: 202, body: zone };
  });
  // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#delete-a-zone
  route('DELETE', /^\/v2\/zones\/([^/]+)$/, (_req, m) => {
    const zone = zoneOf(m[1]!);
    Object.assign(zone, { status: 'PENDING', action: 'DELETE' });
    later(() => {
      zones.delete(String(zone.id));
      recordsets.delete(String(zone.id));
    });
    return { status: 202, body: zone };
  });
  // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#list-recordsets-in-a-zone
  route('GET', /^\/v2\/zones\/([^/]+)\/recordsets$/, (req, m) => {
    const zone = zoneOf(m[1]!);
    const { slice, links, metadata } = page(req, recordsets.get(String(zone.id))!, `/v2/zones/${String(zone.id)}/recordsets`, ['name', 'type', 'status']);
    return { body: { recordsets: slice, links, metadata } };
  });
  // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#create-recordset
  route('POST', /^\/v2\/zones\/([^/]+)\/recordsets$/, (req, m) => {
    const zone = zoneOf(m[1]!);
    const b = jsonBody(req, ['name', 'type', 'records', 'ttl', 'description']);
    if (typeof b.name !== 'string' || !(b.name === zone.name || b.name.endsWith(`.${String(zone.name)}`))) throw bad('name must be a fully qualified name in the zone, with its trailing dot');
    if (typeof b.type !== 'string') throw violation('type is required');
    checkRecords(b.type, b.records);
    const sets = recordsets.get(String(zone.id))!;
    if (sets.some((r) => r.name === b.name && r.type === b.type)) throw new Fault(409, fixture('duplicate-recordset.json'));
    if ((b.type === 'CNAME' && sets.some((r) => r.name === b.name)) || sets.some((r) => r.name === b.name && r.type === 'CNAME')) throw bad('CNAME recordsets may not share a name with any other records');
    const rs: Json = { id: randomUUID(), zone_id: zone.id, zone_name: zone.name, name: b.name, type: b.type, records: b.records, ttl: b.ttl ?? null, description: b.description ?? null, version: 1, created_at: new Date().toISOString(), updated_at: null };
    pending(rs, 'CREATE');
    sets.push(rs);
    return { status: 202, body: rs };
  });
  route('GET', /^\/v2\/zones\/([^/]+)\/recordsets\/([^/]+)$/, (_req, m) => ({ body: rsOf(String(zoneOf(m[1]!).id), m[2]!) }));
  // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#update-a-recordset
  route('PUT', /^\/v2\/zones\/([^/]+)\/recordsets\/([^/]+)$/, (req, m) => {
    const rs = rsOf(String(zoneOf(m[1]!).id), m[2]!);
    const b = jsonBody(req, ['records', 'ttl', 'description']);
    if (rs.type === 'SOA') throw bad('Managed records may not be updated');
    if (b.records !== undefined) checkRecords(String(rs.type), b.records);
    Object.assign(rs, b, { version: Number(rs.version) + 1, updated_at: new Date().toISOString() });
    pending(rs, 'UPDATE');
    return { status: 202, body: rs };
  });
  // https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html#delete-a-recordset
  route('DELETE', /^\/v2\/zones\/([^/]+)\/recordsets\/([^/]+)$/, (_req, m) => {
    const zone = zoneOf(m[1]!);
    const rs = rsOf(String(zone.id), m[2]!);
    if (rs.type === 'SOA' || (rs.type === 'NS' && rs.name === zone.name)) throw bad('Managed records may not be deleted');
    const sets = recordsets.get(String(zone.id))!;
    sets.splice(sets.indexOf(rs), 1);
    return { status: 202, body: { ...rs, status: 'PENDING', action: 'DELETE' } };
  });

  return {
    url: replay.url,
    authUrl: `${replay.url}/identity/v3`,
    requests: replay.requests,
    failures: replay.failures,
    zones,
    recordsets,
    close: () => replay.close(),
  };
}
