/**
 * OpenStack identity (src/providers/openstack/identity) against recorded Keystone v3 / v2.0
 * responses (fixtures/openstack-identity, written from the Keystone API reference) served by the
 * replay server, which checks each request body. Swift v1.0 auth runs against the real Swift in
 * test/providers/swift.test.ts.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidInputError, NotFoundError } from '../../src/providers/errors.ts';
import { createConnection } from '../../src/providers/http/connection.ts';
import { createKeystoneAuth, loadCloudConfig, type KeystoneAuthOptions } from '../../src/providers/openstack/identity/index.ts';
import { cloudfilesProvider, swiftProvider } from '../../src/providers/openstack/swift/index.ts';
import type { StorageDriver } from '../../src/providers/types.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { encodeId } from '../../src/ids.ts';
import { startTestApp } from '../helpers/app.ts';
import { REPO_ROOT, startReplayServer, type ReplayRequest, type ReplayServer } from '../helpers/replay-server.ts';

const PASSWORD = 'pa55-word-never-logged';
const API_KEY = 'rax-api-key-0123456789';
const SECRET = 'app-cred-secret-abcdef';
const V3_TOKEN = 'gAAAAA-v3-token-1111';

let server: ReplayServer;
const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'fixtures/openstack-identity', name), 'utf8').replaceAll('PORT', String(server.port));
const json = (req: ReplayRequest) => JSON.parse(req.body.toString('utf8')) as { auth: Record<string, unknown> };
const authCalls = (path: string) => server.requests.filter((r) => r.method === 'POST' && r.path === path).length;

function v3Route(check: (auth: Record<string, unknown>) => void, token = V3_TOKEN, times?: number) {
  server.route({
    times,
    method: 'POST',
    path: '/identity/v3/auth/tokens',
    check: (req) => {
      expect(req.headers['content-type']).toBe('application/json');
      check(json(req).auth);
    },
    body: () => ({ status: 201, headers: { 'content-type': 'application/json', 'x-subject-token': token }, body: fixture('v3-token.json') }),
  });
}

const v3Password = { auth_url: '', username: 'demo', password: PASSWORD, project_name: 'demo-project', user_domain_name: 'Default', project_domain_name: 'Default' };

function auth(credentials: Record<string, string>, extra: Partial<KeystoneAuthOptions> = {}) {
  const logs: string[] = [];
  const logger = { debug: (m: string, f?: object) => logs.push(m + JSON.stringify(f)), info: () => {}, warn: () => {}, error: () => {} };
  const a = createKeystoneAuth({ provider: 'openstack', credentials, logger, ...extra });
  return { a, logs };
}

beforeAll(async () => {
  server = await startReplayServer();
  v3Password.auth_url = `${server.url}/identity/v3`;
});
afterEach(() => {
  const failures = [...server.failures];
  server.reset();
  expect(failures).toEqual([]);
});
afterAll(async () => {
  await server.close();
});

describe('Keystone v3', () => {
  it('password auth by names: request shape, catalog endpoints, one auth call for many requests, no secret in logs', async () => {
    v3Route((body) => {
      expect(body).toEqual({
        identity: { methods: ['password'], password: { user: { name: 'demo', domain: { name: 'Default' }, password: PASSWORD } } },
        scope: { project: { name: 'demo-project', domain: { name: 'Default' } } },
      });
    });
    server.route({ method: 'GET', path: '/compute/v2.1/servers', check: (r) => expect(r.headers['x-auth-token']).toBe(V3_TOKEN), body: '{"servers":[]}' });
    const { a, logs } = auth(v3Password, { cacheKey: 'acct-v3-names' });
    expect(a.method).toBe('v3password');
    expect(await a.endpoint('object-store', { region: 'RegionOne' })).toBe(`${server.url}/swift-r1/v1/AUTH_p-0001`);
    expect(await a.endpoint('object-store', { region: 'RegionOne', interface: 'internal' })).toBe(`${server.url}/swift-r1-internal/v1/AUTH_p-0001`);
    expect(await a.endpoint('object-store', { region: 'RegionTwo' })).toBe(`${server.url}/swift-r2/v1/AUTH_p-0001`);
    await expect(a.endpoint('object-store')).rejects.toThrow(/several regions \(RegionOne, RegionTwo\)/);
    await expect(a.endpoint('object-store', { region: 'Nowhere' })).rejects.toThrow(/no public object-store endpoint in region Nowhere/);
    const compute = createConnection({ provider: 'openstack', baseUrl: await a.endpoint('compute'), signer: a });
    for (let i = 0; i < 5; i++) await compute.request({ operation: 'GET /servers', path: 'servers' });
    // a second instance of the same account shares the token
    const { a: second } = auth(v3Password, { cacheKey: 'acct-v3-names' });
    expect(await second.token()).toBe(V3_TOKEN);
    expect(authCalls('/identity/v3/auth/tokens')).toBe(1);
    expect(logs.join('\n')).not.toContain(PASSWORD);
    expect(logs.join('\n')).not.toContain(V3_TOKEN);
    await compute.close();
    await a.close();
  });

  it('password auth by ids scopes to the project id', async () => {
    v3Route((body) => {
      expect(body).toEqual({ identity: { methods: ['password'], password: { user: { id: 'u-0001', password: PASSWORD } } }, scope: { project: { id: 'p-0001' } } });
    });
    const { a } = auth({ auth_url: `${server.url}/identity/v3`, user_id: 'u-0001', password: PASSWORD, project_id: 'p-0001' });
    expect(await a.token()).toBe(V3_TOKEN);
  });

  it('application credential auth sends no scope; token auth does', async () => {
    v3Route((body) => expect(body).toEqual({ identity: { methods: ['application_credential'], application_credential: { id: 'ac-1', secret: SECRET } } }), V3_TOKEN, 1);
    const { a } = auth({ auth_url: `${server.url}/identity`, application_credential_id: 'ac-1', application_credential_secret: SECRET });
    expect(a.method).toBe('v3applicationcredential');
    expect(await a.token()).toBe(V3_TOKEN);
    v3Route((body) => expect(body).toEqual({ identity: { methods: ['token'], token: { id: 'old-token-123' } }, scope: { project: { id: 'p-0001' } } }), 'new-token');
    const { a: t } = auth({ auth_url: `${server.url}/identity/v3`, token: 'old-token-123', project_id: 'p-0001' });
    expect(t.method).toBe('v3token');
    expect(await t.token()).toBe('new-token');
  });

  it('renews the token before it expires (injected clock)', async () => {
    v3Route(() => undefined);
    let now = new Date('2029-12-31T23:50:00Z');
    const { a } = auth(v3Password, { now: () => now, renewBeforeMs: 300_000 });
    await a.token();
    now = new Date('2029-12-31T23:54:59Z');
    await a.token();
    expect(authCalls('/identity/v3/auth/tokens')).toBe(1);
    now = new Date('2029-12-31T23:55:01Z');
    await a.token();
    expect(authCalls('/identity/v3/auth/tokens')).toBe(2);
  });

  it('re-fetches the token once on a 401, then gives up with AuthenticationError', async () => {
    v3Route(() => undefined);
    server.route({ method: 'GET', path: '/compute/v2.1/flavors', times: 1, status: 401, body: fixture('unauthorized.json') });
    server.route({ method: 'GET', path: '/compute/v2.1/flavors', times: 1, body: '{"flavors":[]}' });
    server.route({ method: 'GET', path: '/compute/v2.1/images', status: 401, body: fixture('unauthorized.json') });
    const { a } = auth(v3Password);
    const compute = createConnection({ provider: 'openstack', baseUrl: `${server.url}/compute/v2.1`, signer: a });
    expect((await compute.request<{ flavors: unknown[] }>({ operation: 'GET /flavors', path: 'flavors' })).body).toEqual({ flavors: [] });
    expect(authCalls('/identity/v3/auth/tokens')).toBe(2);
    const err = await expectTypedError(compute.request({ operation: 'GET /images', path: 'images' }), AuthenticationError);
    expect(err.message).not.toContain(V3_TOKEN);
    expect(authCalls('/identity/v3/auth/tokens')).toBe(3);
    expect(server.requests.filter((r) => r.path === '/compute/v2.1/images').length).toBe(2);
    await compute.close();
  });

  it('a refused password is an AuthenticationError without the password', async () => {
    server.route({ method: 'POST', path: '/identity/v3/auth/tokens', status: 401, headers: { 'content-type': 'application/json' }, body: fixture('unauthorized.json') });
    const { a, logs } = auth(v3Password);
    const err = await expectTypedError(a.token(), AuthenticationError);
    expect(err.message).toContain('401');
    expect(`${err.message}${err.stack}${logs.join('')}`).not.toContain(PASSWORD);
  });
});

describe('Keystone v2.0', () => {
  it('password auth with a tenant name', async () => {
    server.route({
      method: 'POST',
      path: '/v2.0/tokens',
      check: (req) => expect(json(req).auth).toEqual({ passwordCredentials: { username: 'demo', password: PASSWORD }, tenantName: 'demo-tenant' }),
      body: () => ({ headers: { 'content-type': 'application/json' }, body: fixture('v2-token.json') }),
    });
    const { a } = auth({ auth_url: `${server.url}/v2.0/`, username: 'demo', password: PASSWORD, project_name: 'demo-tenant' });
    expect(a.method).toBe('v2password');
    expect(await a.token()).toBe('v2-token-0f3a9c2b');
    expect(await a.endpoint('object-store', { interface: 'internal' })).toBe(`${server.url}/internal/v1/AUTH_t-0001`);
  });

  it('Rackspace API-key auth, and the cloudfiles driver picks its region and CDN fields', async () => {
    server.route({
      method: 'POST',
      path: '/v2.0/tokens',
      check: (req) => expect(json(req).auth).toEqual({ 'RAX-KSKEY:apiKeyCredentials': { username: 'rackuser', apiKey: API_KEY } }),
      body: () => ({ headers: { 'content-type': 'application/json' }, body: fixture('rax-token.json') }),
    });
    const token = (r: ReplayRequest) => expect(r.headers['x-auth-token']).toBe('rax-token-7b1d44e0');
    server.route({
      method: 'GET',
      path: '/files-ord/v1/MossoCloudFS_abc',
      check: (r) => {
        token(r);
        expect(r.query.get('format')).toBe('json');
      },
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify([
        { name: 'site', count: 2, bytes: 2048, last_modified: '2029-12-01T10:00:00.123456' },
        { name: 'private', count: 0, bytes: 0, last_modified: '2029-12-02T10:00:00.000000' },
      ]),
    });
    server.route({
      method: 'GET',
      path: '/cdn-ord/v1/MossoCloudFS_abc',
      check: token,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify([{ name: 'site', cdn_enabled: true, ttl: 259200, cdn_uri: 'http://abc.r1.cf1.rackcdn.com', cdn_ssl_uri: 'https://abc.ssl.cf1.rackcdn.com', cdn_streaming_uri: 'http://abc.r1.stream.cf1.rackcdn.com', log_retention: false }]),
    });
    const account = { driver: 'cloudfiles', id: 'rax-1', regions: ['ORD'], credentials: { auth_url: `${server.url}/v2.0`, username: 'rackuser', api_key: API_KEY } };
    const ctx = testDriverContext(account, { region: 'ORD' });
    expect(cloudfilesProvider.regional).toBe(true);
    expect(cloudfilesProvider.validate?.(ctx.account)).toEqual([]);
    const instance = cloudfilesProvider.create(ctx);
    const containers = await (instance.storage as StorageDriver).listContainers();
    expect(containers).toEqual([
      { name: 'site', objectCount: 2, bytes: 2048, extra: { lastModified: '2029-12-01T10:00:00.123Z', cdnEnabled: true, cdnUri: 'http://abc.r1.cf1.rackcdn.com', cdnSslUri: 'https://abc.ssl.cf1.rackcdn.com', cdnStreamingUri: 'http://abc.r1.stream.cf1.rackcdn.com', cdnTtl: 259200 } },
      { name: 'private', objectCount: 0, bytes: 0, extra: { lastModified: '2029-12-02T10:00:00.000Z', cdnEnabled: false } },
    ]);
    expect(JSON.stringify(containers)).not.toContain(API_KEY);
    await instance.close?.();
  });

  it('cloudfiles publishes a container on the CDN and answers its URL; swift has no CDN', async () => {
    server.route({
      method: 'POST',
      path: '/v2.0/tokens',
      body: () => ({ headers: { 'content-type': 'application/json' }, body: fixture('rax-token.json') }),
    });
    let published = false;
    server.route({
      method: 'PUT',
      path: '/cdn-ord/v1/MossoCloudFS_abc/site',
      check: (r) => {
        expect(r.headers['x-auth-token']).toBe('rax-token-7b1d44e0');
        expect(r.headers['x-cdn-enabled']).toBe('True');
        published = true;
      },
      body: () => ({ status: 201, headers: {}, body: '' }),
    });
    server.route({
      method: 'HEAD',
      path: '/cdn-ord/v1/MossoCloudFS_abc/site',
      body: (): { status: number; headers: Record<string, string>; body: string } =>
        published
          ? { status: 204, headers: { 'x-cdn-enabled': 'True', 'x-cdn-uri': 'http://abc.r1.cf1.rackcdn.com', 'x-cdn-ssl-uri': 'https://abc.ssl.cf1.rackcdn.com', 'x-ttl': '259200' }, body: '' }
          : { status: 404, headers: {}, body: '' },
    });
    const ctx = testDriverContext({ driver: 'cloudfiles', id: 'rax-cdn', regions: ['ORD'], credentials: { auth_url: `${server.url}/v2.0`, username: 'rackuser', api_key: API_KEY } }, { region: 'ORD' });
    const instance = cloudfilesProvider.create(ctx);
    const driver = instance.storage as StorageDriver;
    try {
      await expectTypedError(driver.getContainerCdnUrl!('site'), NotFoundError);
      await driver.enableContainerCdn!('site');
      expect(await driver.getContainerCdnUrl!('site')).toBe('http://abc.r1.cf1.rackcdn.com');
      expect(server.failures).toEqual([]);
    } finally {
      await instance.close?.();
    }
    published = false;
    const app = await startTestApp({
      accounts: [
        { id: 'rax', driver: 'cloudfiles', region: 'ORD', credentials: { auth_url: `${server.url}/v2.0`, username: 'rackuser', api_key: API_KEY } },
        { id: 'disk', driver: 'local', options: { root: '${TEST_DATA}' } },
      ],
    });
    try {
      const cdn = 'mutation($id: ID!) { enableContainerCdn(input: { id: $id }) { cdnUrl } }';
      const viaApi = await app.gql<{ enableContainerCdn: { cdnUrl: string } }>(cdn, { id: encodeId('Container', 'rax', 'ORD', 'site') });
      expect(viaApi).toEqual({ data: { enableContainerCdn: { cdnUrl: 'http://abc.r1.cf1.rackcdn.com' } } });
      const local = await app.gql(cdn, { id: encodeId('Container', 'disk', null, 'box') });
      expect(local.errors?.[0]).toMatchObject({
        message: 'account "disk" (driver local) does not support ENABLE_CONTAINER_CDN (enableContainerCdn); see Account.capabilities',
        extensions: { code: 'UNSUPPORTED', capability: 'ENABLE_CONTAINER_CDN' },
      });
      expect(JSON.stringify([viaApi, local])).not.toContain(API_KEY);
    } finally {
      await app.stop();
    }
    const swift = swiftProvider.create(testDriverContext({ driver: 'swift', endpoint: `${server.url}/v1/AUTH_x`, credentials: { token: 'preset-token-42' } }));
    expect((swift.storage as StorageDriver).enableContainerCdn).toBeUndefined();
    expect((swift.storage as StorageDriver).getContainerCdnUrl).toBeUndefined();
    await swift.close?.();
  });

  it('cloudfiles defaults auth_url to Rackspace identity and needs a region', () => {
    const ctx = testDriverContext({ driver: 'cloudfiles', regions: ['DFW'], credentials: { username: 'u', api_key: API_KEY } });
    expect(cloudfilesProvider.validate?.(ctx.account)).toEqual([]);
    const swiftCtx = testDriverContext({ driver: 'swift', credentials: { username: 'u', api_key: API_KEY } });
    expect(swiftProvider.validate?.(swiftCtx.account)).toEqual(['credentials.token is required', 'endpoint is required with a preset credentials.token and no credentials.auth_url']);
  });
});

describe('preset token and endpoint', () => {
  it('sends the token to the endpoint without any auth call', async () => {
    server.route({ method: 'HEAD', path: '/v1/AUTH_x/box', check: (r) => expect(r.headers['x-auth-token']).toBe('preset-token-42'), headers: { 'x-container-object-count': '3', 'x-container-bytes-used': '30' } });
    const ctx = testDriverContext({ driver: 'swift', endpoint: `${server.url}/v1/AUTH_x`, credentials: { token: 'preset-token-42' } });
    expect(swiftProvider.validate?.(ctx.account)).toEqual([]);
    const instance = swiftProvider.create(ctx);
    expect(await (instance.storage as StorageDriver).getContainer('box')).toEqual({ name: 'box', objectCount: 3, bytes: 30, extra: {} });
    expect(server.requests.map((r) => r.method)).toEqual(['HEAD']);
    await instance.close?.();
  });
});

describe('clouds.yaml', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sg-clouds-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads ./clouds.yaml before ~/.config/openstack, merges secure.yaml, honours OS_CLIENT_CONFIG_FILE', async () => {
    const cwd = join(dir, 'cwd');
    const home = join(dir, 'home');
    await mkdir(cwd, { recursive: true });
    await mkdir(join(home, '.config/openstack'), { recursive: true });
    await writeFile(join(cwd, 'clouds.yaml'), `clouds:\n  mycloud:\n    region_name: RegionTwo\n    auth:\n      auth_url: ${server.url}/identity/v3\n      username: demo\n      project_name: demo-project\n      user_domain_name: Default\n      project_domain_name: Default\n`);
    await writeFile(join(home, '.config/openstack/clouds.yaml'), 'clouds:\n  mycloud:\n    auth:\n      username: from-home\n  homecloud:\n    auth:\n      username: h\n');
    await writeFile(join(home, '.config/openstack/secure.yaml'), `clouds:\n  mycloud:\n    auth:\n      password: ${PASSWORD}\n`);
    const cloud = await loadCloudConfig('mycloud', { env: {}, cwd, home }, 'swift');
    expect(cloud.auth).toEqual({ auth_url: `${server.url}/identity/v3`, username: 'demo', project_name: 'demo-project', user_domain_name: 'Default', project_domain_name: 'Default', password: PASSWORD });
    expect(cloud.regionName).toBe('RegionTwo');
    // the first clouds.yaml found wins, as with openstacksdk
    const missing = await expectTypedError(loadCloudConfig('homecloud', { env: {}, cwd, home }, 'swift'), InvalidInputError, 'options.cloud');
    expect(missing.message).not.toContain(PASSWORD);
    const explicit = join(dir, 'explicit.yaml');
    await writeFile(explicit, 'clouds:\n  other:\n    auth:\n      username: x\n      password: y\n');
    expect((await loadCloudConfig('other', { env: { OS_CLIENT_CONFIG_FILE: explicit }, cwd, home }, 'swift')).auth.username).toBe('x');
  });

  it('a swift account with `cloud:` authenticates from clouds.yaml and uses its region', async () => {
    const cwd = join(dir, 'cwd');
    v3Route((body) => expect((body.identity as { password: { user: { password: string } } }).password.user.password).toBe(PASSWORD));
    server.route({ method: 'HEAD', path: '/swift-r2/v1/AUTH_p-0001/c1', check: (r) => expect(r.headers['x-auth-token']).toBe(V3_TOKEN), headers: { 'x-container-object-count': '0', 'x-container-bytes-used': '0' } });
    const previous = { home: process.env.HOME, cwd: process.cwd() };
    process.env.HOME = join(dir, 'home');
    process.chdir(cwd);
    try {
      const ctx = testDriverContext({ driver: 'swift', options: { cloud: 'mycloud' } });
      expect(swiftProvider.validate?.(ctx.account)).toEqual([]);
      const instance = swiftProvider.create(ctx);
      expect((await (instance.storage as StorageDriver).getContainer('c1')).objectCount).toBe(0);
      await instance.close?.();
    } finally {
      process.env.HOME = previous.home;
      process.chdir(previous.cwd);
    }
  });
});
