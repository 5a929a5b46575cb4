/**
 * Google Cloud DNS: the shared DNS conformance suite against the Cloud DNS stand-in
 * (test/helpers/gce-server/dns.ts, with the Google token endpoint), then what is particular to
 * google-dns: managed zone and rrset mapping, paging, changes that delete the rrset exactly as
 * read (412 / 409 / 404 when another writer got there first), 429 and 401 handling, and the
 * service-account key never in an error.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthenticationError, ConflictError, InvalidInputError, NotFoundError, RateLimitedError, UnsupportedError } from '../../src/providers/errors.ts';
import type { GoogleDeps } from '../../src/providers/google/client.ts';
import { createGoogleDnsInstance, googleDnsProvider, parseGoogleDnsError, validateGoogleDnsAccount, zoneNameFor } from '../../src/providers/google/dns/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, DnsDriver } from '../../src/providers/types.ts';
import { expectTypedError, modelChecks } from '../conformance/assertions.ts';
import { testDnsDriver } from '../conformance/dns.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { startGoogleDnsServer, testServiceAccount, type GoogleDnsServerOptions, type GoogleDnsTestServer } from '../helpers/gce-server/index.ts';

const FAST: GoogleDeps = { retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 }, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))), env: {} };
/** lines from the middle of the test service account's private key: none may ever leak */
const KEY_LINES = testServiceAccount('http://127.0.0.1/token').privateKeyPem.split('\n').slice(3, 6);
const check = modelChecks(KEY_LINES);
const ZONE = 'example-com';

type Harness = DriverHarness<GoogleDnsTestServer, DnsDriver>;

async function harness(opts: { server?: GoogleDnsServerOptions; account?: Partial<AccountConfig>; deps?: GoogleDeps; onCall?: (operation: string) => void } = {}): Promise<Harness> {
  const server = await startGoogleDnsServer(opts.server);
  const ctx = testDriverContext(
    { driver: 'google-dns', endpoint: server.url, credentials: { serviceAccountJson: server.serviceAccountJson }, ...opts.account },
    opts.onCall ? { recordCall: opts.onCall } : {},
  );
  const instance = createGoogleDnsInstance(ctx, { ...FAST, ...opts.deps });
  return driverHarness(server, ctx, instance, instance.dns!);
}

const api = (h: Harness, pattern: RegExp) => h.server.requests.filter((r) => r.path.startsWith('/dns/v1/') && pattern.test(`${r.method} ${r.path}`));
const changeBodies = (h: Harness) => api(h, /^POST .*\/changes$/).map((r) => JSON.parse(r.body.toString('utf8')) as { deletions?: { name: string; type: string; ttl: number; rrdatas?: string[] }[]; additions?: { name: string; type: string; ttl: number; rrdatas: string[] }[] });
const rrset = (h: Harness, name: string, type: string) => h.server.dns.zones.get(ZONE)!.rrsets.find((r) => r.name === name && r.type === type);

let conformanceServer: GoogleDnsTestServer | undefined;
testDnsDriver({
  name: 'google-dns',
  async create() {
    // why: two items a page, so every listing of the suite crosses page boundaries
    const h = await harness({ server: { maxResults: 2 }, deps: { pageSize: 2 } });
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: [],
  missingZoneId: 'sgc-missing-zone',
  missingRecordId: 'A:nowhere:MTkyLjAuMi4y',
  secrets: KEY_LINES,
});

describe('google-dns: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run used one token with the Cloud DNS scope and changed rrsets only through exact deletions plus additions', () => {
    const server = conformanceServer!;
    expect(server.token.issued).toBe(1);
    expect(server.token.grants[0]).toMatchObject({ scope: 'https://www.googleapis.com/auth/ndev.clouddns.readwrite' });
    const apiCalls = server.requests.filter((r) => r.path.startsWith('/dns/v1/'));
    expect(apiCalls.length).toBeGreaterThan(20);
    expect(new Set(apiCalls.map((r) => r.headers.authorization)).size).toBe(1);
    // the second A value replaced the one-value rrset in one change
    const shapes = server.dns.changes.map((c) => `${c.deletions.map((d) => `-${String(d.type)}${(d.rrdatas as string[]).length}`).join('')}${c.additions.map((a) => `+${String(a.type)}${(a.rrdatas as string[]).length}`).join('')}`);
    expect(shapes).toContain('-A1+A2');
    expect(shapes[0]).toBe('+A1');
  });

  it('maps managed zones: names as ids, lower-case domains, no zone TTL, the zone settings in extra', async () => {
    const zones = await h.driver.listZones();
    expect(zones.map((z) => [z.id, z.domain, z.type, z.ttl])).toEqual([
      ['example-com', 'example.com', 'master', null],
      ['internal-example-net', 'internal.example.net', 'master', null],
    ]);
    expect(zones[0]!.extra).toMatchObject({ numericId: '4718904322131596825', visibility: 'public', dnssec: 'on', labels: { team: 'web' }, nameServers: ['ns-cloud-a1.googledomains.com', 'ns-cloud-a2.googledomains.com', 'ns-cloud-a3.googledomains.com', 'ns-cloud-a4.googledomains.com'] });
    expect(zones[1]!.extra).toMatchObject({ visibility: 'private', dnssec: 'off', description: '' });
    // Cloud DNS also takes the numeric id in the path
    expect(await h.driver.getZone('4718904322131596825')).toMatchObject({ id: 'example-com', domain: 'example.com' });
  });

  it('maps record sets: one record per rrdata, TXT strings joined, canonical AAAA, wildcard, routing policies with their items', async () => {
    const records = await h.driver.listRecords(ZONE);
    expect(records).toHaveLength(18);
    expect(records.filter((r) => r.type === 'MX').map((r) => [r.name, r.data, r.priority, r.ttl])).toEqual([
      ['', 'mail.example.com', 10, 3600],
      ['', 'mail2.example.com', 20, 3600],
    ]);
    expect(records.filter((r) => r.type === 'TXT').map((r) => r.data)).toEqual(['v=spf1 include:_spf.google.com ~all', 'google-site-verification=rXOxyZounnZasA8Z7oaD3c14JdjS9aKSWvsR1EbUSIQ']);
    expect(records.find((r) => r.type === 'AAAA')).toMatchObject({ name: 'www', data: '2001:db8::10' });
    expect(records.find((r) => r.type === 'CNAME')).toMatchObject({ name: '*.dev', data: 'dev-lb.example.com', ttl: 60 });
    expect(records.find((r) => r.type === 'SRV')).toMatchObject({ name: '_sip._tcp', data: '5 5060 sip.example.com', priority: 10 });
    expect(records.find((r) => r.type === 'SOA')).toMatchObject({ name: '', ttl: 21600 });
    expect(records.filter((r) => r.name === 'api').map((r) => [r.data, r.extra])).toEqual([
      ['192.0.2.44', { routingPolicy: 'wrr', weight: 0.9 }],
      ['192.0.2.45', { routingPolicy: 'wrr', weight: 0.1 }],
    ]);
    expect(records.filter((r) => r.name === 'geo').map((r) => [r.data, r.extra])).toEqual([
      ['192.0.2.50', { routingPolicy: 'geo', location: 'us-east1' }],
      ['192.0.2.51', { routingPolicy: 'geo', location: 'europe-west1' }],
    ]);
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
  });

  it('lists rrsets and zones one call per page, following nextPageToken', async () => {
    await h.close();
    h = await harness({ server: { maxResults: 3 }, deps: { pageSize: 3 } });
    await h.driver.getZone(ZONE);
    h.ctx.resetCalls();
    expect(await h.driver.listRecords(ZONE)).toHaveLength(18);
    // ten rrsets, three a page
    expect(Object.fromEntries(h.ctx.calls)).toEqual({ 'GET rrsets': 4 });
    const pages = api(h, /\/rrsets$/);
    expect(pages.map((r) => r.query.get('maxResults'))).toEqual(['3', '3', '3', '3']);
    expect(pages[0]!.query.has('pageToken')).toBe(false);
    expect(pages.slice(1).every((r) => r.query.get('pageToken'))).toBe(true);
    await h.close();
    h = await harness({ server: { maxResults: 1 } });
    expect((await h.driver.listZones()).map((z) => z.id)).toEqual(['example-com', 'internal-example-net']);
    expect(h.ctx.calls.get('GET managedZones')).toBe(2);
    // without deps.pageSize the driver leaves maxResults to Cloud DNS
    expect(api(h, /\/managedZones$/).every((r) => !r.query.has('maxResults'))).toBe(true);
  });

  it('finds one record with one rrsets call filtered to its name and type', async () => {
    const mx = (await h.driver.listRecords(ZONE)).find((r) => r.type === 'MX' && r.priority === 20)!;
    h.ctx.resetCalls();
    h.server.requests.length = 0;
    expect(await h.driver.getRecord(ZONE, mx.id)).toEqual(mx);
    expect(Object.fromEntries(h.ctx.calls)).toEqual({ 'GET rrsets': 1 });
    expect([h.server.requests[0]!.query.get('name'), h.server.requests[0]!.query.get('type')]).toEqual(['example.com.', 'MX']);
    const wrr = (await h.driver.listRecords(ZONE)).find((r) => r.name === 'api')!;
    expect(await h.driver.getRecord(ZONE, wrr.id)).toEqual(wrr);
  });

  it('changes an rrset by deleting it exactly as read and adding what it becomes, in one change', async () => {
    await h.driver.createRecord(ZONE, { name: '', type: 'MX', data: 'mail3.example.com', priority: 30 });
    expect(changeBodies(h).at(-1)).toEqual({
      deletions: [{ kind: 'dns#resourceRecordSet', name: 'example.com.', type: 'MX', ttl: 3600, rrdatas: ['10 mail.example.com.', '20 mail2.example.com.'] }],
      additions: [{ name: 'example.com.', type: 'MX', ttl: 3600, rrdatas: ['10 mail.example.com.', '20 mail2.example.com.', '30 mail3.example.com.'] }],
    });
    const txt = await h.driver.createRecord(ZONE, { name: 'note', type: 'TXT', data: `say "hi" ${'x'.repeat(300)}`, ttl: 120 });
    const added = changeBodies(h).at(-1)!;
    expect(added.deletions).toBeUndefined();
    expect(added.additions![0]!.rrdatas[0]).toMatch(/^"say \\"hi\\" x+" "x+"$/);
    expect((await h.driver.getRecord(ZONE, txt.id)).data).toBe(`say "hi" ${'x'.repeat(300)}`);
    await h.driver.deleteRecord(ZONE, txt.id);
    expect(changeBodies(h).at(-1)).toEqual({ deletions: [expect.objectContaining({ name: 'note.example.com.', type: 'TXT', ttl: 120 })] });
    // moving a value to another name rewrites both rrsets in one change
    const www = (await h.driver.listRecords(ZONE)).find((r) => r.name === 'www' && r.data === '192.0.2.10')!;
    const moved = await h.driver.updateRecord(ZONE, www.id, { name: 'web' });
    expect(moved).toMatchObject({ name: 'web', type: 'A', data: '192.0.2.10', ttl: 300 });
    const last = changeBodies(h).at(-1)!;
    expect(last.deletions!.map((d) => [d.name, d.rrdatas])).toEqual([['www.example.com.', ['192.0.2.10', '192.0.2.11']]]);
    expect(last.additions!.map((a) => [a.name, a.rrdatas])).toEqual([
      ['www.example.com.', ['192.0.2.11']],
      ['web.example.com.', ['192.0.2.10']],
    ]);
    expect(h.server.dns.changes.map((c) => c.status)).toContain('pending');
    expect(rrset(h, 'web.example.com.', 'A')).toMatchObject({ rrdatas: ['192.0.2.10'] });
  });

  it('answers ConflictError (412 conditionNotMet) when the rrset changed since it was read, and changes nothing', async () => {
    await h.close();
    // another client changes the MX TTL between our read and our write (just before the change is sent)
    h = await harness({ onCall: (op) => op === 'POST changes' && (rrset(h, 'example.com.', 'MX')!.ttl = 7200) });
    const mx = (await h.driver.listRecords(ZONE)).find((r) => r.type === 'MX')!;
    const err = await expectTypedError(h.driver.updateRecord(ZONE, mx.id, { data: 'mx.example.org' }), ConflictError);
    expect(err.message).toBe("[google-dns] POST changes 412 conditionNotMet: Precondition not met for 'entity.change.deletions[0]'");
    expect(rrset(h, 'example.com.', 'MX')!.rrdatas).toEqual(['10 mail.example.com.', '20 mail2.example.com.']);
    expect(h.server.dns.changes).toEqual([]);
  });

  it('answers ConflictError (409 alreadyExists) when another writer created the rrset first', async () => {
    await h.close();
    h = await harness({ onCall: (op) => op === 'POST changes' && h.server.dns.zones.get(ZONE)!.rrsets.push({ kind: 'dns#resourceRecordSet', name: 'new.example.com.', type: 'A', ttl: 60, rrdatas: ['192.0.2.99'] }) });
    const err = await expectTypedError(h.driver.createRecord(ZONE, { name: 'new', type: 'A', data: '192.0.2.1' }), ConflictError);
    expect(err.message).toBe("[google-dns] POST changes 409 alreadyExists: The resource 'entity.change.additions[0]' named 'new.example.com. (A)' already exists");
  });

  it('answers ConflictError, not NotFoundError, when another writer deleted the rrset first (404 on the deletion)', async () => {
    await h.close();
    h = await harness({ onCall: (op) => op === 'POST changes' && (h.server.dns.zones.get(ZONE)!.rrsets = h.server.dns.zones.get(ZONE)!.rrsets.filter((r) => r.type !== 'SRV')) });
    const srv = (await h.driver.listRecords(ZONE)).find((r) => r.type === 'SRV')!;
    const err = await expectTypedError(h.driver.deleteRecord(ZONE, srv.id), ConflictError);
    expect(err.message).toContain("404 notFound: The resource 'entity.change.deletions[0]' named '_sip._tcp.example.com. (SRV)' does not exist.");
  });

  it('keeps routing-policy record sets read-only and the SOA undeletable', async () => {
    const records = await h.driver.listRecords(ZONE);
    const wrr = records.find((r) => r.name === 'api')!;
    const geo = records.find((r) => r.name === 'geo')!;
    await expectTypedError(h.driver.deleteRecord(ZONE, geo.id), UnsupportedError);
    await expectTypedError(h.driver.updateRecord(ZONE, wrr.id, { ttl: 30 }), UnsupportedError);
    await expectTypedError(h.driver.createRecord(ZONE, { name: 'api', type: 'A', data: '192.0.2.46' }), UnsupportedError);
    await expectTypedError(h.driver.deleteRecord(ZONE, records.find((r) => r.type === 'SOA')!.id), UnsupportedError);
    expect(api(h, /\/changes$/)).toEqual([]);
  });

  it('creates zones named after the domain (or ex.name), public, with a description', async () => {
    const zone = await h.driver.createZone({ domain: 'Shop.Example.ORG.', ex: { description: 'the shop' } });
    expect(zone).toMatchObject({ id: 'shop-example-org', domain: 'shop.example.org', type: 'master', ttl: null, extra: { description: 'the shop', visibility: 'public' } });
    expect(JSON.parse(api(h, /^POST .*\/managedZones$/)[0]!.body.toString('utf8'))).toEqual({ name: 'shop-example-org', dnsName: 'shop.example.org.', description: 'the shop', visibility: 'public' });
    expect((await h.driver.listRecords(zone.id)).map((r) => r.type).sort()).toEqual(['NS', 'NS', 'NS', 'NS', 'SOA']);
    expect(await h.driver.createZone({ domain: 'shop.example.org', ex: { name: 'shop-two' } })).toMatchObject({ id: 'shop-two', domain: 'shop.example.org' });
    const conflict = await expectTypedError(h.driver.createZone({ domain: 'example.com' }), ConflictError);
    expect(conflict.message).toContain("409 alreadyExists: The resource 'entity.managedZone' named 'example-com' already exists");
    await expectTypedError(h.driver.createZone({ domain: 'a.example.org', ex: { name: 'Bad_Name' } }), InvalidInputError, 'ex.name');
    await expectTypedError(h.driver.createZone({ domain: 'b.example.org', type: 'slave', masters: ['192.0.2.1'] }), InvalidInputError, 'type');
    expect(api(h, /^POST .*\/managedZones$/)).toHaveLength(3);
    expect([zoneNameFor('1password.com'), zoneNameFor('_dmarc.example.com'), zoneNameFor(`${'a'.repeat(70)}.com`)]).toEqual(['zone-1password-com', 'dmarc-example-com', 'a'.repeat(63)]);
  });

  it('deletes a zone with records by removing every rrset but the apex SOA and NS first, routing policies included', async () => {
    await h.driver.deleteZone(ZONE);
    expect(h.server.dns.zones.has(ZONE)).toBe(false);
    const [change] = changeBodies(h);
    expect(change!.additions).toBeUndefined();
    expect(change!.deletions!.map((d) => `${d.type} ${d.name}`).sort()).toEqual([
      'A api.example.com.',
      'A geo.example.com.',
      'A www.example.com.',
      'AAAA www.example.com.',
      'CNAME *.dev.example.com.',
      'MX example.com.',
      'SRV _sip._tcp.example.com.',
      'TXT example.com.',
    ]);
    await expectTypedError(h.driver.getZone(ZONE), NotFoundError);
  });

  it('answers ConflictError when a record appears before the zone is deleted (400 containerNotEmpty)', async () => {
    h.server.inject({ match: (r) => r.method === 'DELETE', status: 400, file: 'google-dns/error-container-not-empty.json' });
    const err = await expectTypedError(h.driver.deleteZone('internal-example-net'), ConflictError);
    expect(err.message).toContain('400 containerNotEmpty');
  });

  it('retries 429 honouring Retry-After, on a change too (applied once), and answers RateLimitedError when it persists', async () => {
    const slept: number[] = [];
    await h.close();
    h = await harness({ deps: { retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5000 }, sleep: async (ms) => void slept.push(ms) } });
    h.server.inject({ match: (r) => r.path.endsWith('/changes'), status: 429, headers: { 'retry-after': '2' }, file: 'google-dns/error-rate-limited.json' });
    await h.driver.createRecord(ZONE, { name: 'ratelimited', type: 'A', data: '192.0.2.7' });
    expect(api(h, /\/changes$/)).toHaveLength(2);
    expect(h.server.dns.changes).toHaveLength(1);
    expect(slept).toContain(2000);
    h.server.inject({ match: (r) => r.path.endsWith('/rrsets'), status: 429, headers: { 'retry-after': '1' }, file: 'google-dns/error-rate-limited.json', times: 3 });
    const err = await expectTypedError(h.driver.listRecords(ZONE), RateLimitedError);
    expect(err.retryAfterMs).toBe(1000);
    expect(err.message).toMatch(/^\[google-dns\] GET rrsets 429 rateLimitExceeded: Quota exceeded/);
  });

  it('maps Cloud DNS refusals: rrdata it rejects is InvalidInputError, an unknown zone NotFoundError', async () => {
    const info = (status: number, reason: string, message: string) => ({ status, headers: {}, operation: 'POST changes', bodyText: JSON.stringify({ error: { code: status, message, errors: [{ reason, message, domain: 'global' }] } }) });
    expect(parseGoogleDnsError(info(400, 'invalid', "Invalid value for 'entity.change.additions[0].rrdata[0]': 'x'"))).toBeInstanceOf(InvalidInputError);
    expect(parseGoogleDnsError(info(404, 'notFound', "The 'parameters.managedZone' resource named 'nope' does not exist."))).toBeUndefined();
    const err = await expectTypedError(h.driver.listRecords('nope'), NotFoundError);
    expect(err.message).toBe("[google-dns] GET managedZones/{zone} 404 notFound: The 'parameters.managedZone' resource named 'nope' does not exist.");
  });
});

describe('google-dns: tokens and secrets', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('fetches a new token once when the API answers 401, and retries the call (a change too, applied once)', async () => {
    await h.driver.listZones();
    h.server.token.revokeAll();
    expect(await h.driver.listZones()).toHaveLength(2);
    expect(h.server.token.issued).toBe(2);
    await h.close();
    // the token dies just as the change is sent
    let revoke = true;
    h = await harness({ onCall: (op) => op === 'POST changes' && revoke && ((revoke = false), h.server.token.revokeAll()) });
    await h.driver.createRecord(ZONE, { name: 'after-401', type: 'A', data: '192.0.2.8' });
    expect(h.server.token.issued).toBe(2);
    expect(h.server.dns.changes).toHaveLength(1);
    const sent = api(h, /\/changes$/).map((r) => r.headers.authorization);
    expect(sent).toHaveLength(2);
    expect(sent[0]).not.toBe(sent[1]);
  });

  it('answers AuthenticationError when the API refuses the fresh token too, quoting neither token nor key', async () => {
    h.server.inject({ match: (r) => r.path.endsWith('/managedZones'), status: 401, file: 'gce/error-unauthenticated.json', times: 2 });
    const err = await expectTypedError(h.driver.listZones(), AuthenticationError);
    expect(err.message).toMatch(/^\[google-dns\] GET managedZones 401 authError: Request had invalid authentication credentials/);
    expect(h.server.token.issued).toBe(2);
    for (const r of h.server.requests.filter((x) => x.headers.authorization)) expect(`${err.message}${err.stack}`).not.toContain(r.headers.authorization!.slice(7));
    check.error(err);
  });

  it('maps a refused assertion to AuthenticationError that quotes neither the key nor the assertion', async () => {
    await h.close();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const server = await startGoogleDnsServer();
    const key = JSON.parse(server.serviceAccountJson) as Record<string, unknown>;
    const ctx = testDriverContext({ driver: 'google-dns', endpoint: server.url, credentials: { serviceAccountJson: JSON.stringify({ ...key, private_key: other }) } });
    const instance = createGoogleDnsInstance(ctx, FAST);
    h = driverHarness(server, ctx, instance, instance.dns!);
    const err = await expectTypedError(h.driver.createRecord(ZONE, { name: 'x', type: 'A', data: '192.0.2.1' }), AuthenticationError);
    expect(err.message).toBe('[google-dns] POST oauth2/token 400 invalid_grant: Invalid JWT Signature.');
    const assertion = server.requests.find((r) => r.path === '/token')!.form.get('assertion')!;
    for (const secret of [assertion, assertion.split('.')[2]!, ...other.split('\n').slice(2, 5)]) expect(`${err.message}${err.stack}`).not.toContain(secret);
    expect(api(h, /./)).toEqual([]);
  });

  it('uses credentials.accessToken as it is, with options.project, and never refreshes it', async () => {
    const token = h.server.token.mint();
    const ctx = testDriverContext({ driver: 'google-dns', endpoint: h.server.url, credentials: { accessToken: token }, options: { project: 'skygraph-test' } });
    const instance = createGoogleDnsInstance(ctx, FAST);
    try {
      expect(await instance.dns!.listZones()).toHaveLength(2);
      h.server.token.revokeAll();
      const err = await expectTypedError(instance.dns!.listZones(), AuthenticationError);
      expect(`${err.message}${err.stack}`).not.toContain(token);
      expect(h.server.token.issued).toBe(0);
    } finally {
      await instance.close?.();
    }
  });
});

describe('google-dns: accounts', () => {
  it('is registered as a global DNS provider and validates accounts naming fields, never values', async () => {
    expect(await loadProvider('google-dns')).toBe(googleDnsProvider);
    expect(googleDnsProvider).toMatchObject({ name: 'google-dns', title: 'Google Cloud DNS', services: ['DNS'], regional: false });
    const base: AccountConfig = { id: 'g', driver: 'google-dns', regions: [], credentials: { accessToken: 'ya29.xyzzy-token' }, options: { project: 'skygraph-test' }, pollIntervalMs: 1, timeoutMs: 1 };
    expect(validateGoogleDnsAccount(base, {})).toEqual([]);
    const problems = validateGoogleDnsAccount({ ...base, regions: ['us-central1'], credentials: { accessToken: 'ya29.xyzzy-token', apiKey: 'xyzzy-k' }, options: { project: 'Bad_Project_xyzzy', zone: 'xyzzy-z' } }, {});
    expect(problems).toEqual([
      'credentials.apiKey is not a Google credential (known: serviceAccountJson, accessToken)',
      'options.project must be a Google Cloud project id (6 to 30 lower-case letters, digits and hyphens)',
      'options.zone is not a google-dns option (known: project, keyFile)',
      'regions: google-dns is global and takes no regions',
    ]);
    expect(problems.join()).not.toContain('xyzzy');
    expect(validateGoogleDnsAccount({ ...base, credentials: {}, options: {} }, {})).toEqual([
      'credentials: give credentials.serviceAccountJson, credentials.accessToken or options.keyFile, or set GOOGLE_APPLICATION_CREDENTIALS',
    ]);
  });
});
