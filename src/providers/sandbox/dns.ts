/**
 * Sandbox DNS driver: zones and records in memory, with the rules real servers enforce so
 * callers meet them here first: unique zone names, a CNAME alone at its name, no duplicate
 * values, a SOA (serial raised on every change) and two NS records the provider manages, and
 * slave zones whose records only their masters change.
 */
import { ConflictError } from '../errors.ts';
import {
  applyRecordPatch,
  checkEmail,
  checkMasters,
  checkRecordInput,
  checkTtl,
  checkZoneInput,
  normalizeDomain,
  sameValue,
  type RecordValue,
} from '../dns/records.ts';
import type { DnsDriver, DnsRecord, RecordType, Zone, ZoneType } from '../types.ts';
import { DRIVER_NAME } from './options.ts';
import { invalid, nextId, notFound, type SandboxRuntime, type SandboxState, type ZoneRecord } from './state.ts';

export const SANDBOX_RECORD_TYPES: readonly RecordType[] = ['A', 'AAAA', 'CAA', 'CNAME', 'MX', 'NS', 'PTR', 'SRV', 'TXT'];
export const SANDBOX_NAME_SERVERS = ['ns1.sandbox.invalid', 'ns2.sandbox.invalid'];
const ZONE_TYPES_SUPPORTED: readonly ZoneType[] = ['master', 'slave'];

export function sandboxDns(rt: SandboxRuntime): DnsDriver {
  const { state } = rt;
  const findZone = (id: string): ZoneRecord => {
    const zone = state.zones.get(id);
    if (!zone) throw notFound('zone', id);
    return zone;
  };
  const findRecord = (zone: ZoneRecord, id: string): DnsRecord => {
    const record = zone.records.get(id);
    if (!record) throw notFound('record', id);
    return record;
  };
  const conflict = (message: string) => new ConflictError(message, { provider: DRIVER_NAME, status: 409 });
  const writable = (zone: ZoneRecord) => {
    if (zone.type === 'slave') throw conflict(`zone ${zone.domain} is a slave zone: its records come from its masters`);
  };

  return {
    // why: static capability data; no upstream call, so no recordCall, latency or failure
    listRecordTypes: () => [...SANDBOX_RECORD_TYPES],

    listZones: () => rt.call('listZones', () => [...state.zones.values()].map(toZone)),

    getZone: (zoneId) => rt.call('getZone', () => toZone(findZone(zoneId))),

    createZone: (input) =>
      rt.call('createZone', () => {
        const value = checkZoneInput(input, DRIVER_NAME, ZONE_TYPES_SUPPORTED);
        if ([...state.zones.values()].some((z) => z.domain === value.domain)) throw conflict(`zone ${value.domain} exists`);
        const zone = addZone(state, { ...value, ttl: value.ttl ?? 3600 }, new Date(rt.now()));
        return toZone(zone);
      }),

    updateZone: (zoneId, patch) =>
      rt.call('updateZone', () => {
        const zone = findZone(zoneId);
        const ttl = checkTtl(patch.ttl, DRIVER_NAME);
        const email = checkEmail(patch.email, DRIVER_NAME);
        if (patch.masters !== undefined) {
          const masters = checkMasters(patch.masters, DRIVER_NAME);
          if (zone.type !== 'slave') throw conflict(`zone ${zone.domain} is a master zone: it has no masters`);
          if (masters.length === 0) throw conflict('a slave zone needs at least one master address');
          zone.masters = masters;
        }
        if (ttl !== undefined) zone.ttl = ttl;
        if (email !== undefined) zone.email = email;
        touch(zone);
        return toZone(zone);
      }),

    deleteZone: (zoneId) =>
      rt.call('deleteZone', () => {
        findZone(zoneId);
        state.zones.delete(zoneId);
      }),

    listRecords: (zoneId) => rt.call('listRecords', () => [...findZone(zoneId).records.values()].map((r) => structuredClone(r))),

    getRecord: (zoneId, recordId) => rt.call('getRecord', () => structuredClone(findRecord(findZone(zoneId), recordId))),

    createRecord: (zoneId, input) =>
      rt.call('createRecord', () => {
        const zone = findZone(zoneId);
        const value = checkRecordInput(input, SANDBOX_RECORD_TYPES, DRIVER_NAME);
        const exKey = Object.keys(input.ex ?? {})[0];
        if (exKey !== undefined) throw invalid(`ex.${exKey} is not a sandbox createRecord parameter`, `ex.${exKey}`);
        writable(zone);
        checkRules(zone, value, undefined);
        const record = putRecord(zone, value, nextId(state, 'record', 'rec'));
        touch(zone);
        return structuredClone(record);
      }),

    updateRecord: (zoneId, recordId, patch) =>
      rt.call('updateRecord', () => {
        const zone = findZone(zoneId);
        const record = findRecord(zone, recordId);
        writable(zone);
        if (record.type === 'SOA') throw conflict('the SOA record is managed by the provider');
        const value = applyRecordPatch(record, patch, SANDBOX_RECORD_TYPES, DRIVER_NAME);
        checkRules(zone, value, recordId);
        const updated = putRecord(zone, value, recordId);
        touch(zone);
        return structuredClone(updated);
      }),

    deleteRecord: (zoneId, recordId) =>
      rt.call('deleteRecord', () => {
        const zone = findZone(zoneId);
        const record = findRecord(zone, recordId);
        writable(zone);
        if (record.type === 'SOA') throw conflict('the SOA record is managed by the provider');
        zone.records.delete(recordId);
        touch(zone);
      }),
  };

  /** A CNAME stands alone at its name (RFC 1034 3.6.2), and one rrset holds a value once. */
  function checkRules(zone: ZoneRecord, value: RecordValue, self: string | undefined): void {
    const others = [...zone.records.values()].filter((r) => r.id !== self && r.name === value.name);
    if (others.some((r) => r.type === value.type && sameValue(r, value))) {
      throw conflict(`${value.type} ${value.name || '@'} already has the value ${value.data}`);
    }
    if (value.type === 'CNAME' ? others.length > 0 : others.some((r) => r.type === 'CNAME')) {
      throw conflict(`${value.name || '@'} cannot hold a CNAME and other records`);
    }
  }
}

/** Adds a zone with the provider's SOA and NS records; used by createZone and the seed. */
export function addZone(
  state: SandboxState,
  value: { domain: string; type: ZoneType; ttl: number; email: string; masters: string[] },
  createdAt: Date,
): ZoneRecord {
  const zone: ZoneRecord = {
    id: nextId(state, 'zone', 'zone'),
    domain: normalizeDomain(value.domain, DRIVER_NAME),
    type: value.type,
    ttl: value.ttl,
    email: value.email,
    masters: [...value.masters],
    serial: serialOf(createdAt),
    createdAt,
    records: new Map(),
  };
  state.zones.set(zone.id, zone);
  putRecord(zone, { name: '', type: 'SOA', data: '', ttl: zone.ttl, priority: null }, nextId(state, 'record', 'rec'));
  for (const ns of SANDBOX_NAME_SERVERS) putRecord(zone, { name: '', type: 'NS', data: ns, ttl: zone.ttl, priority: null }, nextId(state, 'record', 'rec'));
  syncSoa(zone);
  return zone;
}

/** Stores `value` under `id` (replacing what was there) and returns the stored record. */
export function putRecord(zone: ZoneRecord, value: RecordValue, id: string): DnsRecord {
  const record: DnsRecord = {
    id,
    zoneId: zone.id,
    name: value.name,
    type: value.type,
    data: value.data,
    ttl: value.ttl ?? zone.ttl,
    priority: value.priority,
    extra: {},
  };
  zone.records.set(id, record);
  return record;
}

// --- Internal helpers ---

function toZone(z: ZoneRecord): Zone {
  return {
    id: z.id,
    domain: z.domain,
    type: z.type,
    ttl: z.ttl,
    extra: {
      serial: z.serial,
      email: z.email,
      nameServers: [...SANDBOX_NAME_SERVERS],
      masters: [...z.masters],
      recordCount: z.records.size,
      createdAt: z.createdAt.toISOString(),
    },
  };
}

/** Raises the serial (YYYYMMDDnn style, always growing) and rewrites the SOA. */
function touch(zone: ZoneRecord): void {
  zone.serial += 1;
  syncSoa(zone);
}

function syncSoa(zone: ZoneRecord): void {
  const soa = [...zone.records.values()].find((r) => r.type === 'SOA');
  if (!soa) return;
  soa.data = `${SANDBOX_NAME_SERVERS[0]} ${zone.email.replace('@', '.')} ${zone.serial} 3600 600 604800 ${zone.ttl}`;
  soa.ttl = zone.ttl;
}

function serialOf(at: Date): number {
  const ymd = at.toISOString().slice(0, 10).replace(/-/g, '');
  return Number(`${ymd}01`);
}
