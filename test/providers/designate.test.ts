import { describe, expect, it } from 'vitest';
import { AuthenticationError, ConflictError, InvalidInputError, NotFoundError, TimeoutError } from '../../src/providers/errors.ts';
import { createDesignateInstance, validateDesignateAccount, type DesignateDeps } from '../../src/providers/openstack/designate/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, DnsDriver } from '../../src/providers/types.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testDnsDriver } from '../conformance/dns.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { DESIGNATE_ZONE_ID, startDesignateServer, type DesignateServerOptions, type DesignateTestServer } from '../helpers/designate-server.ts';
import { KEYSTONE_TEST_USER, OPENSTACK_TEST_TOKEN } from '../helpers/openstack-server.ts';

type Harness = DriverHarness<DesignateTestServer, DnsDriver>;
const FAST: DesignateDeps = { retry: { baseDelayMs: 1, maxDelayMs: 5 }, pollIntervalMs: 10, waitTimeoutMs: 5_000 };
const MISSING = '00000000-dead-4bad-8bad-000000000000';

/** `keystone` authenticates with Keystone v3 and takes the dns endpoint from the catalog; otherwise a preset token and endpoint. */
async function harness(opts: { server?: DesignateServerOptions; account?: Partial<AccountConfig>; deps?: DesignateDeps; keystone?: boolean } = {}): Promise<Harness> {
  const server = await startDesignateServer(opts.server);
  const account: Partial<AccountConfig> & { driver: string } = opts.keystone
    ? { driver: 'designate', regions: ['RegionOne'], credentials: { auth_url: server.authUrl, username: KEYSTONE_TEST_USER.username, password: KEYSTONE_TEST_USER.password, project_name: KEYSTONE_TEST_USER.project, user_domain_name: 'Default', project_domain_name: 'Default' } }
    : { driver: 'designate', regions: ['RegionOne'], endpoint: `${server.url}/v2`, credentials: { token: OPENSTACK_TEST_TOKEN } };
  const ctx = testDriverContext({ ...account, ...opts.account }, { region: 'RegionOne' });
  const instance = createDesignateInstance(ctx, { ...FAST, ...opts.deps });
  return driverHarness(server, ctx, instance, instance.dns!);
}

let conformanceServer: DesignateTestServer | undefined;
testDnsDriver({
  name: 'designate',
  async create() {
    const h = await harness({ keystone: true, server: { maxLimit: 2 } });
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: ['updateZone'],
  missingZoneId: MISSING,
  missingRecordId: `${MISSING}:MTkyLjAuMi4y`,
  secrets: [OPENSTACK_TEST_TOKEN, KEYSTONE_TEST_USER.password],
});

describe('designate: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run authenticated once with Keystone and sent its token on every Designate call', () => {
    const reqs = conformanceServer!.requests;
    expect(reqs.filter((r) => r.path === '/identity/v3/auth/tokens')).toHaveLength(1);
    const dns = reqs.filter((r) => r.path.startsWith('/v2/'));
    expect(dns.length).toBeGreaterThan(20);
    expect(dns.every((r) => r.headers['x-auth-token'] === OPENSTACK_TEST_TOKEN)).toBe(true);
  });

  it('maps zones and recordsets: one record per value, TXT unquoted, statuses in extra', async () => {
    const zones = await h.driver.listZones();
    expect(zones.map((z) => [z.id, z.domain, z.type, z.ttl])).toEqual([
      [DESIGNATE_ZONE_ID, 'example.org', 'master', 7200],
      ['fdd7b0dc-52a3-491e-829f-41d18e1d3ada', 'partner.example.net', 'slave', 3600],
    ]);
    expect(zones[1]!.extra).toMatchObject({ masters: ['192.0.2.53'], status: 'ACTIVE' });
    const records = await h.driver.listRecords(DESIGNATE_ZONE_ID);
    expect(records.filter((r) => r.name === 'www').map((r) => [r.data, r.ttl])).toEqual([
      ['198.51.100.10', 3600],
      ['198.51.100.11', 3600],
    ]);
    expect(records.filter((r) => r.type === 'MX').map((r) => [r.data, r.priority])).toEqual([
      ['mail.example.org', 10],
      ['backup-mx.example.net', 20],
    ]);
    expect(records.find((r) => r.type === 'TXT')).toMatchObject({ name: '', data: 'v=spf1 mx ~all', ttl: 300 });
    expect(records.find((r) => r.type === 'SRV')).toMatchObject({ name: '_ldap._tcp', data: '100 389 ldap.example.org', priority: 0, extra: { status: 'PENDING', action: 'CREATE' } });
    expect(records.find((r) => r.type === 'NS')).toMatchObject({ ttl: null });
  });

  it('pages with limit and marker, one call per page, on its own endpoint', async () => {
    await h.close();
    h = await harness({ server: { maxLimit: 4 }, deps: { pageSize: 4 } });
    h.ctx.resetCalls();
    expect((await h.driver.listRecords(DESIGNATE_ZONE_ID)).length).toBe(9);
    expect(Object.fromEntries(h.ctx.calls)).toEqual({ 'GET /v2/zones/{id}': 1, 'GET /v2/zones/{id}/recordsets': 2 });
    const pages = h.server.requests.filter((r) => r.path.endsWith('/recordsets'));
    expect(pages.map((r) => r.query.get('marker'))).toEqual([null, '0c9d6a3e-3b7a-4f62-8a2b-6b0e9a1d5c21']);
  });

  it('adds a value to its recordset with PUT, quoted TXT in a new one with POST', async () => {
    await h.driver.createRecord(DESIGNATE_ZONE_ID, { name: 'www', type: 'A', data: '198.51.100.12' });
    const www = h.server.recordsets.get(DESIGNATE_ZONE_ID)!.find((r) => r.name === 'www.example.org.')!;
    expect(www.records).toEqual(['198.51.100.10', '198.51.100.11', '198.51.100.12']);
    expect(h.server.requests.at(-1)).toMatchObject({ method: 'PUT' });
    const txt = await h.driver.createRecord(DESIGNATE_ZONE_ID, { name: 'sel._domainkey', type: 'TXT', data: 'k=rsa; p=ABC "x"', ttl: 600 });
    const created = h.server.recordsets.get(DESIGNATE_ZONE_ID)!.find((r) => r.name === 'sel._domainkey.example.org.')!;
    expect(created).toMatchObject({ type: 'TXT', records: ['"k=rsa; p=ABC \\"x\\""'], ttl: 600 });
    expect(await h.driver.getRecord(DESIGNATE_ZONE_ID, txt.id)).toMatchObject({ data: 'k=rsa; p=ABC "x"', ttl: 600 });
  });

  it('moves a value to another name: POST there first, then PUT what is left', async () => {
    const records = await h.driver.listRecords(DESIGNATE_ZONE_ID);
    const one = records.find((r) => r.data === '198.51.100.11')!;
    const moved = await h.driver.updateRecord(DESIGNATE_ZONE_ID, one.id, { name: 'web2' });
    expect(moved).toMatchObject({ name: 'web2', data: '198.51.100.11', ttl: null });
    const writes = h.server.requests.filter((r) => r.method !== 'GET').map((r) => r.method);
    expect(writes).toEqual(['POST', 'PUT']);
    expect(h.server.recordsets.get(DESIGNATE_ZONE_ID)!.find((r) => r.name === 'www.example.org.')!.records).toEqual(['198.51.100.10']);
  });

  it('deletes the recordset with its last value', async () => {
    const txt = (await h.driver.listRecords(DESIGNATE_ZONE_ID)).find((r) => r.type === 'TXT')!;
    await h.driver.deleteRecord(DESIGNATE_ZONE_ID, txt.id);
    expect(h.server.requests.at(-1)).toMatchObject({ method: 'DELETE' });
    expect(h.server.recordsets.get(DESIGNATE_ZONE_ID)!.some((r) => r.type === 'TXT')).toBe(false);
    await expectTypedError(h.driver.getRecord(DESIGNATE_ZONE_ID, txt.id), NotFoundError);
  });

  it('maps Designate errors: 409 duplicate zone, 400 invalid input, 401 without the token', async () => {
    await expectTypedError(h.driver.createZone({ domain: 'example.org' }), ConflictError);
    const err = await expectTypedError(h.driver.createRecord(DESIGNATE_ZONE_ID, { name: 'www', type: 'CNAME', data: 'x.example.net' }), InvalidInputError);
    expect(err.message).toContain('CNAME recordsets may not share a name');
    await h.close();
    h = await harness({ account: { credentials: { token: 'gAAAAAwrong-token-0123456789' } } });
    const auth = await expectTypedError(h.driver.listZones(), AuthenticationError);
    expect(auth.message).not.toContain('gAAAAAwrong-token-0123456789');
  });

  it('gives up waiting for a deleted zone at its deadline', async () => {
    await h.close();
    h = await harness({ server: { transitionMs: 60_000 }, deps: { waitTimeoutMs: 50 } });
    await expectTypedError(h.driver.deleteZone(DESIGNATE_ZONE_ID), TimeoutError);
  });
});

describe('designate: accounts', () => {
  it('validates accounts naming fields, never values', async () => {
    const base: AccountConfig = { id: 'd', driver: 'designate', regions: ['RegionOne'], endpoint: 'http://127.0.0.1:9001', credentials: { token: 't' }, options: {}, pollIntervalMs: 1, timeoutMs: 1 };
    expect(validateDesignateAccount(base)).toEqual([]);
    const problems = validateDesignateAccount({ ...base, options: { zone: 'xyzzy' } });
    expect(problems).toEqual(['options.zone is not a designate option (it takes only cloud)']);
    expect(await loadProvider('designate')).toMatchObject({ name: 'designate', services: ['DNS'], regional: true, defaultRegion: 'RegionOne' });
  });
});
