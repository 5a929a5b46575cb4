import { describe, expect, it } from 'vitest';
import { AuthenticationError, ConflictError, InvalidInputError, NotFoundError, RateLimitedError, UnsupportedError } from '../../src/providers/errors.ts';
import { createRoute53Instance, parseRoute53Error, validateRoute53Account, type Route53Deps } from '../../src/providers/aws/route53/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, DnsDriver } from '../../src/providers/types.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testDnsDriver } from '../conformance/dns.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { EXAMPLE_ZONE_ID, ROUTE53_TEST_CREDENTIALS, startRoute53Server, type Route53ServerOptions, type Route53TestServer } from '../helpers/route53-server.ts';

type Harness = DriverHarness<Route53TestServer, DnsDriver>;
const FAST: Route53Deps = { retry: { baseDelayMs: 1, maxDelayMs: 5 }, env: {}, home: '/nonexistent' };

async function harness(opts: { server?: Route53ServerOptions; account?: Partial<AccountConfig>; deps?: Route53Deps; onCall?: (operation: string) => void } = {}): Promise<Harness> {
  const server = await startRoute53Server(opts.server);
  const ctx = testDriverContext({ driver: 'route53', endpoint: server.url, credentials: { ...ROUTE53_TEST_CREDENTIALS }, ...opts.account }, opts.onCall ? { recordCall: opts.onCall } : {});
  const instance = createRoute53Instance(ctx, { ...FAST, ...opts.deps });
  return driverHarness(server, ctx, instance, instance.dns!);
}

let conformanceServer: Route53TestServer | undefined;
testDnsDriver({
  name: 'route53',
  async create() {
    // why: small pages, so the suite's listings and deleteZone's clean-up cross page boundaries
    const h = await harness({ server: { maxRecordPage: 3, maxZonePage: 1 } });
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: [],
  uniqueDomains: false,
  missingZoneId: 'Z0000000000MISSING',
  missingRecordId: 'A:nowhere:MTkyLjAuMi4y',
  secrets: [ROUTE53_TEST_CREDENTIALS.secretAccessKey],
});

describe('route53: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run signed every request and changed rrsets only through DELETE+CREATE batches', () => {
    const server = conformanceServer!;
    expect(server.requests.length).toBeGreaterThan(20);
    expect(server.requests.every((r) => r.headers.authorization?.startsWith(`AWS4-HMAC-SHA256 Credential=${ROUTE53_TEST_CREDENTIALS.accessKeyId}/`))).toBe(true);
    expect(server.batches.flatMap((b) => b.changes.map((c) => c.action))).not.toContain('UPSERT');
    // the second A value replaced the one-value rrset in one batch
    expect(server.batches.some((b) => b.changes.map((c) => `${c.action} ${c.rrset.type} ${c.rrset.values.length}`).join() === 'DELETE A 1,CREATE A 2')).toBe(true);
  });

  it('maps hosted zones: bare ids, lower-case domains, no zone TTL, name servers from GetHostedZone', async () => {
    const zones = await h.driver.listZones();
    expect(zones.map((z) => [z.id, z.domain, z.type, z.ttl])).toEqual([
      [EXAMPLE_ZONE_ID, 'example.com', 'master', null],
      ['Z3M3LMPEXAMPLE', 'internal.example.net', 'master', null],
    ]);
    expect(zones[1]!.extra).toMatchObject({ privateZone: true, callerReference: 'terraform-20240305' });
    expect((await h.driver.getZone(`/hostedzone/${EXAMPLE_ZONE_ID}`)).extra.nameServers).toEqual(['ns-1.awsdns-01.com', 'ns-2.awsdns-02.net', 'ns-3.awsdns-03.org', 'ns-4.awsdns-04.co.uk']);
  });

  it('maps record sets: one record per value, quoted TXT joined, escaped wildcard, alias and weighted sets with their settings', async () => {
    const records = await h.driver.listRecords(EXAMPLE_ZONE_ID);
    expect(records.filter((r) => r.type === 'MX').map((r) => [r.name, r.data, r.priority, r.ttl])).toEqual([
      ['', 'mail.example.com', 10, 3600],
      ['', 'mail2.example.com', 20, 3600],
    ]);
    expect(records.filter((r) => r.type === 'TXT').map((r) => r.data)).toEqual(['v=spf1 include:amazonses.com -all', 'google-site-verification=abc123']);
    expect(records.find((r) => r.type === 'CNAME')).toMatchObject({ name: '*.dev', data: 'dev-lb.example.com', ttl: 60 });
    expect(records.filter((r) => r.name === 'api').map((r) => [r.data, r.extra])).toEqual([
      ['192.0.2.44', { setIdentifier: 'blue', weight: '90' }],
      ['192.0.2.45', { setIdentifier: 'green', weight: '10' }],
    ]);
    const alias = records.find((r) => r.name === 'www')!;
    expect(alias).toMatchObject({ type: 'A', data: 'dualstack.web-1234567890.us-east-1.elb.amazonaws.com', ttl: null });
    expect(alias.extra.aliasTarget).toEqual({ hostedZoneId: 'Z35SXDOTRQ7X7K', dnsName: 'dualstack.web-1234567890.us-east-1.elb.amazonaws.com.', evaluateTargetHealth: false });
    expect(records.find((r) => r.type === 'SRV')).toMatchObject({ name: '_sip._tcp', data: '5 5060 sip.example.com', priority: 10 });
  });

  it('lists records one call per page, following NextRecordName and NextRecordType', async () => {
    await h.close();
    h = await harness({ server: { maxRecordPage: 3 } });
    await h.driver.getZone(EXAMPLE_ZONE_ID);
    h.ctx.resetCalls();
    const records = await h.driver.listRecords(EXAMPLE_ZONE_ID);
    expect(records).toHaveLength(14);
    expect(h.ctx.calls.get('ListResourceRecordSets')).toBe(3);
    expect(h.ctx.totalCalls()).toBe(3);
    const pages = h.server.requests.filter((r) => r.path.endsWith('/rrset'));
    expect(pages.map((r) => [r.query.get('name'), r.query.get('type'), r.query.get('identifier')])).toEqual([
      [null, null, null],
      ['example.com.', 'TXT', null],
      ['api.example.com.', 'A', 'green'],
    ]);
  });

  it('lists zones one call per page, following NextMarker', async () => {
    await h.close();
    h = await harness({ server: { maxZonePage: 1 } });
    expect((await h.driver.listZones()).map((z) => z.id)).toEqual([EXAMPLE_ZONE_ID, 'Z3M3LMPEXAMPLE']);
    expect(h.server.requests.map((r) => r.query.get('marker'))).toEqual([null, 'Z3M3LMPEXAMPLE']);
    expect(h.ctx.totalCalls()).toBe(2);
  });

  it('finds one record with one ListResourceRecordSets that starts at its name and type', async () => {
    const mx = (await h.driver.listRecords(EXAMPLE_ZONE_ID)).find((r) => r.type === 'MX' && r.priority === 20)!;
    h.ctx.resetCalls();
    h.server.requests.length = 0;
    expect(await h.driver.getRecord(EXAMPLE_ZONE_ID, mx.id)).toEqual(mx);
    expect(Object.fromEntries(h.ctx.calls)).toEqual({ ListResourceRecordSets: 1 });
    expect(h.server.requests[0]!.query.get('name')).toBe('example.com.');
    expect(h.server.requests[0]!.query.get('type')).toBe('MX');
  });

  it('sends TXT quoted and MX with priority, and deletes a value by re-creating the rest', async () => {
    await h.driver.createRecord(EXAMPLE_ZONE_ID, { name: '', type: 'MX', data: 'mail3.example.com', priority: 30 });
    const last = h.server.batches.at(-1)!.changes;
    expect(last.map((c) => [c.action, c.rrset.values])).toEqual([
      ['DELETE', ['10 mail.example.com.', '20 mail2.example.com.']],
      ['CREATE', ['10 mail.example.com.', '20 mail2.example.com.', '30 mail3.example.com.']],
    ]);
    const txt = await h.driver.createRecord(EXAMPLE_ZONE_ID, { name: 'note', type: 'TXT', data: 'say "hi"', ttl: 120 });
    expect(h.server.batches.at(-1)!.changes.map((c) => [c.action, c.rrset.ttl, c.rrset.values])).toEqual([['CREATE', '120', ['"say \\"hi\\""']]]);
    await h.driver.deleteRecord(EXAMPLE_ZONE_ID, txt.id);
    expect(h.server.batches.at(-1)!.changes.map((c) => c.action)).toEqual(['DELETE']);
  });

  it('answers ConflictError when the rrset changed since it was read (the batch\'s DELETE no longer matches)', async () => {
    await h.close();
    // another client changes the rrset's TTL between our read and our write (just before the batch is sent)
    h = await harness({ onCall: (op) => op === 'ChangeResourceRecordSets' && (h.server.zones.get(EXAMPLE_ZONE_ID)!.rrsets.find((r) => r.type === 'MX')!.ttl = '7200') });
    const mx = (await h.driver.listRecords(EXAMPLE_ZONE_ID)).find((r) => r.type === 'MX')!;
    const err = await expectTypedError(h.driver.updateRecord(EXAMPLE_ZONE_ID, mx.id, { data: 'mx.example.org' }), ConflictError);
    expect(err.message).toContain('values provided do not match the current values');
    expect(h.server.zones.get(EXAMPLE_ZONE_ID)!.rrsets.find((r) => r.type === 'MX')!.values).toEqual(['10 mail.example.com.', '20 mail2.example.com.']);
  });

  it('keeps alias and weighted record sets read-only', async () => {
    const records = await h.driver.listRecords(EXAMPLE_ZONE_ID);
    const alias = records.find((r) => r.name === 'www')!;
    const weighted = records.find((r) => r.name === 'api')!;
    expect(await h.driver.getRecord(EXAMPLE_ZONE_ID, weighted.id)).toEqual(weighted);
    await expectTypedError(h.driver.deleteRecord(EXAMPLE_ZONE_ID, alias.id), UnsupportedError);
    await expectTypedError(h.driver.updateRecord(EXAMPLE_ZONE_ID, weighted.id, { ttl: 30 }), UnsupportedError);
    await expectTypedError(h.driver.createRecord(EXAMPLE_ZONE_ID, { name: 'api', type: 'A', data: '192.0.2.46' }), UnsupportedError);
    expect(h.server.batches).toHaveLength(0);
  });

  it('deletes a zone with records by emptying it first, a page at a time', async () => {
    await h.close();
    h = await harness({ server: { maxRecordPage: 4 } });
    await h.driver.deleteZone(EXAMPLE_ZONE_ID);
    expect(h.server.zones.has(EXAMPLE_ZONE_ID)).toBe(false);
    const deleted = h.server.batches.flatMap((b) => b.changes.map((c) => `${c.rrset.type} ${c.rrset.name}`));
    expect(deleted).toHaveLength(7);
    expect(deleted).not.toContain('SOA example.com.');
  });

  it('maps errors: NoSuchHostedZone, bad signature without the secret, Throttling retried', async () => {
    await expectTypedError(h.driver.getZone('ZNOPE'), NotFoundError);
    h.server.throttleNext(2);
    expect((await h.driver.listZones()).length).toBe(2);
    await h.close();
    h = await harness({ account: { credentials: { accessKeyId: ROUTE53_TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret-key-0123456789' } } });
    const err = await expectTypedError(h.driver.listZones(), AuthenticationError);
    expect(err.message).toContain('SignatureDoesNotMatch');
    expect(err.message).not.toContain('wrong-secret-key-0123456789');
  });
});

describe('route53: errors and accounts', () => {
  const info = (status: number, bodyText: string) => ({ status, headers: {}, bodyText, operation: 'ChangeResourceRecordSets' });

  it('maps both InvalidChangeBatch shapes, PriorRequestNotComplete and HostedZoneNotEmpty', () => {
    const batch = '<InvalidChangeBatch xmlns="x"><Messages><Message>Tried to create resource record set [name=\'a.example.com.\', type=\'A\'] but it already exists</Message></Messages></InvalidChangeBatch>';
    expect(parseRoute53Error(info(400, batch))).toBeInstanceOf(ConflictError);
    const invalid = '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidChangeBatch</Code><Message>Invalid Resource Record: FATAL problem: ARRDATAIllegalIPv4Address</Message></Error></ErrorResponse>';
    expect(parseRoute53Error(info(400, invalid))).toBeInstanceOf(InvalidInputError);
    const prior = '<ErrorResponse><Error><Code>PriorRequestNotComplete</Code><Message>The request was rejected because Route 53 was still processing a prior request.</Message></Error></ErrorResponse>';
    expect(parseRoute53Error(info(400, prior))).toBeInstanceOf(RateLimitedError);
    const notEmpty = '<ErrorResponse><Error><Code>HostedZoneNotEmpty</Code><Message>not empty</Message></Error></ErrorResponse>';
    expect(parseRoute53Error(info(400, notEmpty))).toBeInstanceOf(ConflictError);
  });

  it('validates accounts naming fields, never values', async () => {
    const base: AccountConfig = { id: 'r', driver: 'route53', regions: [], credentials: {}, options: {}, pollIntervalMs: 1, timeoutMs: 1 };
    expect(validateRoute53Account(base)).toEqual([]);
    const problems = validateRoute53Account({ ...base, regions: ['us-east-1'], endpoint: 'nope-xyzzy', credentials: { apiKey: 'xyzzy-k' }, options: { zone: 'xyzzy-z' } });
    expect(problems).toEqual([
      'endpoint must be an absolute http(s) URL',
      'regions: route53 is global and takes no regions',
      'credentials.apiKey is not a route53 credential (accessKeyId, secretAccessKey, sessionToken, profile)',
      'options.zone is not a route53 option (it takes only profile)',
    ]);
    expect(problems.join()).not.toContain('xyzzy');
    expect(await loadProvider('route53')).toMatchObject({ name: 'route53', services: ['DNS'], regional: false });
  });
});
