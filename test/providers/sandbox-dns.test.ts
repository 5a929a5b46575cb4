import { capabilitiesOf } from '../../src/resolvers/capability.ts';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.ts';
import { ConflictError, InvalidInputError, NotFoundError, RateLimitedError, UnsupportedError } from '../../src/providers/errors.ts';
import { sandboxProvider } from '../../src/providers/sandbox/index.ts';
import { createRuntime } from '../../src/runtime.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testDnsDriver } from '../conformance/dns.ts';
import { testDriverContext } from '../helpers/driver-context.ts';

function sandbox(options: Record<string, unknown> = {}) {
  const ctx = testDriverContext({ driver: 'sandbox', options });
  const instance = sandboxProvider.create(ctx);
  return { ctx, dns: instance.dns! };
}

testDnsDriver({
  name: 'sandbox',
  create: async () => ({ driver: sandbox({ seed: false }).dns }),
  capabilities: ['updateZone'],
  missingZoneId: 'zone-999',
  missingRecordId: 'rec-999',
});

testDnsDriver({
  name: 'sandbox (seeded)',
  create: async () => ({ driver: sandbox().dns }),
  capabilities: ['updateZone'],
});

describe('sandbox DNS', () => {
  it('seeds example.com with an rrset of two A values, MX priorities and a slave example.net', async () => {
    const { dns } = sandbox();
    const zones = await dns.listZones();
    expect(zones.map((z) => [z.id, z.domain, z.type, z.ttl])).toEqual([
      ['zone-1', 'example.com', 'master', 3600],
      ['zone-2', 'example.net', 'slave', 86400],
    ]);
    expect(zones[1]!.extra).toMatchObject({ masters: ['192.0.2.53'] });
    const records = await dns.listRecords('zone-1');
    expect(records.filter((r) => r.name === 'www' && r.type === 'A').map((r) => r.data)).toEqual(['203.0.113.1', '203.0.113.2']);
    expect(records.filter((r) => r.type === 'MX').map((r) => [r.data, r.priority])).toEqual([
      ['mail.example.com', 10],
      ['mail2.example.com', 20],
    ]);
    expect(records.find((r) => r.type === 'SRV')).toMatchObject({ name: '_sip._tcp', data: '5 5060 sip.example.com', priority: 10, ttl: 3600 });
    expect(records.find((r) => r.type === 'SOA')!.data).toBe('ns1.sandbox.invalid hostmaster.example.com 2024010601 3600 600 604800 3600');
    expect(records.filter((r) => r.type === 'NS').map((r) => r.data)).toEqual(['ns1.sandbox.invalid', 'ns2.sandbox.invalid']);
  });

  it('starts without zones with seed: false', async () => {
    expect(await sandbox({ seed: false }).dns.listZones()).toEqual([]);
  });

  it('counts one call per operation and none for listRecordTypes', async () => {
    const { ctx, dns } = sandbox();
    dns.listRecordTypes();
    await dns.listZones();
    await dns.listRecords('zone-1');
    expect(Object.fromEntries(ctx.calls)).toEqual({ listZones: 1, listRecords: 1 });
  });

  it('raises the SOA serial on every change', async () => {
    const { dns } = sandbox();
    const serial = async () => (await dns.getZone('zone-1')).extra.serial as number;
    const before = await serial();
    const r = await dns.createRecord('zone-1', { name: 'api', type: 'A', data: '192.0.2.1' });
    await dns.deleteRecord('zone-1', r.id);
    expect(await serial()).toBe(before + 2);
    const soa = (await dns.listRecords('zone-1')).find((x) => x.type === 'SOA')!;
    expect(soa.data.split(' ')[2]).toBe(String(before + 2));
  });

  it('refuses a CNAME beside other data, a duplicate value, and changes to the SOA', async () => {
    const { dns } = sandbox();
    await expectTypedError(dns.createRecord('zone-1', { name: 'www', type: 'CNAME', data: 'elsewhere.example.org' }), ConflictError);
    await expectTypedError(dns.createRecord('zone-1', { name: 'docs', type: 'A', data: '192.0.2.1' }), ConflictError);
    await expectTypedError(dns.createRecord('zone-1', { name: 'www', type: 'A', data: '203.0.113.1' }), ConflictError);
    const soa = (await dns.listRecords('zone-1')).find((r) => r.type === 'SOA')!;
    await expectTypedError(dns.deleteRecord('zone-1', soa.id), ConflictError);
    await expectTypedError(dns.updateRecord('zone-1', soa.id, { ttl: 60 }), ConflictError);
  });

  it('keeps a slave zone\'s records read-only and needs masters for one', async () => {
    const { dns } = sandbox();
    await expectTypedError(dns.createRecord('zone-2', { name: 'x', type: 'A', data: '192.0.2.1' }), ConflictError);
    await expectTypedError(dns.createZone({ domain: 'slave.example.org', type: 'slave' }), InvalidInputError, 'masters');
    await expectTypedError(dns.createZone({ domain: 'slave.example.org', type: 'slave', masters: ['not-an-ip'] }), InvalidInputError, 'masters[0]');
    const zone = await dns.createZone({ domain: 'slave.example.org', type: 'slave', masters: ['192.0.2.54'] });
    expect(zone).toMatchObject({ type: 'slave', extra: { masters: ['192.0.2.54'] } });
    expect((await dns.updateZone!(zone.id, { masters: ['192.0.2.55', '2001:db8::53'] })).extra.masters).toEqual(['192.0.2.55', '2001:db8::53']);
    await expectTypedError(dns.updateZone!('zone-1', { masters: ['192.0.2.55'] }), ConflictError);
  });

  it('changes type and data together, checking the data against the new type', async () => {
    const { dns } = sandbox();
    const a = await dns.createRecord('zone-1', { name: 'svc', type: 'A', data: '192.0.2.7' });
    await expectTypedError(dns.updateRecord('zone-1', a.id, { type: 'AAAA' }), InvalidInputError, 'data');
    await expectTypedError(dns.updateRecord('zone-1', a.id, { type: 'MX', data: 'mx.example.com' }), InvalidInputError, 'priority');
    const mx = await dns.updateRecord('zone-1', a.id, { type: 'MX', data: 'mx.example.com.', priority: 5 });
    expect(mx).toMatchObject({ id: a.id, name: 'svc', type: 'MX', data: 'mx.example.com', priority: 5 });
    const back = await dns.updateRecord('zone-1', a.id, { type: 'A', data: '192.0.2.8' });
    expect(back).toMatchObject({ type: 'A', data: '192.0.2.8', priority: null });
  });

  it('validates zone input naming the field, never echoing the value', async () => {
    const { dns } = sandbox();
    const err = await expectTypedError(dns.createZone({ domain: 'no spaces allowed secret-x' }), InvalidInputError, 'domain');
    expect(err.message).not.toContain('secret-x');
    await expectTypedError(dns.createZone({ domain: 'localhost' }), InvalidInputError, 'domain');
    await expectTypedError(dns.createZone({ domain: 'ok.example.org', ttl: -1 }), InvalidInputError, 'ttl');
    await expectTypedError(dns.createZone({ domain: 'ok.example.org', email: 'nobody' }), InvalidInputError, 'email');
    await expectTypedError(dns.createRecord('zone-1', { name: 'x', type: 'A', data: '192.0.2.1', priority: 3 }), InvalidInputError, 'priority');
    await expectTypedError(dns.createRecord('zone-1', { name: 'x', type: 'SRV', data: '5 70000 sip.example.com', priority: 1 }), InvalidInputError, 'data');
    await expectTypedError(dns.createRecord('zone-1', { name: 'x y', type: 'A', data: '192.0.2.1' }), InvalidInputError, 'name');
  });

  it('answers NotFoundError for records of another zone, and the simulated failure of options.fail', async () => {
    const { dns } = sandbox();
    const net = await dns.listRecords('zone-2');
    await expectTypedError(dns.getRecord('zone-1', net[0]!.id), NotFoundError);
    const failing = sandbox({ fail: 'RATE_LIMITED' }).dns;
    const err = await expectTypedError(failing.listZones(), RateLimitedError);
    expect(err.retryAfterMs).toBe(1000);
    expect(failing.listRecordTypes()).toContain('A');
  });
});

describe('runtime: the DNS service of an account', () => {
  it('gives the sandbox account its DNS driver, with updateZone among its capabilities', async () => {
    const config = await validateConfig(
      { accounts: [{ id: 'sandbox', driver: 'sandbox' }, { id: 'lb', driver: 'rackspace-clb', regions: ['DFW'], endpoint: 'http://127.0.0.1:9/v1.0/1', credentials: { token: 't0ken' } }] },
      'test',
    );
    const runtime = await createRuntime(config);
    try {
      expect((await runtime.account('sandbox').dns(null).listZones()).map((z) => z.domain)).toEqual(['example.com', 'example.net']);
      expect(capabilitiesOf(runtime.account('sandbox'))).toContain('UPDATE_ZONE');
      expect(() => runtime.account('lb').dns('DFW')).toThrow(UnsupportedError);
      expect(capabilitiesOf(runtime.account('lb'))).not.toContain('UPDATE_ZONE');
    } finally {
      await runtime.close();
    }
  });
});
