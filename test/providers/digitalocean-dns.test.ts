import { describe, expect, it } from 'vitest';
import { AuthenticationError, ConflictError, InvalidInputError, NotFoundError, RateLimitedError } from '../../src/providers/errors.ts';
import { createDigitalOceanDnsInstance, validateDigitalOceanDnsAccount } from '../../src/providers/digitalocean/index.ts';
import type { RestDeps } from '../../src/providers/rest/account.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, DnsDriver } from '../../src/providers/types.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testDnsDriver } from '../conformance/dns.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { DIGITALOCEAN_TEST_TOKEN, startDigitalOceanServer, type DigitalOceanServerOptions, type DigitalOceanTestServer } from '../helpers/digitalocean-dns-server.ts';

type Harness = DriverHarness<DigitalOceanTestServer, DnsDriver>;
const FAST: RestDeps = { retry: { baseDelayMs: 1, maxDelayMs: 5 }, sleep: async () => undefined };

async function harness(opts: { server?: DigitalOceanServerOptions; account?: Partial<AccountConfig>; deps?: RestDeps } = {}): Promise<Harness> {
  const server = await startDigitalOceanServer(opts.server);
  const ctx = testDriverContext({ driver: 'digitalocean-dns', endpoint: server.url, credentials: { token: DIGITALOCEAN_TEST_TOKEN }, ...opts.account });
  const instance = createDigitalOceanDnsInstance(ctx, { ...FAST, ...opts.deps });
  return driverHarness(server, ctx, instance, instance.dns!);
}

let conformanceServer: DigitalOceanTestServer | undefined;
testDnsDriver({
  name: 'digitalocean-dns',
  async create() {
    const h = await harness({ server: { maxPerPage: 3 } });
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: [],
  missingZoneId: 'missing.example.invalid',
  missingRecordId: '999999999',
  secrets: [DIGITALOCEAN_TEST_TOKEN],
});

describe('digitalocean-dns: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run sent the bearer token on every request and fully qualified hosts', () => {
    const server = conformanceServer!;
    expect(server.requests.length).toBeGreaterThan(20);
    expect(server.requests.every((r) => r.headers.authorization === `Bearer ${DIGITALOCEAN_TEST_TOKEN}`)).toBe(true);
    expect(server.written.find((b) => b.type === 'MX')).toMatchObject({ name: '@', priority: 10 });
    expect(String(server.written.find((b) => b.type === 'MX')!.data)).toMatch(/^mail\..*\.example\.com\.$/);
  });

  it('maps domains and records: @ and relative hosts made absolute, SRV and CAA parts joined', async () => {
    expect((await h.driver.listZones()).map((z) => [z.id, z.domain, z.ttl])).toEqual([
      ['example.com', 'example.com', 1800],
      ['shop.example.org', 'shop.example.org', 1800],
    ]);
    const records = await h.driver.listRecords('example.com');
    const by = (id: string) => records.find((r) => r.id === id)!;
    expect(by('28448432')).toMatchObject({ type: 'SOA', name: '', data: '1800' });
    expect(by('28448436')).toMatchObject({ type: 'MX', name: '', data: 'mail.example.com', priority: 10, ttl: 14400 });
    expect(by('28448437')).toMatchObject({ type: 'CNAME', name: 'docs', data: 'example.com' });
    expect(by('28448438')).toMatchObject({ type: 'CNAME', name: 'blog', data: 'www.example.com' });
    expect(by('28448440')).toMatchObject({ type: 'SRV', name: '_xmpp._tcp', data: '0 5222 xmpp.example.com', priority: 5 });
    expect(by('28448441')).toMatchObject({ type: 'CAA', data: '0 issue "letsencrypt.org"', priority: null });
    expect(by('28448430')).toMatchObject({ type: 'NS', data: 'ns2.digitalocean.com' });
  });

  it('pages with per_page and follows links.pages.next on its own endpoint, one call per page', async () => {
    await h.close();
    h = await harness({ server: { maxPerPage: 5 }, deps: { pageSize: 5 } });
    const records = await h.driver.listRecords('example.com');
    expect(records).toHaveLength(13);
    expect(h.ctx.totalCalls()).toBe(3);
    expect(h.server.requests.map((r) => `${r.query.get('page') ?? '-'}/${r.query.get('per_page')}`)).toEqual(['1/5', '2/5', '3/5']);
  });

  it('sends SRV and CAA split into their fields and reads them back', async () => {
    const srv = await h.driver.createRecord('example.com', { name: '_sip._udp', type: 'SRV', data: '10 5060 sip.example.com', priority: 20, ttl: 600 });
    expect(h.server.written.at(-1)).toEqual({ type: 'SRV', name: '_sip._udp', data: 'sip.example.com.', priority: 20, port: 5060, weight: 10, ttl: 600, flags: null, tag: null });
    expect(srv).toMatchObject({ data: '10 5060 sip.example.com', priority: 20, ttl: 600 });
    const caa = await h.driver.createRecord('example.com', { name: '', type: 'CAA', data: '128 issuewild "pki.example.net"' });
    expect(h.server.written.at(-1)).toMatchObject({ type: 'CAA', name: '@', data: 'pki.example.net', flags: 128, tag: 'issuewild' });
    expect(caa.data).toBe('128 issuewild "pki.example.net"');
  });

  it('updates with PUT of the whole record, after one GET', async () => {
    h.ctx.resetCalls();
    const updated = await h.driver.updateRecord('example.com', '28448436', { priority: 5 });
    expect(updated).toMatchObject({ id: '28448436', type: 'MX', data: 'mail.example.com', priority: 5 });
    expect(h.server.written.at(-1)).toMatchObject({ type: 'MX', name: '@', data: 'mail.example.com.', priority: 5, ttl: 14400 });
    expect(Object.fromEntries(h.ctx.calls)).toEqual({ 'GET /v2/domains/{name}/records/{id}': 1, 'PUT /v2/domains/{name}/records/{id}': 1 });
  });

  it('maps 422 to ConflictError or InvalidInputError by its message, 404 to NotFoundError, a bad token to AuthenticationError without it', async () => {
    const err = await expectTypedError(h.driver.createRecord('example.com', { name: 'www', type: 'CNAME', data: 'elsewhere.example.net' }), ConflictError);
    expect(err.message).toContain('CNAME records cannot share a name with other records.');
    expect(err.status).toBe(422);
    const low = await expectTypedError(h.driver.createRecord('example.com', { name: 'fast', type: 'A', data: '192.0.2.5', ttl: 10 }), InvalidInputError);
    expect(low.message).toContain('Ttl must be at least 30.');
    await expectTypedError(h.driver.getRecord('example.com', '1'), NotFoundError);
    await expectTypedError(h.driver.getRecord('example.com', 'abc'), NotFoundError);
    expect(h.server.requests.filter((r) => r.path.endsWith('/abc'))).toHaveLength(0);
    await h.close();
    h = await harness({ account: { credentials: { token: 'dop_v1_wrong_token_0123456789' } } });
    const auth = await expectTypedError(h.driver.listZones(), AuthenticationError);
    expect(auth.message).toContain('Unable to authenticate you');
    expect(auth.message).not.toContain('dop_v1_wrong_token_0123456789');
  });

  it('waits out a 429 until ratelimit-reset, then goes on', async () => {
    const slept: number[] = [];
    await h.close();
    h = await harness({ deps: { sleep: async (ms) => void slept.push(ms) } });
    h.server.rateLimitNext(1, 2);
    expect((await h.driver.listZones()).length).toBe(2);
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeGreaterThan(0);
  });
});

describe('digitalocean-dns: errors and accounts', () => {
  it('reads ratelimit-reset into retryAfterMs when the retries are spent', async () => {
    const h = await harness({ deps: { retry: { retries: 0 } } });
    try {
      h.server.rateLimitNext(1, 30);
      const err = await expectTypedError(h.driver.listZones(), RateLimitedError);
      expect(err.retryAfterMs).toBeGreaterThan(28_000);
      // why: the server rounds the reset up to a whole second
      expect(err.retryAfterMs).toBeLessThanOrEqual(31_000);
      expect(err.message).not.toContain(DIGITALOCEAN_TEST_TOKEN);
    } finally {
      await h.close();
    }
  });

  it('takes the token from DIGITALOCEAN_TOKEN when the account has none, and says so when neither has one', async () => {
    let h = await harness({ account: { credentials: {} }, deps: { env: { DIGITALOCEAN_TOKEN: DIGITALOCEAN_TEST_TOKEN } } });
    try {
      expect(await h.driver.listZones()).toHaveLength(2);
    } finally {
      await h.close();
    }
    h = await harness({ account: { credentials: {} }, deps: { env: {} } });
    try {
      const none = await expectTypedError(h.driver.listZones(), AuthenticationError);
      expect(none.message).toContain('DIGITALOCEAN_TOKEN');
      expect(h.server.requests).toHaveLength(0);
    } finally {
      await h.close();
    }
  });

  it('validates accounts naming fields, never values', async () => {
    const base: AccountConfig = { id: 'd', driver: 'digitalocean-dns', regions: [], credentials: { token: 't' }, options: {}, pollIntervalMs: 1, timeoutMs: 1 };
    expect(validateDigitalOceanDnsAccount(base, {})).toEqual([]);
    expect(validateDigitalOceanDnsAccount({ ...base, credentials: {} }, { DIGITALOCEAN_TOKEN: 'x' })).toEqual([]);
    const problems = validateDigitalOceanDnsAccount({ ...base, credentials: { apiKey: 'xyzzy' }, options: { x: 'xyzzy' }, endpoint: 'not a url' }, {});
    expect(problems).toEqual([
      'credentials.apiKey is not a digitalocean-dns credential (it takes only token)',
      'credentials.token is required (or set DIGITALOCEAN_TOKEN)',
      'endpoint must be an absolute URL (the API base, like https://api.digitalocean.com)',
      'options.x is not a digitalocean-dns option (known: none)',
    ]);
    expect(problems.join(' ')).not.toContain('xyzzy');
    expect(await loadProvider('digitalocean-dns')).toMatchObject({ name: 'digitalocean-dns', services: ['DNS'], regional: false });
  });

  it('refuses record input it cannot send before calling', async () => {
    const h = await harness();
    try {
      await expectTypedError(h.driver.createRecord('example.com', { name: 'x', type: 'PTR', data: 'host.example.com' }), InvalidInputError, 'type');
      expect(h.server.requests).toHaveLength(0);
      await expectTypedError(h.driver.createZone({ domain: 'example.com' }), ConflictError);
    } finally {
      await h.close();
    }
  });
});
