/**
 * Compute Engine: the shared compute conformance suite against the stateful Compute Engine
 * stand-in (test/helpers/gce-server), then what is particular to gce: service-account tokens and
 * their refresh, aggregatedList paging, operation waits, Google's error bodies, and requests.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthenticationError, ConflictError, InvalidInputError, NotFoundError, ProviderError, RateLimitedError, UnavailableError } from '../../src/providers/errors.ts';
import type { GoogleDeps } from '../../src/providers/google/client.ts';
import { createGceInstance, gceProvider, validateGceAccount } from '../../src/providers/google/gce/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, ComputeDriver } from '../../src/providers/types.ts';
import { expectTypedError, modelChecks, pollUntil } from '../conformance/assertions.ts';
import { testComputeDriver } from '../conformance/compute.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { startGceServer, testServiceAccount, type GceServerOptions, type GceTestServer } from '../helpers/gce-server/index.ts';

const FAST: GoogleDeps = {
  retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 },
  pollIntervalMs: 10,
  sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))),
  env: {},
};
/** lines from the middle of the test service account's private key: none may ever leak */
const KEY_LINES = testServiceAccount('http://127.0.0.1/token').privateKeyPem.split('\n').slice(3, 6);
const check = modelChecks(KEY_LINES);

type Harness = DriverHarness<GceTestServer, ComputeDriver>;

async function harness(opts: { server?: GceServerOptions; account?: Partial<AccountConfig>; deps?: GoogleDeps; region?: string } = {}): Promise<Harness> {
  const server = await startGceServer(opts.server);
  const region = opts.region ?? 'us-central1';
  const ctx = testDriverContext(
    { driver: 'gce', regions: [region], endpoint: server.url, credentials: { serviceAccountJson: server.serviceAccountJson }, ...opts.account },
    { region },
  );
  const instance = createGceInstance(ctx, { ...FAST, ...opts.deps });
  return driverHarness(server, ctx, instance, instance.compute!);
}

const apiRequests = (h: Harness, pattern: RegExp) => h.server.requests.filter((r) => pattern.test(`${r.method} ${r.path}`));

let conformanceServer: GceTestServer | undefined;
testComputeDriver({
  name: 'gce',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: ['getNodes', 'getImages', 'rebootNode', 'startNode', 'stopNode'],
  waitFor: pollUntil({ intervalMs: 20, timeoutMs: 5_000 }),
  waitTimeoutMs: 5_000,
  missingNodeId: 'us-central1-a/sgc-missing-node',
  missingImageId: 'debian-cloud/sgc-missing-image',
  secrets: KEY_LINES,
});

describe('gce provider', () => {
  it('the conformance run used one token for every call and a requestId on every change', () => {
    const reqs = conformanceServer!.requests.filter((r) => r.path.startsWith('/compute/'));
    expect(reqs.length).toBeGreaterThan(20);
    expect(conformanceServer!.token.issued).toBe(1);
    expect(new Set(reqs.map((r) => r.headers.authorization)).size).toBe(1);
    const changes = reqs.filter((r) => r.method !== 'GET');
    expect(changes.map((r) => `${r.method} ${r.path.split('/').slice(-1)[0]}`)).toEqual(
      expect.arrayContaining(['POST instances', 'POST reset', 'POST stop', 'POST start']),
    );
    for (const r of changes) expect(r.query.get('requestId')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is registered as a regional compute provider', async () => {
    expect(await loadProvider('gce')).toBe(gceProvider);
    expect(gceProvider).toMatchObject({ name: 'gce', services: ['COMPUTE'], regional: true, defaultRegion: 'us-central1' });
  });

  it('validates credentials and options, naming the field and never the value', () => {
    const account = (a: Partial<AccountConfig>) => testDriverContext({ driver: 'gce', regions: ['us-central1'], ...a }).account;
    const sa = testServiceAccount('https://oauth2.googleapis.com/token');
    expect(validateGceAccount(account({ credentials: { serviceAccountJson: sa.json } }), {})).toEqual([]);
    expect(validateGceAccount(account({ options: { keyFile: '/etc/gcp/key.json', project: 'my-project-1' } }), {})).toEqual([]);
    expect(validateGceAccount(account({}), { GOOGLE_APPLICATION_CREDENTIALS: '/k.json' })).toEqual([]);
    expect(validateGceAccount(account({}), {})).toEqual([
      'credentials: give credentials.serviceAccountJson, credentials.accessToken or options.keyFile, or set GOOGLE_APPLICATION_CREDENTIALS',
    ]);
    const broken = `{"type": "service_account", "private_key": "${sa.privateKeyPem.slice(0, 80)}`;
    const problems = validateGceAccount(
      account({
        regions: ['us-central1', 'Moon-1'],
        credentials: { serviceAccountJson: broken, accessToken: 'ya29.secret-token-value', password: 'x' },
        options: { project: 'No_Such', zone: 'europe-west1-b', imageProjects: 'debian-cloud', flavour: 1 },
      }),
      {},
    );
    expect(problems).toEqual([
      'credentials.password is not a Google credential (known: serviceAccountJson, accessToken)',
      'credentials.accessToken and credentials.serviceAccountJson are both set; give one',
      'credentials.serviceAccountJson is not valid JSON',
      'options.project must be a Google Cloud project id (6 to 30 lower-case letters, digits and hyphens)',
      'options.flavour is not a gce option (known: project, keyFile, imageProjects, zone)',
      'options.imageProjects must be a list of project ids (like debian-cloud)',
      'options.zone must be a zone of one of the account regions',
      'regions[1] is not a Compute Engine region name (like us-central1)',
    ]);
    for (const p of problems) for (const line of KEY_LINES) expect(p).not.toContain(line);
    expect(problems.join('\n')).not.toContain('ya29.secret-token-value');
    const noKey = JSON.stringify({ type: 'service_account', client_email: 'a@b.iam.gserviceaccount.com', private_key: 'not a key' });
    expect(validateGceAccount(account({ credentials: { serviceAccountJson: noKey } }), {})).toEqual([
      'credentials.serviceAccountJson has no readable private_key (a PEM private key)',
    ]);
    const plainHttp = testServiceAccount('http://oauth2.example.com/token');
    expect(validateGceAccount(account({ credentials: { serviceAccountJson: plainHttp.json } }), {})).toEqual([
      'credentials.serviceAccountJson token_uri must be an https URL (http only for a local one)',
    ]);
    expect(validateGceAccount(account({ credentials: { accessToken: 'ya29.x' } }), {})).toEqual([
      'options.project is required with credentials.accessToken (a token names no project)',
    ]);
  });
});

describe('gce: service-account tokens', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('exchanges a signed JWT for a token at token_uri once, and sends it as a bearer token', async () => {
    await h.driver.listNodes();
    await h.driver.listLocations();
    expect(h.server.token.issued).toBe(1);
    const [grant] = h.server.token.grants;
    expect(grant).toMatchObject({ iss: 'skygraph-ci@skygraph-test.iam.gserviceaccount.com', scope: 'https://www.googleapis.com/auth/compute', aud: `${h.server.url}/token` });
    expect((grant!.exp as number) - (grant!.iat as number)).toBe(3600);
    const tokenRequest = h.server.requests.find((r) => r.path === '/token')!;
    expect(tokenRequest.form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const api = h.server.requests.filter((r) => r.path.startsWith('/compute/'));
    expect(api.length).toBe(2);
    expect(new Set(api.map((r) => r.headers.authorization)).size).toBe(1);
    expect(h.ctx.calls.get('POST oauth2/token')).toBe(1);
  });

  it('keeps the token until shortly before it expires, then asks for a new one', async () => {
    h.server.token.expiresIn = 400;
    h.ctx.clock.set(Date.now());
    await h.driver.listLocations();
    h.ctx.clock.advance(150_000);
    await h.driver.listNodes();
    expect(h.server.token.issued).toBe(1);
    // why: 400 s tokens are refreshed after half their life (the margin is min(5 min, lifetime / 2))
    h.ctx.clock.advance(60_000);
    await h.driver.listNodes();
    expect(h.server.token.issued).toBe(2);
  });

  it('fetches a new token once when the API answers 401, and retries the call', async () => {
    await h.driver.listNodes();
    h.server.token.revokeAll();
    expect((await h.driver.listNodes()).length).toBe(3);
    expect(h.server.token.issued).toBe(2);
  });

  it('answers AuthenticationError when the API refuses the fresh token too, without leaking it', async () => {
    h.server.inject({ match: (r) => r.path.endsWith('/aggregated/instances'), status: 401, file: 'gce/error-unauthenticated.json', times: 2 });
    const err = await expectTypedError(h.driver.listNodes(), AuthenticationError);
    expect(err.message).toMatch(/^\[gce\] GET aggregated\/instances 401 authError: Request had invalid authentication credentials/);
    expect(h.server.token.issued).toBe(2);
    expect(apiRequests(h, /aggregated\/instances$/).length).toBe(2);
    for (const r of h.server.requests.filter((x) => x.headers.authorization)) expect(err.message + err.stack).not.toContain(r.headers.authorization!.slice(7));
    check.error(err);
  });

  it('maps a refused assertion to AuthenticationError that quotes neither the key nor the assertion', async () => {
    await h.close();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const server = await startGceServer();
    const json = JSON.parse(server.serviceAccountJson) as Record<string, unknown>;
    const ctx = testDriverContext(
      { driver: 'gce', regions: ['us-central1'], endpoint: server.url, credentials: { serviceAccountJson: JSON.stringify({ ...json, private_key: other }) } },
      { region: 'us-central1' },
    );
    const instance = createGceInstance(ctx, FAST);
    h = driverHarness(server, ctx, instance, instance.compute!);
    const err = await expectTypedError(h.driver.listNodes(), AuthenticationError);
    expect(err.message).toBe('[gce] POST oauth2/token 400 invalid_grant: Invalid JWT Signature.');
    const assertion = server.requests.find((r) => r.path === '/token')!.form.get('assertion')!;
    for (const secret of [assertion, assertion.split('.')[2]!, ...other.split('\n').slice(2, 5)]) expect(`${err.message}${err.stack}`).not.toContain(secret);
    expect(server.requests.filter((r) => r.path.startsWith('/compute/'))).toEqual([]);
  });

  it('reads the key from options.keyFile and from GOOGLE_APPLICATION_CREDENTIALS', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skygraph-gce-'));
    try {
      const file = join(dir, 'key.json');
      await writeFile(file, h.server.serviceAccountJson);
      for (const [account, env] of [
        [{ credentials: {}, options: { keyFile: file } }, {}],
        [{ credentials: {} }, { GOOGLE_APPLICATION_CREDENTIALS: file }],
      ] as const) {
        const ctx = testDriverContext({ driver: 'gce', regions: ['us-central1'], endpoint: h.server.url, ...account }, { region: 'us-central1' });
        const instance = createGceInstance(ctx, { ...FAST, env });
        try {
          expect((await instance.compute!.listNodes()).map((n) => n.id)).toContain('us-central1-a/web-1');
        } finally {
          await instance.close?.();
        }
      }
      const missing = testDriverContext({ driver: 'gce', regions: ['us-central1'], endpoint: h.server.url, options: { keyFile: join(dir, 'nope.json') } }, { region: 'us-central1' });
      const instance = createGceInstance(missing, FAST);
      const err = await expectTypedError(instance.compute!.listNodes(), AuthenticationError);
      expect(err.message).toBe('[gce] the key file named by options.keyFile could not be read (ENOENT)');
      await instance.close?.();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('uses credentials.accessToken as it is, with options.project, and never refreshes it', async () => {
    const token = h.server.token.mint();
    const ctx = testDriverContext(
      { driver: 'gce', regions: ['us-central1'], endpoint: h.server.url, credentials: { accessToken: token }, options: { project: 'skygraph-test' } },
      { region: 'us-central1' },
    );
    const instance = createGceInstance(ctx, FAST);
    try {
      expect((await instance.compute!.listNodes()).length).toBe(3);
      h.server.token.revokeAll();
      const err = await expectTypedError(instance.compute!.listNodes(), AuthenticationError);
      expect(err.message).not.toContain(token);
      expect(h.server.token.issued).toBe(0);
      expect(apiRequests(h, /aggregated\/instances$/).length).toBe(2);
    } finally {
      await instance.close?.();
    }
  });
});

describe('gce: listing', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('lists the region\'s instances through aggregatedList, one call per page', async () => {
    await h.close();
    h = await harness({ server: { maxResults: 2 } });
    const nodes = await h.driver.listNodes();
    expect(nodes.map((n) => n.id)).toEqual(['us-central1-a/web-1', 'us-central1-a/web-2', 'us-central1-b/db-1']);
    const pages = apiRequests(h, /aggregated\/instances$/);
    expect(pages.length).toBe(2);
    expect(pages.map((r) => r.query.get('maxResults'))).toEqual(['500', '500']);
    expect(pages[1]!.query.get('pageToken')).toBeTruthy();
    expect(apiRequests(h, /\/zones\/[^/]+\/instances/)).toEqual([]);
  });

  it('maps instances: zone/name ids, states, addresses, labels as tags', async () => {
    const byName = Object.fromEntries((await h.driver.listNodes()).map((n) => [n.name, n]));
    expect(byName['web-1']).toMatchObject({
      id: 'us-central1-a/web-1',
      state: 'running',
      publicIps: ['34.123.45.67'],
      privateIps: ['10.128.0.2'],
      sizeId: 'e2-medium',
      imageId: null,
      locationId: 'us-central1-a',
      tags: { env: 'prod', team: 'web' },
    });
    expect(byName['web-1']!.createdAt).toEqual(new Date('2024-05-20T15:12:44.512Z'));
    expect(byName['web-1']!.extra).toMatchObject({ instanceId: '4461187230102934871', networkTags: ['http-server', 'https-server'], cpuPlatform: 'Intel Cascade Lake', preemptible: false });
    // why: TERMINATED is Compute Engine's stopped state
    expect(byName['db-1']).toMatchObject({ state: 'stopped', publicIps: [], privateIps: ['10.128.0.9'], tags: { env: 'prod', role: 'db' } });
  });

  it('serves each region from its own instance', async () => {
    await h.close();
    h = await harness({ region: 'europe-west1' });
    expect((await h.driver.listNodes()).map((n) => n.id)).toEqual(['europe-west1-b/eu-web-1']);
    expect((await h.driver.listLocations()).map((l) => [l.id, l.country])).toEqual([
      ['europe-west1-b', 'BE'],
      ['europe-west1-c', 'BE'],
      ['europe-west1-d', 'BE'],
    ]);
  });

  it('fails rather than answer a partial list when a zone of the region is unreachable', async () => {
    await h.close();
    h = await harness({ server: { unreachable: ['zones/us-central1-c'] } });
    const err = await expectTypedError(h.driver.listNodes(), ProviderError);
    expect(err.message).toBe('[gce] GET aggregated/instances: zones/us-central1-c is unreachable');
    await h.close();
    h = await harness({ server: { unreachable: ['zones/asia-northeast1-a'] } });
    expect((await h.driver.listNodes()).length).toBe(3);
  });

  it('getNodes asks aggregatedList once with a name filter and answers in key order', async () => {
    const ids = ['us-central1-b/db-1', 'us-central1-a/nope', 'europe-west1-b/eu-web-1', 'us-central1-a/web-1', 'not an id'];
    const got = await h.driver.getNodes!(ids);
    expect(got.map((n) => n?.id ?? null)).toEqual(['us-central1-b/db-1', null, null, 'us-central1-a/web-1', null]);
    const calls = apiRequests(h, /aggregated\/instances$/);
    expect(calls.length).toBe(1);
    expect(calls[0]!.query.get('filter')).toBe('(name = "db-1") OR (name = "nope") OR (name = "web-1")');
  });

  it('lists the project\'s images and the public image projects, without deprecated ones', async () => {
    const images = await h.driver.listImages();
    expect(images.map((i) => i.id)).toEqual([
      'skygraph-test/web-base-v3',
      'debian-cloud/debian-11-bullseye-v20240611',
      'debian-cloud/debian-12-bookworm-arm64-v20240611',
      'debian-cloud/debian-12-bookworm-v20240611',
      'ubuntu-os-cloud/ubuntu-2204-jammy-v20240614',
      'ubuntu-os-cloud/ubuntu-2404-noble-amd64-v20240607',
    ]);
    expect(images[1]).toMatchObject({ name: 'debian-11-bullseye-v20240611', extra: { project: 'debian-cloud', family: 'debian-11', architecture: 'X86_64', diskSizeGb: 10, deprecated: null } });
    expect(apiRequests(h, /global\/images$/).map((r) => r.path)).toEqual([
      '/compute/v1/projects/skygraph-test/global/images',
      '/compute/v1/projects/debian-cloud/global/images',
      '/compute/v1/projects/ubuntu-os-cloud/global/images',
    ]);
    expect((await h.driver.listImages({ owner: 'debian-cloud', name: 'debian-12-bookworm-v20240515' })).map((i) => [i.id, i.extra.deprecated])).toEqual([
      ['debian-cloud/debian-12-bookworm-v20240515', 'DEPRECATED'],
    ]);
    await expectTypedError(h.driver.listImages({ owner: 'Not A Project' }), InvalidInputError, 'owner');
  });

  it('getImages asks each project once with a name filter', async () => {
    const ids = ['debian-cloud/debian-12-bookworm-v20240611', 'skygraph-test/web-base-v2', 'debian-cloud/missing', 'bad id', 'debian-cloud/debian-11-bullseye-v20240611'];
    const got = await h.driver.getImages!(ids);
    expect(got.map((i) => i?.id ?? null)).toEqual(['debian-cloud/debian-12-bookworm-v20240611', 'skygraph-test/web-base-v2', null, null, 'debian-cloud/debian-11-bullseye-v20240611']);
    const calls = apiRequests(h, /global\/images$/);
    expect(calls.map((r) => [r.path.split('/')[4], r.query.get('filter')]).sort()).toEqual([
      ['debian-cloud', '(name = "debian-12-bookworm-v20240611") OR (name = "missing") OR (name = "debian-11-bullseye-v20240611")'],
      ['skygraph-test', '(name = "web-base-v2")'],
    ]);
  });

  it('lists machine types of the region\'s first zone, priced from the table for us-central1', async () => {
    const sizes = Object.fromEntries((await h.driver.listSizes()).map((s) => [s.id, s]));
    expect(sizes['e2-medium']).toMatchObject({ ram: 4096, disk: 0, bandwidth: null, price: 0.033503, extra: { guestCpus: 2, isSharedCpu: true } });
    expect(sizes['e2-standard-2']!.price).toBe(0.067006);
    expect(sizes['n1-standard-1']!.price).toBe(0.0475);
    expect(sizes['n2-standard-2']!.price).toBe(0.097118);
    expect(sizes['n2-highmem-2']!.price).toBe(0.131014);
    expect(sizes['c2-standard-4']!.price).toBe(0.20872);
    expect(sizes['a2-highgpu-1g']!.price).toBeNull();
    expect(sizes['m1-megamem-96']!.price).toBeNull();
    expect(apiRequests(h, /machineTypes$/).map((r) => r.path)).toEqual(['/compute/v1/projects/skygraph-test/zones/us-central1-a/machineTypes']);
    await h.close();
    h = await harness({ region: 'us-east1' });
    const east = await h.driver.listSizes();
    expect(apiRequests(h, /machineTypes$/).map((r) => r.path)).toEqual(['/compute/v1/projects/skygraph-test/zones/us-east1-c/machineTypes']);
    expect(east.find((s) => s.id === 'e2-medium')!.price).toBe(0.033503);
    await h.close();
    h = await harness({ region: 'europe-west1' });
    expect((await h.driver.listSizes()).every((s) => s.price === null)).toBe(true);
  });

  it('lists the region\'s zones as locations with their country', async () => {
    const locations = await h.driver.listLocations();
    expect(locations.map((l) => l.id)).toEqual(['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f']);
    expect(locations[0]).toMatchObject({ name: 'us-central1-a', country: 'US', extra: { region: 'us-central1', status: 'UP' } });
  });
});

describe('gce: changes', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('creates an instance with labels, metadata and an external IP, waits for the operation, and reads it back', async () => {
    const node = await h.driver.createNode({
      name: 'api-1',
      sizeId: 'e2-small',
      imageId: 'debian-cloud/family/debian-12',
      locationId: 'us-central1-b',
      sshKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@ci',
      userData: '#!/bin/sh\necho hi\n',
      tags: { env: 'test' },
      clientToken: 'deploy-42',
      ex: { labels: { team: 'api', env: 'overridden' }, networkTags: ['http-server'], diskSizeGb: 20, diskType: 'pd-balanced' },
    });
    check.node(node);
    expect(node).toMatchObject({ id: 'us-central1-b/api-1', name: 'api-1', sizeId: 'e2-small', locationId: 'us-central1-b', tags: { env: 'test', team: 'api' } });
    expect(['starting', 'running']).toContain(node.state);
    expect(node.publicIps.length).toBe(1);
    expect(h.server.compute.inserted).toEqual([
      {
        name: 'api-1',
        machineType: 'zones/us-central1-b/machineTypes/e2-small',
        disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12', diskSizeGb: '20', diskType: 'zones/us-central1-b/diskTypes/pd-balanced' } }],
        networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] }],
        labels: { team: 'api', env: 'test' },
        metadata: {
          items: [
            { key: 'ssh-keys', value: 'skygraph:ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@ci' },
            { key: 'startup-script', value: '#!/bin/sh\necho hi\n' },
          ],
        },
        tags: { items: ['http-server'] },
      },
    ]);
    const insert = apiRequests(h, /^POST .*\/instances$/)[0]!;
    expect(insert.query.get('requestId')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(apiRequests(h, /^GET .*\/zones\/us-central1-b\/operations\//).length).toBeGreaterThanOrEqual(1);
    expect(apiRequests(h, /^GET .*\/zones\/us-central1-b\/instances\/api-1$/).length).toBe(1);
  });

  it('sends the same requestId for the same clientToken, so a retried create starts nothing new', async () => {
    const input = { name: 'idem-1', sizeId: 'e2-micro', imageId: 'skygraph-test/web-base-v3', locationId: 'us-central1-a', clientToken: 'same-token' };
    const first = await h.driver.createNode(input);
    const again = await h.driver.createNode(input);
    expect(again.id).toBe(first.id);
    const ids = apiRequests(h, /^POST .*\/instances$/).map((r) => r.query.get('requestId'));
    expect(ids.length).toBe(2);
    expect(ids[0]).toBe(ids[1]);
    expect(h.server.compute.operations.size).toBe(1);
  });

  it('defaults the zone to the region\'s first zone that is UP', async () => {
    await h.close();
    h = await harness({ region: 'us-east1' });
    const node = await h.driver.createNode({ name: 'east-1', sizeId: 'e2-micro', imageId: 'debian-cloud/debian-12-bookworm-v20240611' });
    expect(node.locationId).toBe('us-east1-c');
  });

  it('refuses bad input before sending anything, naming the field', async () => {
    const base = { name: 'ok-name', sizeId: 'e2-micro', imageId: 'debian-cloud/debian-12-bookworm-v20240611', locationId: 'us-central1-a' };
    await expectTypedError(h.driver.createNode({ ...base, locationId: 'europe-west1-b' }), InvalidInputError, 'locationId');
    await expectTypedError(h.driver.createNode({ ...base, name: 'Bad_Name' }), InvalidInputError, 'name');
    await expectTypedError(h.driver.createNode({ ...base, imageId: 'a/b/c/d' }), InvalidInputError, 'imageId');
    await expectTypedError(h.driver.createNode({ ...base, tags: { Env: 'x' } }), InvalidInputError, 'tags');
    await expectTypedError(h.driver.createNode({ ...base, ex: { securityGroups: ['x'] } }), InvalidInputError, 'ex.securityGroups');
    await expectTypedError(h.driver.destroyNode('web-1'), InvalidInputError, 'id');
    expect(h.server.requests.filter((r) => r.method !== 'GET' || r.path.includes('/instances'))).toEqual([]);
  });

  it('maps Compute Engine\'s synchronous errors: 404 for an unknown image, 409 for an existing name', async () => {
    const base = { sizeId: 'e2-micro', locationId: 'us-central1-a' };
    const missing = await expectTypedError(h.driver.createNode({ ...base, name: 'x-1', imageId: 'debian-cloud/debian-1-potato' }), NotFoundError);
    expect(missing.message).toBe("[gce] POST instances 404 notFound: The resource 'projects/debian-cloud/global/images/debian-1-potato' was not found");
    const taken = await expectTypedError(h.driver.createNode({ ...base, name: 'web-1', imageId: 'debian-cloud/debian-12-bookworm-v20240611' }), ConflictError);
    expect(taken.message).toMatch(/^\[gce\] POST instances 409 alreadyExists: /);
  });

  it('throws the error of an operation that ends DONE with one', async () => {
    h.server.compute.failNextInsert = { code: 'ZONE_RESOURCE_POOL_EXHAUSTED', message: "The zone 'projects/skygraph-test/zones/us-central1-f' does not have enough resources available to fulfill the request.", httpErrorStatusCode: 503 };
    const err = await expectTypedError(h.driver.createNode({ name: 'big-1', sizeId: 'c2-standard-4', imageId: 'debian-cloud/debian-12-bookworm-v20240611', locationId: 'us-central1-f' }), ProviderError);
    expect(err.message).toMatch(/^\[gce\] POST instances: operation operation-\S+ failed: ZONE_RESOURCE_POOL_EXHAUSTED: The zone /);
    expect(err.retryable).toBe(true);
  });

  it('stops, starts, resets and deletes through zone operations, waiting for each', async () => {
    await h.driver.stopNode!('us-central1-a/web-2');
    expect(h.server.compute.instances.get('us-central1-a/web-2')!.status).toBe('TERMINATED');
    await h.driver.startNode!('us-central1-a/web-2');
    expect(h.server.compute.instances.get('us-central1-a/web-2')!.status).toBe('RUNNING');
    await h.driver.rebootNode!('us-central1-a/web-2', { hard: false });
    await h.driver.destroyNode('us-central1-a/web-2');
    expect(h.server.compute.instances.has('us-central1-a/web-2')).toBe(false);
    const changes = h.server.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/compute/'));
    expect(changes.map((r) => `${r.method} ${r.path.replace('/compute/v1/projects/skygraph-test/zones/us-central1-a/instances/', '')}`)).toEqual([
      'POST web-2/stop',
      'POST web-2/start',
      'POST web-2/reset',
      'DELETE web-2',
    ]);
    expect(new Set(changes.map((r) => r.query.get('requestId'))).size).toBe(4);
    const resetOp = apiRequests(h, /operations\//);
    expect(resetOp.length).toBeGreaterThanOrEqual(4);
    await expectTypedError(h.driver.rebootNode!('us-central1-b/db-1'), ProviderError);
  });
});

describe('gce: rate limits and server errors', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('retries 429 and 403 rateLimitExceeded, honouring Retry-After, then succeeds', async () => {
    const slept: number[] = [];
    await h.close();
    h = await harness({ deps: { sleep: async (ms) => void slept.push(ms) } });
    h.server.inject({ match: (r) => r.path.endsWith('/zones'), status: 429, file: 'gce/error-too-many-requests.json', headers: { 'retry-after': '0' } });
    h.server.inject({ match: (r) => r.path.endsWith('/zones'), status: 403, file: 'gce/error-rate-limited.json' });
    expect((await h.driver.listLocations()).length).toBe(4);
    expect(apiRequests(h, /\/zones$/).length).toBe(3);
    expect(slept[0]).toBe(0);
  });

  it('answers RateLimitedError with retryAfterMs when the limit holds', async () => {
    h.server.inject({ match: (r) => r.path.endsWith('/aggregated/instances'), status: 429, file: 'gce/error-too-many-requests.json', headers: { 'retry-after': '7' }, times: 3 });
    const err = await expectTypedError(h.driver.listNodes(), RateLimitedError);
    expect(err.retryAfterMs).toBe(7000);
    expect(err.message).toMatch(/^\[gce\] GET aggregated\/instances 429 rateLimitExceeded: Quota exceeded for quota metric 'Queries'/);
    check.error(err);
  });

  it('maps 403 rateLimitExceeded to RateLimitedError, 503 backendError to UnavailableError and 500 to a retryable ProviderError', async () => {
    h.server.inject({ match: (r) => r.path.endsWith('/zones'), status: 403, file: 'gce/error-rate-limited.json', times: 3 });
    const limited = await expectTypedError(h.driver.listLocations(), RateLimitedError);
    expect(limited.message).toBe('[gce] GET zones 403 rateLimitExceeded: Rate Limit Exceeded');
    h.server.inject({ match: (r) => r.path.endsWith('/zones'), status: 503, file: 'gce/error-backend.json', times: 3 });
    const backend = await expectTypedError(h.driver.listLocations(), UnavailableError);
    expect(backend).toMatchObject({ code: 'UNAVAILABLE', status: 503, retryable: true });
    expect(backend.message).toMatch(/^\[gce\] GET zones 503 backendError: Internal error/);
    h.server.inject({ match: (r) => r.path.endsWith('/zones'), status: 500, file: 'gce/error-backend.json', times: 3 });
    const internal = await expectTypedError(h.driver.listLocations(), ProviderError);
    expect(internal).toMatchObject({ code: 'PROVIDER_ERROR', status: 500, retryable: true });
  });
});
