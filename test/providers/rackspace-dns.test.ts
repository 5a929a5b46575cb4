import { describe, expect, it } from 'vitest';
import { AuthenticationError, ConflictError, InvalidInputError, NotFoundError, RateLimitedError, TimeoutError } from '../../src/providers/errors.ts';
import { createRackspaceDnsInstance, parseRackspaceDnsError, validateRackspaceDnsAccount, type RackspaceDnsDeps } from '../../src/providers/rackspace/dns/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, DnsDriver } from '../../src/providers/types.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testDnsDriver } from '../conformance/dns.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { KEYSTONE_TEST_USER, OPENSTACK_TEST_TOKEN } from '../helpers/openstack-server.ts';
import { RAX_DOMAIN_ID, startRackspaceDnsServer, type RackspaceDnsServerOptions, type RackspaceDnsTestServer } from '../helpers/rackspace-dns-server.ts';

type Harness = DriverHarness<RackspaceDnsTestServer, DnsDriver>;
const FAST: RackspaceDnsDeps = { retry: { baseDelayMs: 1, maxDelayMs: 5 }, pollIntervalMs: 5, waitTimeoutMs: 5_000 };

/** `apiKey` authenticates with Keystone v2.0 RAX-KSKEY and takes rax:dns from the catalog; otherwise a preset token and endpoint. */
async function harness(opts: { server?: RackspaceDnsServerOptions; account?: Partial<AccountConfig>; deps?: RackspaceDnsDeps; apiKey?: boolean } = {}): Promise<Harness> {
  const server = await startRackspaceDnsServer(opts.server);
  const account: Partial<AccountConfig> & { driver: string } = opts.apiKey
    ? { driver: 'rackspace-dns', credentials: { auth_url: server.authUrl, username: KEYSTONE_TEST_USER.username, api_key: KEYSTONE_TEST_USER.apiKey } }
    : { driver: 'rackspace-dns', endpoint: server.endpoint, credentials: { token: OPENSTACK_TEST_TOKEN } };
  const ctx = testDriverContext({ ...account, ...opts.account });
  const instance = createRackspaceDnsInstance(ctx, { ...FAST, ...opts.deps });
  return driverHarness(server, ctx, instance, instance.dns!);
}

let conformanceServer: RackspaceDnsTestServer | undefined;
testDnsDriver({
  name: 'rackspace-dns',
  async create() {
    const h = await harness({ apiKey: true, server: { maxLimit: 2, jobPolls: 2 }, deps: { pageSize: 2 } });
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: ['updateZone'],
  missingZoneId: '999999999',
  missingRecordId: 'A-999999999',
  secrets: [OPENSTACK_TEST_TOKEN, KEYSTONE_TEST_USER.apiKey],
});

describe('rackspace-dns: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run authenticated once and waited on every change\'s job on its own endpoint', () => {
    const reqs = conformanceServer!.requests;
    expect(reqs.filter((r) => r.path === '/identity/v2.0/tokens')).toHaveLength(1);
    const changes = reqs.filter((r) => r.method !== 'GET' && r.path.startsWith('/v1.0/'));
    const polls = reqs.filter((r) => r.path.includes('/status/'));
    expect(changes.length).toBeGreaterThan(5);
    const perJob = new Map<string, number>();
    for (const p of polls) perJob.set(p.path, (perJob.get(p.path) ?? 0) + 1);
    expect(perJob.size).toBeGreaterThan(5);
    expect([...perJob.values()].every((n) => n === 2)).toBe(true);
    expect(polls.every((p) => p.query.get('showDetails') === 'true')).toBe(true);
  });

  it('maps domains and records: FQDN names made relative, MX and SRV priorities', async () => {
    const zones = await h.driver.listZones();
    expect(zones.map((z) => [z.id, z.domain, z.ttl])).toEqual([
      [RAX_DOMAIN_ID, 'example.com', null],
      ['2725257', 'sub1.example.com', null],
    ]);
    expect(await h.driver.getZone(RAX_DOMAIN_ID)).toMatchObject({ ttl: 3600, extra: { email: 'sample@rackspace.com' } });
    const records = await h.driver.listRecords(RAX_DOMAIN_ID);
    expect(records.filter((r) => r.name === 'www').map((r) => [r.id, r.data])).toEqual([
      ['A-6822994', '192.0.2.17'],
      ['A-6822995', '192.0.2.18'],
    ]);
    expect(records.find((r) => r.type === 'MX')).toMatchObject({ name: '', data: 'mail.example.com', priority: 5 });
    expect(records.find((r) => r.type === 'SRV')).toMatchObject({ name: '_sip._tcp', data: '60 5060 sip.example.com', priority: 10 });
    expect(records.find((r) => r.id === 'A-6822994')!.extra.comment).toBe('primary web');
  });

  it('pages with limit and offset, one call per page', async () => {
    await h.close();
    h = await harness({ server: { maxLimit: 4 }, deps: { pageSize: 4 } });
    h.ctx.resetCalls();
    expect(await h.driver.listRecords(RAX_DOMAIN_ID)).toHaveLength(9);
    expect(Object.fromEntries(h.ctx.calls)).toEqual({ 'GET /domains/{id}': 1, 'GET /domains/{id}/records': 3 });
    expect(h.server.requests.filter((r) => r.path.endsWith('/records')).map((r) => r.query.get('offset'))).toEqual(['0', '4', '8']);
  });

  it('sends FQDN names without trailing dots and reads the created record from the job', async () => {
    const mx = await h.driver.createRecord(RAX_DOMAIN_ID, { name: 'lists', type: 'MX', data: 'mx.example.net.', priority: 20, ttl: 600 });
    expect(mx).toMatchObject({ name: 'lists', type: 'MX', data: 'mx.example.net', priority: 20, ttl: 600 });
    expect(mx.id).toMatch(/^MX-\d+$/);
    const post = h.server.requests.find((r) => r.method === 'POST')!;
    expect(JSON.parse(post.body.toString())).toEqual({ records: [{ name: 'lists.example.com', type: 'MX', data: 'mx.example.net', ttl: 600, priority: 20 }] });
  });

  it('changes a record\'s type by adding the new record before removing the old one', async () => {
    const changed = await h.driver.updateRecord(RAX_DOMAIN_ID, 'A-6817754', { type: 'AAAA', data: '2001:db8::17' });
    expect(changed).toMatchObject({ name: '', type: 'AAAA', data: '2001:db8::17', ttl: 86400 });
    expect(changed.id).toMatch(/^AAAA-\d+$/);
    await expectTypedError(h.driver.getRecord(RAX_DOMAIN_ID, 'A-6817754'), NotFoundError);
    expect(h.server.requests.filter((r) => r.method !== 'GET').map((r) => r.method)).toEqual(['POST', 'DELETE']);
  });

  it('turns ERROR jobs into typed errors: a duplicate is a ConflictError, a CNAME beside data bad input', async () => {
    const dup = await expectTypedError(h.driver.createRecord(RAX_DOMAIN_ID, { name: 'www', type: 'A', data: '192.0.2.17' }), ConflictError);
    expect(dup.message).toContain('duplicate');
    await expectTypedError(h.driver.createRecord(RAX_DOMAIN_ID, { name: 'www', type: 'CNAME', data: 'x.example.net' }), InvalidInputError);
    await expectTypedError(h.driver.createZone({ domain: 'example.com' }), ConflictError);
  });

  it('refuses TTLs under 300 before calling, and gives up on a job at its deadline', async () => {
    await expectTypedError(h.driver.createRecord(RAX_DOMAIN_ID, { name: 'x', type: 'A', data: '192.0.2.1', ttl: 60 }), InvalidInputError, 'ttl');
    expect(h.server.requests).toHaveLength(0);
    await h.close();
    h = await harness({ server: { jobPolls: 1000 }, deps: { waitTimeoutMs: 30 } });
    await expectTypedError(h.driver.deleteRecord(RAX_DOMAIN_ID, 'A-6817754'), TimeoutError);
  });

  it('answers NotFoundError for unknown ids and 401 without the token', async () => {
    await expectTypedError(h.driver.getRecord(RAX_DOMAIN_ID, 'A-1'), NotFoundError);
    await expectTypedError(h.driver.getZone('not-a-number'), NotFoundError);
    await h.close();
    h = await harness({ account: { credentials: { token: 'rax-wrong-token-0123456789' } } });
    const err = await expectTypedError(h.driver.listZones(), AuthenticationError);
    expect(err.message).not.toContain('rax-wrong-token-0123456789');
  });
});

describe('rackspace-dns: errors and accounts', () => {
  it('maps 413 overLimit to RateLimitedError with Retry-After', () => {
    const err = parseRackspaceDnsError({ status: 413, headers: { 'retry-after': '5' }, bodyText: '{"overLimit":{"code":413,"message":"OverLimit Retry..."}}', operation: 'GET /domains' });
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(5000);
  });

  it('validates accounts naming fields, never values', async () => {
    const base: AccountConfig = { id: 'r', driver: 'rackspace-dns', regions: [], credentials: { token: 't' }, endpoint: 'https://dns.api.rackspacecloud.com/v1.0/1', options: {}, pollIntervalMs: 1, timeoutMs: 1 };
    expect(validateRackspaceDnsAccount(base)).toEqual([]);
    const problems = validateRackspaceDnsAccount({ ...base, regions: ['DFW'], options: { x: 'xyzzy' } });
    expect(problems).toEqual(['regions: Cloud DNS is global and takes no regions', 'options.x is not a rackspace-dns option (it takes only cloud)']);
    expect(validateRackspaceDnsAccount({ ...base, endpoint: undefined, credentials: { api_key: 'k' } })).toEqual(['credentials.username is required']);
    expect(await loadProvider('rackspace-dns')).toMatchObject({ name: 'rackspace-dns', services: ['DNS'], regional: false });
  });
});
