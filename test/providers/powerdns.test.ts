/**
 * The powerdns driver against a real PowerDNS Authoritative server (pdns_server + gsqlite3 on
 * 127.0.0.1, started per file by test/helpers/pdns.ts): the DNS suite, then what the API wrote
 * as the server's DNS listener answers it, rrset sharing, call counts and errors.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, ConflictError, InvalidInputError, NotFoundError } from '../../src/providers/errors.ts';
import { createPowerDnsInstance, validatePowerDnsAccount } from '../../src/providers/powerdns/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, DnsDriver, ProviderInstance } from '../../src/providers/types.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testDnsDriver } from '../conformance/dns.ts';
import { testDriverContext, type TestDriverContext } from '../helpers/driver-context.ts';
import { queryAnswerCount, startPdns, type PdnsHandle } from '../helpers/pdns.ts';

let pdns: PdnsHandle;
const instances: ProviderInstance[] = [];
const API_KEY = `pdns-test-${randomBytes(12).toString('hex')}`;

beforeAll(async () => {
  pdns = await startPdns({ apiKey: API_KEY });
});
afterAll(async () => {
  await Promise.all(instances.map((i) => i.close?.()));
  await pdns?.stop();
});

function driver(account: Partial<AccountConfig> = {}): { dns: DnsDriver; ctx: TestDriverContext } {
  const ctx = testDriverContext({ driver: 'powerdns', endpoint: pdns.url, credentials: { apiKey: pdns.apiKey }, ...account });
  const instance = createPowerDnsInstance(ctx, { retry: { retries: 0 } });
  instances.push(instance);
  return { dns: instance.dns!, ctx };
}

testDnsDriver({
  name: 'powerdns (real pdns_server)',
  create: async () => ({ driver: driver({ options: { nameservers: ['ns1.example.net', 'ns2.example.net'] } }).dns }),
  capabilities: ['updateZone'],
  missingZoneId: 'missing.example.invalid.',
  missingRecordId: 'A:nowhere:MTkyLjAuMi4y',
  secrets: [API_KEY],
});

describe('powerdns: against pdns_server', () => {
  let dns: DnsDriver;
  let ctx: TestDriverContext;
  let zoneId: string;
  beforeAll(async () => {
    ({ dns, ctx } = driver());
    zoneId = (await dns.createZone({ domain: 'served.example.org', ttl: 1800, email: 'admin@example.org' })).id;
  });

  it('names zones by their PowerDNS id and writes the SOA the input asked for', async () => {
    expect(zoneId).toBe('served.example.org.');
    const zone = await dns.getZone(zoneId);
    expect(zone).toMatchObject({ domain: 'served.example.org', type: 'master', ttl: 1800, extra: { kind: 'Native', dnssec: false } });
    const soa = (await dns.listRecords(zoneId)).find((r) => r.type === 'SOA')!;
    expect(soa.data).toMatch(/^a\.misconfigured\.dns\.server\.invalid\. admin\.example\.org\. \d+ 10800 3600 604800 1800$/);
    expect(soa.ttl).toBe(1800);
  });

  it('serves what the API wrote on its DNS port: both values of an rrset, MX and a TXT longer than 255 bytes', async () => {
    await dns.createRecord(zoneId, { name: 'www', type: 'A', data: '192.0.2.1' });
    await dns.createRecord(zoneId, { name: 'www', type: 'A', data: '192.0.2.2' });
    await dns.createRecord(zoneId, { name: '', type: 'MX', data: 'mx.served.example.org', priority: 5 });
    const long = `v=DKIM1; k=rsa; p=${'A'.repeat(300)}`;
    const txt = await dns.createRecord(zoneId, { name: 'sel._domainkey', type: 'TXT', data: long });
    expect(txt.data).toBe(long);
    expect(txt.extra.content).toBe(`"${long.slice(0, 255)}" "${long.slice(255)}"`);
    expect((await dns.getRecord(zoneId, txt.id)).data).toBe(long);
    expect(await queryAnswerCount(pdns.dnsPort, 'www.served.example.org', 1)).toBe(2);
    expect(await queryAnswerCount(pdns.dnsPort, 'served.example.org', 15)).toBe(1);
    expect(await queryAnswerCount(pdns.dnsPort, 'sel._domainkey.served.example.org', 16)).toBe(1);
  });

  it('takes a new record\'s TTL from its rrset (and the SOA for a new rrset); a TTL change moves the whole rrset', async () => {
    const third = await dns.createRecord(zoneId, { name: 'www', type: 'A', data: '192.0.2.3' });
    expect(third.ttl).toBe(1800);
    const plain = await dns.createRecord(zoneId, { name: 'api', type: 'AAAA', data: '2001:DB8:0:0::7' });
    expect(plain).toMatchObject({ data: '2001:db8::7', ttl: 1800 });
    await dns.updateRecord(zoneId, third.id, { ttl: 120 });
    const www = (await dns.listRecords(zoneId)).filter((r) => r.name === 'www');
    expect(www.map((r) => [r.data, r.ttl])).toEqual([
      ['192.0.2.1', 120],
      ['192.0.2.2', 120],
      ['192.0.2.3', 120],
    ]);
    expect((await dns.getRecord(zoneId, plain.id)).data).toBe('2001:db8::7');
  });

  it('moves a value to another name in one PATCH, leaving its siblings', async () => {
    const www = (await dns.listRecords(zoneId)).filter((r) => r.name === 'www' && r.data === '192.0.2.3')[0]!;
    ctx.resetCalls();
    const moved = await dns.updateRecord(zoneId, www.id, { name: 'static' });
    expect(moved).toMatchObject({ name: 'static', type: 'A', data: '192.0.2.3' });
    expect(ctx.calls.get('PATCH /servers/{server}/zones/{zone}')).toBe(1);
    const all = await dns.listRecords(zoneId);
    expect(all.filter((r) => r.name === 'www').map((r) => r.data)).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(all.filter((r) => r.name === 'static').map((r) => r.id)).toEqual([moved.id]);
    expect(await queryAnswerCount(pdns.dnsPort, 'static.served.example.org', 1)).toBe(1);
  });

  it('lists a zone\'s records with one call, and finds or changes one record with a filtered GET', async () => {
    ctx.resetCalls();
    const records = await dns.listRecords(zoneId);
    expect(records.length).toBeGreaterThan(5);
    expect(ctx.totalCalls()).toBe(1);
    ctx.resetCalls();
    await dns.getRecord(zoneId, records.find((r) => r.type === 'MX')!.id);
    expect(Object.fromEntries(ctx.calls)).toEqual({ 'GET /servers/{server}/zones/{zone}': 1 });
    ctx.resetCalls();
    await dns.deleteRecord(zoneId, records.find((r) => r.type === 'MX')!.id);
    expect(Object.fromEntries(ctx.calls)).toEqual({ 'GET /servers/{server}/zones/{zone}': 1, 'PATCH /servers/{server}/zones/{zone}': 1 });
    expect(await queryAnswerCount(pdns.dnsPort, 'served.example.org', 15)).toBe(0);
  });

  it('answers ConflictError for a CNAME beside other data (PowerDNS 422) and for a value the rrset has', async () => {
    const err = await expectTypedError(dns.createRecord(zoneId, { name: 'www', type: 'CNAME', data: 'elsewhere.example.net' }), ConflictError);
    expect(err.message).toContain('Conflicts with pre-existing RRset');
    await expectTypedError(dns.createRecord(zoneId, { name: 'www', type: 'A', data: '192.0.2.1' }), ConflictError);
  });

  it('makes slave zones with their masters and changes the masters', async () => {
    const zone = await dns.createZone({ domain: 'secondary.example.org', type: 'slave', masters: ['192.0.2.53'] });
    expect(zone).toMatchObject({ type: 'slave', extra: { kind: 'Slave', masters: ['192.0.2.53'] } });
    const updated = await dns.updateZone!(zone.id, { masters: ['192.0.2.54'] });
    expect(updated.extra.masters).toEqual(['192.0.2.54']);
    await expectTypedError(dns.updateZone!(zoneId, { masters: ['192.0.2.54'] }), ConflictError);
    await dns.deleteZone(zone.id);
  });

  it('answers NotFoundError for a record id that decodes to nothing and for a zone gone', async () => {
    await expectTypedError(dns.getRecord(zoneId, 'not-an-id'), NotFoundError);
    await expectTypedError(dns.getRecord(zoneId, 'A:www:MTkyLjAuMi45OQ'), NotFoundError);
    await expectTypedError(dns.listRecords('gone.example.org.'), NotFoundError);
  });

  it('answers 401 with AuthenticationError that never carries the key', async () => {
    const wrongKey = 'pdns-wrong-key-0123456789abcdef';
    const bad = driver({ credentials: { apiKey: wrongKey } }).dns;
    const err = await expectTypedError(bad.listZones(), AuthenticationError);
    expect(err.message).not.toContain(wrongKey);
    expect(err.message).not.toContain(pdns.apiKey);
  });
});

describe('powerdns: accounts', () => {
  const base: AccountConfig = { id: 'p', driver: 'powerdns', regions: [], endpoint: 'http://127.0.0.1:8081', credentials: { apiKey: 'k' }, options: {}, pollIntervalMs: 1, timeoutMs: 1 };

  it('validates accounts naming fields, never values', () => {
    expect(validatePowerDnsAccount(base)).toEqual([]);
    const problems = validatePowerDnsAccount({ ...base, endpoint: 'ftp://secret-host', credentials: { apiKey: '', token: 'secret-t' }, options: { masterKind: 'Slave', nameservers: ['not a host'], x: 'secret-x', defaultTtl: -5 } });
    expect(problems).toEqual([
      'endpoint must be an absolute http(s) URL',
      'credentials.apiKey is required',
      'credentials.token is not a powerdns credential (it takes only apiKey)',
      'options.x is not a powerdns option (serverId, nameservers, masterKind, defaultTtl)',
      'options.masterKind must be Native or Master',
      'options.nameservers must be a list of host names',
      'options.defaultTtl must be an integer from 0 to 2147483647',
    ]);
    expect(problems.join()).not.toMatch(/secret/);
    expect(() => createPowerDnsInstance(testDriverContext({ driver: 'powerdns' }))).toThrow(InvalidInputError);
  });

  it('is registered as a DNS-only, non-regional provider', async () => {
    expect(await loadProvider('powerdns')).toMatchObject({ name: 'powerdns', services: ['DNS'], regional: false });
  });
});
