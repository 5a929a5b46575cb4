import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AuthenticationError, ConflictError, ConnectionFailedError, InvalidInputError, NotFoundError, ProviderError } from '../../src/providers/errors.ts';
import { createKubevirtInstance, validateKubevirtAccount, type KubevirtDeps } from '../../src/providers/kubevirt/index.ts';
import { parseKubeStatus } from '../../src/providers/kubevirt/api.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, ComputeDriver, Node } from '../../src/providers/types.ts';
import { expectTypedError, pollUntil } from '../conformance/assertions.ts';
import { testComputeDriver } from '../conformance/compute.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, type DriverHarness } from '../helpers/driver-harness.ts';
import { startKubevirtServer, type KubevirtServerOptions, type KubevirtTestServer } from '../helpers/kubevirt-server.ts';
import { createPki, type Issued, type TestCa, type TestPki } from '../helpers/pki.ts';

const USER = 'skygraph-test';
const TOKEN = 'sha256~kUbEvIrTtEsTtOkEn0123456789abcdefXYZ';
const FAST: KubevirtDeps = { retry: { baseDelayMs: 1, maxDelayMs: 5 } };
const CAPABILITIES = ['getNodes', 'getImages', 'rebootNode', 'startNode', 'stopNode'] as const;
const b64 = (s: string) => Buffer.from(s).toString('base64');

type Harness = DriverHarness<KubevirtTestServer, ComputeDriver>;
const SECRETS: string[] = [];

let pki: TestPki;
let serverCa: TestCa;
let serverCert: Issued;
let client: Issued;
let intruder: Issued;
let clientCaPem: string;
let dir: string;

beforeAll(async () => {
  pki = await createPki();
  dir = await mkdtemp(join(pki.dir, 'kube-'));
  serverCa = await pki.createCa('kube-server-ca');
  const clientCa = await pki.createCa('kube-client-ca');
  const otherCa = await pki.createCa('other-ca');
  [serverCert, client, intruder] = await Promise.all([
    serverCa.issue('kube-apiserver', { server: true, sans: ['IP:127.0.0.1', 'DNS:kubernetes.default.svc'] }),
    clientCa.issue(USER, { organization: 'skygraph' }),
    otherCa.issue(USER),
  ]);
  clientCaPem = clientCa.cert;
  SECRETS.push(client.key.split('\n')[1]!, b64(client.key).slice(0, 40), TOKEN);
}, 30_000);
afterAll(async () => {
  await pki?.cleanup();
});

/** A kubeconfig in the temp dir: one cluster, the given users and contexts. */
async function kubeconfig(
  server: string,
  users: Record<string, Record<string, unknown>>,
  contexts: Record<string, { user: string; namespace?: string }>,
  current?: string,
  cluster: Record<string, unknown> = { 'certificate-authority-data': b64(serverCa.cert) },
): Promise<string> {
  const path = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}.yaml`);
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lab', cluster: { server, ...cluster } }],
    users: Object.entries(users).map(([name, user]) => ({ name, user })),
    contexts: Object.entries(contexts).map(([name, c]) => ({ name, context: { cluster: 'lab', ...c } })),
    ...(current ? { 'current-context': current } : {}),
  };
  await writeFile(path, stringify(doc));
  return path;
}
const certUser = (id: Issued = client) => ({ 'client-certificate-data': b64(id.cert), 'client-key-data': b64(id.key) });

async function harness(opts: { server?: KubevirtServerOptions; account?: (url: string) => Promise<Partial<AccountConfig>>; deps?: KubevirtDeps } = {}): Promise<Harness> {
  const server = await startKubevirtServer({ tls: { cert: serverCert.cert, key: serverCert.key, clientCa: clientCaPem }, tokens: { [TOKEN]: USER }, ...opts.server });
  const account = opts.account ? await opts.account(server.url) : { options: { kubeconfig: await kubeconfig(server.url, { me: certUser() }, { lab: { user: 'me', namespace: 'vms' } }, 'lab') } };
  const ctx = testDriverContext({ driver: 'kubevirt', ...account });
  const instance = createKubevirtInstance(ctx, { ...FAST, ...opts.deps });
  return driverHarness(server, ctx, instance, instance.compute!);
}

let conformanceServer: KubevirtTestServer | undefined;

testComputeDriver({
  name: 'kubevirt',
  async create() {
    // why: pages of 2 make every listing in the suite follow continue tokens
    const h = await harness({ server: { transitionMs: 60 }, deps: { pageSize: 2 } });
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: CAPABILITIES,
  waitFor: pollUntil({ intervalMs: 25, timeoutMs: 5_000 }),
  waitTimeoutMs: 5_000,
  // why: filled once the keys exist; the suite reads the list when it checks
  secrets: SECRETS,
});

describe('kubevirt: requests and mapping', () => {
  const harnesses: Harness[] = [];
  const make = async (opts: Parameters<typeof harness>[0] = {}) => {
    const h = await harness(opts);
    harnesses.push(h);
    return h;
  };
  afterAll(async () => {
    for (const h of harnesses) await h.close();
  });
  const byName = (nodes: Node[]) => Object.fromEntries(nodes.map((n) => [n.name, n])) as Record<string, Node>;

  it('the conformance run authenticated every request with the verified client certificate and followed continue tokens', () => {
    const reqs = conformanceServer!.requests;
    expect(reqs.length).toBeGreaterThan(20);
    expect(reqs.every((r) => r.clientCert?.cn === USER && r.clientCert.authorized && r.user === USER && r.headers.authorization === undefined)).toBe(true);
    expect(reqs.some((r) => r.path.endsWith('/virtualmachines') && r.query.has('continue'))).toBe(true);
  });

  it('maps VMs and their VMIs: states, addresses, sizes, images, labels; one call for VMs and one for VMIs', async () => {
    const h = await make();
    const nodes = byName(await h.driver.listNodes());
    expect(Object.keys(nodes).sort()).toEqual(['broken-1', 'db-1', 'edge-1', 'web-1']);
    expect(nodes['web-1']).toMatchObject({
      id: 'web-1',
      state: 'running',
      privateIps: ['10.244.1.17', 'fd10:244:1::11'],
      publicIps: [],
      sizeId: 'medium',
      imageId: 'fedora-41',
      locationId: 'vms',
      createdAt: new Date('2025-03-11T09:14:27Z'),
      tags: { app: 'web', team: 'storefront' },
    });
    expect(nodes['web-1']!.extra).toMatchObject({ uid: '4f0c1f39-8a4e-4f7e-9d57-0b7c1f3e5a11', runStrategy: 'Always', printableStatus: 'Running', vmiPhase: 'Running', nodeName: 'worker-a', cpu: 2, memoryMiB: 2048 });
    expect(nodes['db-1']).toMatchObject({ state: 'stopped', sizeId: 'xlarge', imageId: 'ubuntu-24.04', privateIps: [], publicIps: [] });
    // printableStatus ErrImagePull; memory.guest counts; an image outside the catalog has no id
    expect(nodes['broken-1']).toMatchObject({ state: 'error', sizeId: 'small', imageId: null, tags: {} });
    expect(nodes['broken-1']!.extra.containerDisk).toBe('registry.example.com/images/missing:1.0');
    // no printableStatus yet: the VMI phase decides; an untagged reference matches the catalog's :latest
    expect(nodes['edge-1']).toMatchObject({ state: 'starting', sizeId: null, imageId: 'cirros', privateIps: ['10.244.2.9'], publicIps: ['203.0.113.25', '2001:db8:25::7'] });
    expect(nodes['edge-1']!.extra).toMatchObject({ runStrategy: 'Always', instancetype: 'u1.medium' });
    expect(h.ctx.calls).toEqual(new Map([['GET /virtualmachines', 1], ['GET /virtualmachineinstances', 1]]));
    expect(h.server.requests.map((r) => `${r.method} ${r.path}?${r.query}`).sort()).toEqual([
      'GET /apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstances?limit=500',
      'GET /apis/kubevirt.io/v1/namespaces/vms/virtualmachines?limit=500',
    ]);
    expect(h.server.failures).toEqual([]);
  });

  it('pages with limit and continue: one call per page', async () => {
    const h = await make({ deps: { pageSize: 3 } });
    expect(await h.driver.getNodes!(['web-1', 'nope', 'db-1'])).toMatchObject([{ id: 'web-1' }, null, { id: 'db-1' }]);
    const vmCalls = h.server.requests.filter((r) => r.path.endsWith('/virtualmachines'));
    expect(vmCalls.map((r) => r.query.get('limit'))).toEqual(['3', '3']);
    expect(vmCalls[0]!.query.has('continue')).toBe(false);
    expect(vmCalls[1]!.query.get('continue')).toBeTruthy();
    expect(h.server.requests.filter((r) => r.path.endsWith('/virtualmachineinstances'))).toHaveLength(1);
    expect(h.server.failures).toEqual([]);
  });

  it('creates the VirtualMachine manifest from image, size, name, tags and sshKey', async () => {
    const h = await make({ server: { transitionMs: 20 } });
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq2fQ4c1m4c5iVQ2bS1o5mYx3f6QfG0o2Yd1c8mJx1k deploy@ci';
    const node = await h.driver.createNode({ name: 'app-7', sizeId: 'medium', imageId: 'fedora-41', locationId: 'vms', sshKey: key, tags: { app: 'shop', 'example.com/owner': 'team-a' } });
    expect(node).toMatchObject({ id: 'app-7', name: 'app-7', state: 'pending', sizeId: 'medium', imageId: 'fedora-41', locationId: 'vms', tags: { app: 'shop', 'example.com/owner': 'team-a' } });
    expect(h.server.created).toEqual([
      {
        apiVersion: 'kubevirt.io/v1',
        kind: 'VirtualMachine',
        metadata: { name: 'app-7', namespace: 'vms', labels: { app: 'shop', 'example.com/owner': 'team-a' } },
        spec: {
          runStrategy: 'Always',
          template: {
            metadata: { labels: { 'kubevirt.io/vm': 'app-7' } },
            spec: {
              domain: {
                cpu: { cores: 2 },
                resources: { requests: { memory: '2Gi' } },
                devices: {
                  disks: [{ name: 'containerdisk', disk: { bus: 'virtio' } }, { name: 'cloudinitdisk', disk: { bus: 'virtio' } }],
                  interfaces: [{ name: 'default', masquerade: {} }],
                },
              },
              networks: [{ name: 'default', pod: {} }],
              volumes: [
                { name: 'containerdisk', containerDisk: { image: 'quay.io/containerdisks/fedora:41' } },
                { name: 'cloudinitdisk', cloudInitNoCloud: { userData: `#cloud-config\nssh_authorized_keys:\n  - ${key}\n` } },
              ],
            },
          },
        },
      },
    ]);
    await pollUntil({ intervalMs: 10, timeoutMs: 3_000 })(async () => (await h.driver.getNodes!(['app-7']))[0]?.state === 'running', 'app-7 to run');
    expect((await h.driver.getNodes!(['app-7']))[0]!.privateIps).toEqual([expect.stringMatching(/^10\.244\.3\.\d+$/)]);
    expect(h.server.failures).toEqual([]);
  });

  it('ex.runStrategy Halted creates a stopped VM that startNode starts (runStrategy becomes Always)', async () => {
    const h = await make({ server: { transitionMs: 20 } });
    await h.driver.createNode({ name: 'later-1', sizeId: 'tiny', imageId: 'cirros', userData: '#cloud-config\n', ex: { runStrategy: 'Halted' } });
    const wait = pollUntil({ intervalMs: 10, timeoutMs: 3_000 });
    await wait(async () => (await h.driver.getNodes!(['later-1']))[0]?.state === 'stopped', 'later-1 stopped');
    await h.driver.startNode!('later-1');
    await wait(async () => (await h.driver.getNodes!(['later-1']))[0]?.state === 'running', 'later-1 running');
    expect((await h.driver.getNodes!(['later-1']))[0]!.extra.runStrategy).toBe('Always');
    const start = h.server.requests.find((r) => r.method === 'PUT');
    expect([start?.path, start?.body, start?.headers['content-type']]).toEqual(['/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/later-1/start', '{}', 'application/json']);
    expect(h.server.failures).toEqual([]);
  });

  it('a hard reboot asks restart with gracePeriodSeconds 0', async () => {
    const h = await make();
    await h.driver.rebootNode!('web-1', { hard: true });
    const put = h.server.requests.find((r) => r.method === 'PUT');
    expect([put?.path, put?.body]).toEqual(['/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/web-1/restart', '{"gracePeriodSeconds":0}']);
    expect(h.server.failures).toEqual([]);
  });

  it('refuses bad input naming the field, before any request', async () => {
    const h = await make();
    const base = { name: 'ok-1', sizeId: 'small', imageId: 'cirros' };
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'Not_A_Name' }, 'name'],
      [{ sizeId: 'huge' }, 'sizeId'],
      [{ imageId: 'windows' }, 'imageId'],
      [{ locationId: 'other' }, 'locationId'],
      [{ keyName: 'deploy' }, 'keyName'],
      [{ sshKey: 'ssh-ed25519 AAAA x', userData: '#cloud-config' }, 'sshKey'],
      [{ ex: { runStrategy: 'Sometimes' } }, 'ex.runStrategy'],
      [{ tags: { 'bad key!': 'x' } }, 'tags'],
    ];
    for (const [patch, field] of cases) {
      const err = await expectTypedError(h.driver.createNode({ ...base, ...patch } as never), InvalidInputError);
      expect((err as InvalidInputError).field).toBe(field);
    }
    expect((await expectTypedError(h.driver.destroyNode('a/b'), InvalidInputError)).field).toBe('id');
    expect(h.server.requests).toEqual([]);
  });

  it('maps Kubernetes Status bodies: 409 AlreadyExists and Conflict, 404 NotFound', async () => {
    const h = await make();
    const exists = await expectTypedError(h.driver.createNode({ name: 'web-1', sizeId: 'small', imageId: 'cirros' }), ConflictError);
    expect(exists.message).toBe('[kubevirt] POST /virtualmachines 409 AlreadyExists: virtualmachines.kubevirt.io "web-1" already exists');
    const running = await expectTypedError(h.driver.startNode!('web-1'), ConflictError);
    expect(running.message).toBe('[kubevirt] PUT /virtualmachines/{name}/start 409 Conflict: Operation cannot be fulfilled on virtualmachine.kubevirt.io "web-1": Always does not support manual start requests');
    const stoppedAlready = await expectTypedError(h.driver.stopNode!('db-1'), ConflictError);
    expect(stoppedAlready.message).toContain('VM is not running');
    const missing = await expectTypedError(h.driver.destroyNode('gone-1'), NotFoundError);
    expect(missing.message).toBe('[kubevirt] DELETE /virtualmachines/{name} 404 NotFound: virtualmachines.kubevirt.io "gone-1" not found');
    expect(missing.status).toBe(404);
    expect(h.server.failures).toEqual([]);
  });

  it('maps a Status body of 503 to UnavailableError, of 500 to a retried ProviderError', () => {
    const status = (code: number, reason: string) => ({
      status: code,
      headers: { 'content-type': 'application/json' },
      bodyText: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'the server is currently unable to handle the request', reason, code }),
      operation: 'GET /virtualmachines',
    });
    expect(parseKubeStatus(status(503, 'ServiceUnavailable'))).toMatchObject({ code: 'UNAVAILABLE', status: 503, retryable: true });
    expect(parseKubeStatus(status(500, 'InternalError'))).toMatchObject({ code: 'PROVIDER_ERROR', status: 500, retryable: true });
  });

  it('403 Forbidden (RBAC: a namespace the user may not use) is an AuthenticationError', async () => {
    const h = await make({ account: async (url) => ({ options: { kubeconfig: await kubeconfig(url, { me: certUser() }, { lab: { user: 'me' } }, 'lab'), namespace: 'payments' } }) });
    const err = await expectTypedError(h.driver.listNodes(), AuthenticationError);
    expect(err.message).toMatch(/^\[kubevirt\] GET \/virtualmachines(instances)? 403 Forbidden: virtualmachines\.kubevirt\.io is forbidden: User "skygraph-test" cannot list resource "virtualmachine(instance)?s" in API group "kubevirt\.io" in the namespace "payments"$/);
    expect(err.status).toBe(403);
  });

  it('a bearer-token kubeconfig works without a client certificate', async () => {
    const h = await make({ account: async (url) => ({ options: { kubeconfig: await kubeconfig(url, { bot: { token: TOKEN } }, { lab: { user: 'bot', namespace: 'vms' } }, 'lab') } }) });
    expect((await h.driver.listNodes()).length).toBe(4);
    expect(h.server.requests.every((r) => r.clientCert === undefined && r.headers.authorization === `Bearer ${TOKEN}` && r.user === USER)).toBe(true);
  });

  it('a wrong token is a 401 AuthenticationError that does not hold the token', async () => {
    const wrong = 'sha256~wrongwrongwrongwrong0123456789';
    const h = await make({ account: async (url) => ({ options: { kubeconfig: await kubeconfig(url, { bot: { token: wrong } }, { lab: { user: 'bot', namespace: 'vms' } }, 'lab') } }) });
    const err = await expectTypedError(h.driver.destroyNode('web-1'), AuthenticationError);
    expect(err.message).toBe('[kubevirt] DELETE /virtualmachines/{name} 401 Unauthorized: Unauthorized');
    expect(`${err.message}${err.stack}`).not.toContain(wrong);
    expect(h.server.requests).toHaveLength(1);
  });

  it('a client certificate from another CA is refused with 401, and no key shows in the error', async () => {
    const h = await make({ account: async (url) => ({ options: { kubeconfig: await kubeconfig(url, { me: certUser(intruder) }, { lab: { user: 'me', namespace: 'vms' } }, 'lab') } }) });
    const err = await expectTypedError(h.driver.listNodes(), AuthenticationError);
    expect(err.message).toMatch(/^\[kubevirt\] GET \/virtualmachine(instance)?s 401 Unauthorized: Unauthorized$/);
    expect(h.server.requests.every((r) => r.clientCert?.cn === USER && !r.clientCert.authorized)).toBe(true);
    const text = `${err.message}${err.stack}${JSON.stringify(err)}`;
    expect(text).not.toContain(intruder.key.split('\n')[1]);
    expect(text).not.toContain(b64(intruder.key).slice(0, 40));
  });

  it('picks options.context over current-context, with its namespace, and reads relative certificate and token files', async () => {
    await writeFile(join(dir, 'client.crt'), client.cert);
    await writeFile(join(dir, 'client.key'), client.key);
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
    const h = await make({
      server: { users: { [USER]: ['vms', 'staging'] } },
      account: async (url) => ({
        options: {
          kubeconfig: await kubeconfig(url, { files: { 'client-certificate': 'client.crt', 'client-key': 'client.key' }, bot: { tokenFile: 'token' } }, { lab: { user: 'files', namespace: 'vms' }, staging: { user: 'bot', namespace: 'staging' } }, 'lab'),
          context: 'staging',
        },
      }),
    });
    expect(await h.driver.listNodes()).toEqual([]);
    expect(await h.driver.listLocations()).toEqual([{ id: 'staging', name: 'staging/staging', country: '', extra: { namespace: 'staging', context: 'staging' } }]);
    // why: listNodes asks for VMs and VMIs at once; which request arrives first is up to the sockets
    expect(h.server.requests.find((r) => r.path.endsWith('/virtualmachines'))).toMatchObject({ path: '/apis/kubevirt.io/v1/namespaces/staging/virtualmachines' });
    expect(h.server.requests.every((r) => r.path.startsWith('/apis/kubevirt.io/v1/namespaces/staging/') && r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);

    const files = await make({ account: async (url) => ({ options: { kubeconfig: await kubeconfig(url, { files: { 'client-certificate': 'client.crt', 'client-key': 'client.key' } }, { lab: { user: 'files', namespace: 'vms' } }, 'lab') } }) });
    expect((await files.driver.listNodes()).length).toBe(4);
    expect(files.server.requests.every((r) => r.clientCert?.authorized && r.headers.authorization === undefined)).toBe(true);
  });

  it("honours the cluster's tls-server-name and insecure-skip-tls-verify", async () => {
    const cluster = (extra: Record<string, unknown>) => async (url: string) => ({
      options: { kubeconfig: await kubeconfig(url, { me: certUser() }, { lab: { user: 'me', namespace: 'vms' } }, 'lab', extra) },
    });
    const named = await make({ account: cluster({ 'certificate-authority-data': b64(serverCa.cert), 'tls-server-name': 'kubernetes.default.svc' }) });
    expect((await named.driver.listNodes()).length).toBe(4);
    const misnamed = await make({ account: cluster({ 'certificate-authority-data': b64(serverCa.cert), 'tls-server-name': 'other.example.net' }) });
    const err = await expectTypedError(misnamed.driver.listNodes(), ConnectionFailedError);
    expect(err.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(err.retryable).toBe(false);
    expect(misnamed.server.requests).toEqual([]);
    const untrusted = await make({ account: cluster({}) });
    expect((await expectTypedError(untrusted.driver.listNodes(), ConnectionFailedError)).message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const insecure = await make({ account: cluster({ 'insecure-skip-tls-verify': true }) });
    expect((await insecure.driver.listNodes()).length).toBe(4);
    expect(insecure.server.requests.every((r) => r.clientCert?.authorized)).toBe(true);
  });

  it('works from explicit credentials without a kubeconfig, under a proxy path prefix', async () => {
    const h = await make({
      server: { prefix: '/k8s/clusters/c-m-7x2' },
      account: async (url) => ({
        endpoint: url,
        credentials: { clientCertificateData: b64(client.cert), clientKeyData: b64(client.key), certificateAuthorityData: b64(serverCa.cert) },
        options: { namespace: 'vms' },
      }),
    });
    expect((await h.driver.listNodes()).length).toBe(4);
    expect(h.server.requests.every((r) => r.path.startsWith('/k8s/clusters/c-m-7x2/apis/kubevirt.io/v1/namespaces/vms/'))).toBe(true);
    expect((await h.driver.listLocations())[0]!.name).toBe(`${new URL(h.server.url).host}/vms`);
    expect(h.server.failures).toEqual([]);
  });

  it('works over plain http with a token (endpoint + credentials.token)', async () => {
    const h = await make({ server: { tls: undefined }, account: async (url) => ({ endpoint: url, credentials: { token: TOKEN }, options: { namespace: 'vms' } }) });
    expect((await h.driver.listNodes()).length).toBe(4);
    expect(h.server.url).toMatch(/^http:\/\//);
  });

  it('a cluster without KubeVirt is a ProviderError that says so', async () => {
    const h = await make({ server: { kubevirt: false } });
    const err = await expectTypedError(h.driver.listNodes(), ProviderError);
    expect(err.message).toMatch(/404 NotFound: the server could not find the requested resource \(is KubeVirt installed\? kubevirt\.io\/v1 is not served\)$/);
  });

  it('serves images, sizes and the one location without upstream calls; options replace the catalogs', async () => {
    const h = await make();
    expect((await h.driver.listSizes()).map((s) => [s.id, s.ram, s.disk, s.price])).toEqual([
      ['tiny', 512, 0, null],
      ['small', 1024, 0, null],
      ['medium', 2048, 0, null],
      ['large', 4096, 0, null],
      ['xlarge', 8192, 0, null],
    ]);
    expect((await h.driver.listImages()).map((i) => i.id)).toEqual(['cirros', 'fedora-41', 'ubuntu-24.04', 'centos-stream-9', 'debian-12']);
    expect(await h.driver.listLocations()).toEqual([{ id: 'vms', name: 'lab/vms', country: '', extra: { namespace: 'vms', context: 'lab' } }]);
    expect(h.server.requests).toEqual([]);

    const custom = await make({
      account: async (url) => ({
        endpoint: url,
        credentials: { token: TOKEN, certificateAuthorityData: b64(serverCa.cert) },
        options: { namespace: 'vms', images: [{ id: 'web', containerDisk: 'registry.example.com/images/missing:1.0' }], sizes: [{ id: 'one', cpu: 1, memory: '1Gi' }] },
      }),
    });
    expect(await custom.driver.listImages()).toEqual([{ id: 'web', name: 'web', extra: { containerDisk: 'registry.example.com/images/missing:1.0' } }]);
    expect((await custom.driver.listNodes()).find((n) => n.id === 'broken-1')).toMatchObject({ imageId: 'web', sizeId: 'one' });
  });

  it('is registered', async () => {
    const def = await loadProvider('kubevirt');
    expect(def).toMatchObject({ name: 'kubevirt', services: ['COMPUTE'], regional: false });
  });
});

describe('kubevirt: validate', () => {
  const account = (a: Partial<AccountConfig>): AccountConfig => ({ id: 'k', driver: 'kubevirt', regions: [], credentials: {}, options: {}, pollIntervalMs: 5000, timeoutMs: 10000, ...a });

  it('accepts a kubeconfig with a current context and explicit credentials', async () => {
    const path = await kubeconfig('https://127.0.0.1:6443', { me: certUser() }, { lab: { user: 'me', namespace: 'vms' } }, 'lab');
    expect(validateKubevirtAccount(account({ options: { kubeconfig: path } }))).toEqual([]);
    expect(validateKubevirtAccount(account({ endpoint: 'https://k8s.example.net:6443', credentials: { token: 'x' } }))).toEqual([]);
  });

  it('names the field at fault and never echoes a value', async () => {
    const secret = 'sUpErSeCrEtVaLuE';
    const exec = await kubeconfig('https://127.0.0.1:6443', { sso: { exec: { command: secret, apiVersion: 'client.authentication.k8s.io/v1' } } }, { lab: { user: 'sso' } }, 'lab');
    const noCurrent = await kubeconfig('https://127.0.0.1:6443', { me: certUser() }, { lab: { user: 'me' } });
    const cases: [Partial<AccountConfig>, string[]][] = [
      [{ options: { kubeconfig: join(dir, 'missing.yaml') } }, ['options.kubeconfig cannot be read (ENOENT)']],
      [{ options: { kubeconfig: exec } }, ["options.kubeconfig: the user's exec credential plugin is not supported; give a token or a client certificate"]],
      [{ options: { kubeconfig: noCurrent } }, ['options.kubeconfig has no current-context; set options.context']],
      [{ options: { kubeconfig: noCurrent, context: secret } }, ['options.context names no context of options.kubeconfig']],
      [{ credentials: { token: secret } }, ['endpoint is required without options.kubeconfig (the Kubernetes API server URL)']],
      [{ endpoint: 'https://k', credentials: { clientCertificateData: secret } }, ['a client certificate needs its key, and a key its certificate (clientCertificate[Data] with clientKey[Data])']],
      [{ endpoint: 'https://k', credentials: { token: 't', apiKey: secret } }, ['credentials.apiKey is not a kubevirt credential (known: token, clientCertificateData, clientKeyData, certificateAuthorityData)']],
      [{ endpoint: 'https://k', credentials: { token: 't' }, options: { namespace: 'Not_OK', region: 'x' } }, ['options.region is not a kubevirt option (known: kubeconfig, context, namespace, tlsServerName, clientCertificate, clientKey, certificateAuthority, tokenFile, insecureSkipTlsVerify, images, sizes)']],
      [{ endpoint: 'https://k', credentials: { token: 't' }, options: { namespace: 'Not_OK' } }, ['options.namespace must be a Kubernetes namespace name (lower-case letters, digits and "-", at most 63)']],
      [{ endpoint: 'https://k', credentials: { token: 't' }, options: { clientKey: join(dir, secret) } }, ['options.clientKey is not a readable file']],
      [{ endpoint: 'https://k', credentials: { token: 't' }, options: { sizes: [{ id: 'x', cpu: 0, memory: '1Gi' }], images: [] } }, [
        'options.images must be a non-empty list of { id, name?, containerDisk } with unique ids',
        'options.sizes must be a non-empty list of { id, name?, cpu (whole number >= 1), memory (a quantity such as 2Gi) } with unique ids',
      ]],
      [{ endpoint: 'http://127.0.0.1:8080', credentials: { token: 't', certificateAuthorityData: b64('x') } }, ['endpoint uses http, where client certificates and CA bundles do not apply']],
    ];
    for (const [a, problems] of cases) {
      const got = validateKubevirtAccount(account(a));
      expect(got).toEqual(problems);
      expect(got.join(' ')).not.toContain(secret);
    }
  });

  it('a bad key fails the first call with an InvalidInputError naming the field', async () => {
    const server = await startKubevirtServer({ tls: { cert: serverCert.cert, key: serverCert.key, clientCa: clientCaPem } });
    try {
      const ctx = testDriverContext({ driver: 'kubevirt', endpoint: server.url, credentials: { clientCertificateData: b64(client.cert), clientKeyData: b64(intruder.key) }, options: { namespace: 'vms' } });
      const instance = createKubevirtInstance(ctx, FAST);
      const err = await expectTypedError(instance.compute!.listNodes(), InvalidInputError);
      expect(err.message).toBe('[kubevirt] credentials.clientKeyData does not match the client certificate');
      expect(server.requests).toEqual([]);
      await instance.close?.();
    } finally {
      await server.close();
    }
  });
});
