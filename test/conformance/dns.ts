/**
 * DNS conformance suite: record types, the zone round trip (create -> list -> get -> delete),
 * records in it (create, multi-value rrsets, MX/TXT data forms, update, delete), the typed errors
 * for unknown ids and bad input, declared capabilities, and no credential in a model or an error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/providers/errors.ts';
import { RECORD_TYPES, ZONE_TYPES, type DnsDriver, type DnsRecord, type RecordType, type Zone } from '../../src/providers/types.ts';
import { expectDeclaredCapabilities, expectTypedError, modelChecks, uniqueName, type ListsEveryOptionalMethod, type OptionalKeys } from './assertions.ts';

export const DNS_OPTIONAL_METHODS = ['updateZone'] as const satisfies readonly OptionalKeys<DnsDriver>[];
export type DnsCapability = (typeof DNS_OPTIONAL_METHODS)[number];
// why: fails to compile when types.ts gains an optional method this list does not name
const _everyOptionalMethodListed: ListsEveryOptionalMethod<DnsDriver, DnsCapability> = true;

export interface DnsSuiteOptions {
  /** provider name, used in the describe title `dns: <name>` */
  name: string;
  create: () => Promise<{ driver: DnsDriver; cleanup?: () => Promise<void> }>;
  /** the optional methods the driver has; a test checks this against the driver */
  capabilities: readonly DnsCapability[];
  /** the domain of the zone the suite creates; default `<unique>.example.com` */
  domain?: () => string;
  /** a zone id in the provider's syntax that certainly does not exist */
  missingZoneId?: string;
  /** a record id in the provider's syntax that certainly does not exist in the suite's zone */
  missingRecordId?: string;
  /** true when creating a zone whose domain exists answers ConflictError (false: Route 53 makes a second zone) */
  uniqueDomains?: boolean;
  /** strings (credentials) that must never appear in a model or an error message */
  secrets?: readonly string[];
}

export function testDnsDriver(opts: DnsSuiteOptions): void {
  const caps = new Set<string>(opts.capabilities);
  const check = dnsChecks(opts.secrets);
  const uniqueDomains = opts.uniqueDomains ?? true;
  const missingZoneId = opts.missingZoneId ?? 'sgc-missing-zone';

  describe(`dns: ${opts.name}`, () => {
    let driver: DnsDriver;
    let cleanup: (() => Promise<void>) | undefined;
    let zone: Zone | undefined;
    const domain = opts.domain?.() ?? `${uniqueName()}.example.com`;
    const created: Record<string, DnsRecord> = {};

    const requireZone = (): Zone => {
      if (!zone) throw new Error('no zone: the createZone test failed');
      return zone;
    };
    const requireRecord = (key: string): DnsRecord => {
      const r = created[key];
      if (!r) throw new Error(`no ${key} record: an earlier test failed`);
      return r;
    };
    const checkZone = (z: Zone) => check.zone(z);

    beforeAll(async () => {
      ({ driver, cleanup } = await opts.create());
    });

    afterAll(async () => {
      if (driver) {
        const ours = (await driver.listZones().catch(() => [])).filter((z) => z.domain === domain);
        for (const z of ours) await driver.deleteZone(z.id).catch(() => undefined);
      }
      await cleanup?.();
    });

    it('declares exactly the optional methods it has', () => {
      expectDeclaredCapabilities(driver, DNS_OPTIONAL_METHODS, opts.capabilities);
    });

    it('lists record types, a subset of RECORD_TYPES with A, AAAA, CNAME, MX and TXT', () => {
      const types = driver.listRecordTypes();
      for (const t of types) expect(RECORD_TYPES).toContain(t);
      expect(new Set(types).size).toBe(types.length);
      for (const t of ['A', 'AAAA', 'CNAME', 'MX', 'TXT'] as const) expect(types).toContain(t);
    });

    it('lists zones', async () => {
      const zones = await driver.listZones();
      zones.forEach(checkZone);
      expect(new Set(zones.map((z) => z.id)).size).toBe(zones.length);
    });

    it('creates a zone that appears in listZones and getZone', async () => {
      zone = await driver.createZone({ domain: `${domain.toUpperCase()}.`, ttl: 3600 });
      checkZone(zone);
      expect(zone).toMatchObject({ domain, type: 'master' });
      const listed = (await driver.listZones()).find((z) => z.id === zone!.id);
      expect(listed, 'the new zone is listed').toBeDefined();
      checkZone(listed!);
      expect(listed!.domain).toBe(domain);
      const got = await driver.getZone(zone.id);
      checkZone(got);
      expect(got).toMatchObject({ id: zone.id, domain, type: 'master' });
    });

    it.skipIf(!uniqueDomains)('answers ConflictError for a zone that exists', async () => {
      requireZone();
      check.error(await expectTypedError(driver.createZone({ domain }), ConflictError));
    });

    it('lists the records of a new zone (the provider\'s SOA and NS at most)', async () => {
      const records = await driver.listRecords(requireZone().id);
      records.forEach((r) => check.record(r, requireZone()));
      for (const r of records) expect(['SOA', 'NS']).toContain(r.type);
    });

    it('creates an A record that appears in listRecords and getRecord', async () => {
      const { id: zoneId } = requireZone();
      const a = await driver.createRecord(zoneId, { name: 'www', type: 'A', data: '192.0.2.10', ttl: 300 });
      check.record(a, requireZone());
      expect(a).toMatchObject({ zoneId, name: 'www', type: 'A', data: '192.0.2.10', ttl: 300, priority: null });
      created.a1 = a;
      const listed = (await driver.listRecords(zoneId)).filter((r) => r.type === 'A' && r.name === 'www');
      expect(listed.map((r) => r.id)).toEqual([a.id]);
      expect(listed[0]).toMatchObject({ data: '192.0.2.10', ttl: 300 });
      expect(await driver.getRecord(zoneId, a.id)).toMatchObject({ id: a.id, name: 'www', type: 'A', data: '192.0.2.10' });
    });

    it('keeps a second value of the same name and type as a record of its own', async () => {
      const { id: zoneId } = requireZone();
      const a2 = await driver.createRecord(zoneId, { name: 'WWW', type: 'A', data: '192.0.2.11', ttl: 300 });
      check.record(a2, requireZone());
      expect(a2).toMatchObject({ name: 'www', type: 'A', data: '192.0.2.11' });
      created.a2 = a2;
      const first = requireRecord('a1');
      expect(a2.id).not.toBe(first.id);
      const listed = (await driver.listRecords(zoneId)).filter((r) => r.type === 'A' && r.name === 'www');
      expect(listed.map((r) => r.data).sort()).toEqual(['192.0.2.10', '192.0.2.11']);
      expect(listed.map((r) => r.id).sort()).toEqual([first.id, a2.id].sort());
      expect((await driver.getRecord(zoneId, first.id)).data).toBe('192.0.2.10');
    });

    it('creates MX at the apex with its priority apart from the host name', async () => {
      const { id: zoneId } = requireZone();
      const mx = await driver.createRecord(zoneId, { name: '@', type: 'MX', data: `mail.${domain}.`, priority: 10, ttl: 600 });
      check.record(mx, requireZone());
      expect(mx).toMatchObject({ name: '', type: 'MX', data: `mail.${domain}`, priority: 10 });
      const listed = (await driver.listRecords(zoneId)).find((r) => r.id === mx.id);
      expect(listed).toMatchObject({ name: '', type: 'MX', data: `mail.${domain}`, priority: 10 });
    });

    it('keeps TXT data unquoted, spaces and quotes included', async () => {
      const { id: zoneId } = requireZone();
      const text = 'v=spf1 include:_spf.example.net ~all "quoted"';
      const txt = await driver.createRecord(zoneId, { name: '', type: 'TXT', data: text, ttl: 300 });
      check.record(txt, requireZone());
      expect(txt).toMatchObject({ name: '', type: 'TXT', data: text, priority: null });
      const listed = (await driver.listRecords(zoneId)).find((r) => r.id === txt.id);
      expect(listed?.data).toBe(text);
    });

    it('creates a CNAME pointing at a fully qualified name', async () => {
      const { id: zoneId } = requireZone();
      const cname = await driver.createRecord(zoneId, { name: 'docs', type: 'CNAME', data: `www.${domain}`, ttl: 300 });
      check.record(cname, requireZone());
      expect(cname).toMatchObject({ name: 'docs', type: 'CNAME', data: `www.${domain}` });
      expect(await driver.getRecord(zoneId, cname.id)).toMatchObject({ name: 'docs', data: `www.${domain}` });
    });

    it('updates a record\'s data and ttl; the answer is what getRecord finds', async () => {
      const { id: zoneId } = requireZone();
      const before = requireRecord('a1');
      const updated = await driver.updateRecord(zoneId, before.id, { data: '192.0.2.20', ttl: 900 });
      check.record(updated, requireZone());
      expect(updated).toMatchObject({ name: 'www', type: 'A', data: '192.0.2.20', ttl: 900 });
      created.a1 = updated;
      expect(await driver.getRecord(zoneId, updated.id)).toMatchObject({ id: updated.id, data: '192.0.2.20', ttl: 900 });
      if (updated.id !== before.id) check.error(await expectTypedError(driver.getRecord(zoneId, before.id), NotFoundError));
      const www = (await driver.listRecords(zoneId)).filter((r) => r.type === 'A' && r.name === 'www');
      expect(www.map((r) => r.data).sort()).toEqual(['192.0.2.11', '192.0.2.20']);
    });

    it('deletes one value and leaves the other', async () => {
      const { id: zoneId } = requireZone();
      const gone = requireRecord('a2');
      await driver.deleteRecord(zoneId, gone.id);
      const www = (await driver.listRecords(zoneId)).filter((r) => r.type === 'A' && r.name === 'www');
      expect(www.map((r) => r.data)).toEqual(['192.0.2.20']);
      check.error(await expectTypedError(driver.getRecord(zoneId, gone.id), NotFoundError));
      check.error(await expectTypedError(driver.deleteRecord(zoneId, gone.id), NotFoundError));
    });

    it('rejects a type it does not support and data that does not fit, before creating anything', async () => {
      const { id: zoneId } = requireZone();
      const supported = new Set<string>(driver.listRecordTypes());
      const unsupported = RECORD_TYPES.find((t) => !supported.has(t)) ?? ('NOT_A_TYPE' as RecordType);
      check.error(await expectTypedError(driver.createRecord(zoneId, { name: 'bad', type: unsupported, data: 'x' }), InvalidInputError, 'type'));
      check.error(await expectTypedError(driver.createRecord(zoneId, { name: 'bad', type: 'A', data: 'not-an-address' }), InvalidInputError, 'data'));
      check.error(await expectTypedError(driver.createRecord(zoneId, { name: 'bad', type: 'MX', data: `mail.${domain}` }), InvalidInputError, 'priority'));
      check.error(await expectTypedError(driver.createRecord(zoneId, { name: 'bad.', type: 'A', data: '192.0.2.1' }), InvalidInputError, 'name'));
      expect((await driver.listRecords(zoneId)).filter((r) => r.name === 'bad')).toEqual([]);
    });

    it('answers NotFoundError for unknown zone and record ids', async () => {
      const { id: zoneId } = requireZone();
      check.error(await expectTypedError(driver.getZone(missingZoneId), NotFoundError));
      check.error(await expectTypedError(driver.listRecords(missingZoneId), NotFoundError));
      check.error(await expectTypedError(driver.deleteZone(missingZoneId), NotFoundError));
      check.error(await expectTypedError(driver.createRecord(missingZoneId, { name: 'x', type: 'A', data: '192.0.2.1' }), NotFoundError));
      const missingRecord = opts.missingRecordId ?? 'sgc-missing-record';
      check.error(await expectTypedError(driver.getRecord(zoneId, missingRecord), NotFoundError));
      check.error(await expectTypedError(driver.updateRecord(zoneId, missingRecord, { ttl: 60 }), NotFoundError));
      check.error(await expectTypedError(driver.deleteRecord(zoneId, missingRecord), NotFoundError));
    });

    it.skipIf(!caps.has('updateZone'))('updates the zone\'s default ttl', async () => {
      const { id } = requireZone();
      const updated = await driver.updateZone!(id, { ttl: 7200 });
      checkZone(updated);
      expect(updated).toMatchObject({ id, domain, ttl: 7200 });
      expect((await driver.getZone(id)).ttl).toBe(7200);
    });

    it('deletes the zone with the records left in it', async () => {
      const { id } = requireZone();
      expect((await driver.listRecords(id)).some((r) => r.type === 'A')).toBe(true);
      await driver.deleteZone(id);
      expect((await driver.listZones()).map((z) => z.id)).not.toContain(id);
      check.error(await expectTypedError(driver.getZone(id), NotFoundError));
      zone = undefined;
    });
  });
}

// --- Internal helpers ---

/** Zone and record shape checks, on top of the shared model checks (credentials never in a model). */
function dnsChecks(secrets: readonly string[] | undefined) {
  const base = modelChecks(secrets);
  const noSecrets = (value: unknown) => {
    const json = JSON.stringify(value);
    for (const secret of secrets ?? []) expect(json.includes(secret), 'a credential leaked into a model').toBe(false);
  };
  const extra = (value: unknown) => {
    expect(value !== null && typeof value === 'object' && !Array.isArray(value), 'extra must be a plain object').toBe(true);
    expect(() => JSON.stringify(value)).not.toThrow();
  };
  const ttl = (value: unknown) => {
    if (value === null) return;
    expect(Number.isInteger(value) && (value as number) >= 0, `ttl ${String(value)} must be a non-negative integer or null`).toBe(true);
  };
  return {
    error: base.error,
    zone(z: Zone) {
      expect(typeof z.id === 'string' && z.id.length > 0).toBe(true);
      expect(z.domain, 'domain is lower case without the trailing dot').toMatch(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/);
      expect(ZONE_TYPES).toContain(z.type);
      ttl(z.ttl);
      extra(z.extra);
      noSecrets(z);
    },
    record(r: DnsRecord, zone: Zone) {
      expect(typeof r.id === 'string' && r.id.length > 0).toBe(true);
      expect(r.zoneId).toBe(zone.id);
      expect(r.name, 'name is relative, lower case, no trailing dot').toMatch(/^(|[a-z0-9_*-]+(\.[a-z0-9_*-]+)*)$/);
      expect(r.name === zone.domain || r.name.endsWith(`.${zone.domain}`), 'name is relative to the zone').toBe(false);
      expect(RECORD_TYPES).toContain(r.type);
      expect(typeof r.data).toBe('string');
      ttl(r.ttl);
      if (r.type === 'MX' || r.type === 'SRV') expect(Number.isInteger(r.priority), `${r.type} has a priority`).toBe(true);
      else expect(r.priority).toBeNull();
      if (['CNAME', 'NS', 'PTR', 'MX'].includes(r.type)) expect(r.data.endsWith('.'), 'host names have no trailing dot').toBe(false);
      extra(r.extra);
      noSecrets(r);
    },
  };
}
