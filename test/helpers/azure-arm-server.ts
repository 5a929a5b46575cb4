/**
 * A stateful stand-in on 127.0.0.1 for Microsoft Entra ID's token endpoint and Azure Resource
 * Manager (Microsoft.Compute virtual machines, images, VM sizes, subscription locations,
 * Microsoft.Network interfaces, public IPs and load balancers), built on the replay server.
 *
 * It checks what the REST references require: the client-credentials form, a bearer token it
 * issued and has not revoked (else 401 like ARM), the api-version of each resource type, request
 * bodies and the If-None-Match of creates. Anything unexpected is a protocol violation listed in
 * `failures`. Lists page `pageSize` items at a time with an absolute nextLink; PUT, POST and
 * DELETE start operations that finish `transitionMs` later and are followed through
 * Azure-AsyncOperation (and Location) URLs. Seed data is read from fixtures/azure-arm.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { REPO_ROOT, startReplayServer, type ReplayRequest } from './replay-server.ts';

export const ARM_SUBSCRIPTION = '3f9c2a61-7d4e-4b8a-9c1e-5a2b6d8e0f14';
export const ARM_TENANT = 'b8a1f6c2-3d4e-4f50-8a6b-7c8d9e0f1a2b';
export const ARM_CLIENT_ID = '5d6e7f80-91a2-4b3c-8d4e-5f6071829304';
export const ARM_CLIENT_SECRET = 'Qx8~fT3.kLm9_VbN2wRy7Zp4sHd6Gj1Ac5Ue0Io';
export const ARM_RG = 'skygraph-rg';
export const ARM_SUBNET = `/subscriptions/${ARM_SUBSCRIPTION}/resourceGroups/${ARM_RG}/providers/Microsoft.Network/virtualNetworks/skygraph-vnet/subnets/default`;
export const ARM_VNET = `/subscriptions/${ARM_SUBSCRIPTION}/resourceGroups/${ARM_RG}/providers/Microsoft.Network/virtualNetworks/skygraph-vnet`;

const API = { compute: '2024-07-01', network: '2024-05-01', subscriptions: '2022-12-01' } as const;
const SCOPE = 'https://management.azure.com/.default';

type Json = Record<string, unknown>;
interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: string;
}
/** An answer ARM would give (a test failure only when `violation`). */
class Fault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly violation = false,
    readonly target?: string,
  ) {
    super(message);
  }
}

export interface ArmServerOptions {
  /** items per list page (default 2) */
  pageSize?: number;
  /** how long operations take (default 50 ms) */
  transitionMs?: number;
  /** lifetime of issued tokens in seconds (default 3599) */
  tokenLifetime?: number;
  /** 'location': operations send only a Location header, as some ARM operations do (default both) */
  lroStyle?: 'both' | 'location';
}

export interface ArmTestServer {
  url: string;
  requests: ReplayRequest[];
  failures: string[];
  /** the client-credential forms the token endpoint received */
  tokenForms: URLSearchParams[];
  /** VMs by lower-cased id */
  vms: Map<string, Json>;
  /** load balancers by lower-cased id */
  balancers: Map<string, Json>;
  publicIps: Map<string, Json>;
  /** bodies of VM PUTs */
  created: Json[];
  /** how often an operation status URL was polled */
  polls(): number;
  /** makes every token issued so far invalid (ARM answers 401 ExpiredAuthenticationToken) */
  revokeTokens(): void;
  /** answers the next `count` ARM requests 429 with Retry-After `seconds` */
  throttle(count: number, seconds: number): void;
  /** adds `count` running VMs in eastus (for the constant-calls test) */
  addVms(count: number): void;
  close(): Promise<void>;
}

const fixture = <T>(name: string): T => JSON.parse(readFileSync(resolve(REPO_ROOT, 'fixtures/azure-arm', name), 'utf8')) as T;
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': randomUUID(), ...headers },
  body: body === undefined ? '' : JSON.stringify(body),
});
const violation = (message: string) => new Fault(400, 'InvalidRequestContent', message, true);
const notFound = (type: string, name: string) => new Fault(404, 'ResourceNotFound', `The Resource '${type}/${name}' under resource group '${ARM_RG}' was not found.`);

export async function startArmServer(opts: ArmServerOptions = {}): Promise<ArmTestServer> {
  const pageSize = opts.pageSize ?? 2;
  const transitionMs = opts.transitionMs ?? 50;
  const replay = await startReplayServer();
  const url = replay.url;
  const sub = `/subscriptions/${ARM_SUBSCRIPTION}`;
  const tokens = new Set<string>();
  const tokenForms: URLSearchParams[] = [];
  let throttled = { count: 0, seconds: 0 };
  let pollCount = 0;
  const timers: { at: number; run: () => void }[] = [];
  const later = (run: () => void) => timers.push({ at: Date.now() + transitionMs, run });
  const settle = () => {
    const now = Date.now();
    for (let i = 0; i < timers.length; ) {
      if (timers[i]!.at <= now) timers.splice(i, 1)[0]!.run();
      else i++;
    }
  };
  const byId = <T extends Json>(items: T[]) => new Map(items.map((x) => [String(x.id).toLowerCase(), x]));
  const vms = byId(fixture<{ value: Json[] }>('virtual-machines.json').value);
  const nics = byId(fixture<{ value: Json[] }>('network-interfaces.json').value);
  const publicIps = byId(fixture<{ value: Json[] }>('public-ip-addresses.json').value);
  const images = fixture<{ value: Json[] }>('images.json').value;
  const sizes = fixture<{ value: Json[] }>('vm-sizes-eastus.json').value;
  const locations = fixture<{ value: Json[] }>('locations.json').value;
  const balancers = byId(fixture<{ value: Json[] }>('load-balancers.json').value);
  const created: Json[] = [];
  /** operation id -> whether it has finished, and how */
  const operations = new Map<string, { done: boolean; error?: { code: string; message: string } }>();

  /** starts an operation that `finish` completes after transitionMs; returns its status headers */
  const startOperation = (location: string, finish: () => { code: string; message: string } | void): Record<string, string> => {
    const id = randomUUID();
    operations.set(id, { done: false });
    later(() => {
      const error = finish() ?? undefined;
      operations.set(id, { done: true, ...(error ? { error } : {}) });
    });
    const provider = 'Microsoft.Network';
    const statusUrl = `${url}${sub}/providers/${provider}/locations/${location}/operations/${id}?api-version=${API.network}`;
    const resultUrl = `${url}${sub}/providers/${provider}/locations/${location}/operationResults/${id}?api-version=${API.network}`;
    if (opts.lroStyle === 'location') return { location: resultUrl, 'retry-after': '0' };
    return { 'azure-asyncoperation': statusUrl, location: resultUrl, 'retry-after': '0' };
  };

  const page = (items: Json[], req: ReplayRequest, path: string): Reply => {
    const skip = Number(req.query.get('$skiptoken') ?? '0');
    if (!Number.isInteger(skip) || skip < 0) throw violation('bad $skiptoken');
    const value = items.slice(skip, skip + pageSize);
    const next = new URLSearchParams(req.query);
    next.set('$skiptoken', String(skip + pageSize));
    return json(200, { value, ...(skip + pageSize < items.length ? { nextLink: `${url}${path}?${next}` } : {}) });
  };

  const requireJson = (req: ReplayRequest): Json => {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw violation('content-type must be application/json');
    let parsed: unknown;
    try {
      parsed = JSON.parse(req.body.toString('utf8'));
    } catch {
      throw violation('body is not JSON');
    }
    if (!isObj(parsed)) throw violation('body must be a JSON object');
    return parsed;
  };

  type Handler = (req: ReplayRequest, m: RegExpExecArray) => Reply;
  const arm = (method: string, pattern: string, api: keyof typeof API, handle: Handler) => {
    const path = new RegExp(`^${sub}${pattern}$`, 'i');
    replay.route({
      method,
      path,
      body(req) {
        settle();
        const auth = req.headers.authorization ?? '';
        if (!auth.startsWith('Bearer ')) {
          replay.failures.push(`${method} ${req.path}: no bearer token`);
          return json(401, fixture('error-invalid-token.json'), { 'www-authenticate': 'Bearer authorization_uri="https://login.microsoftonline.com/"' });
        }
        if (!tokens.has(auth.slice('Bearer '.length))) {
          return json(401, fixture('error-invalid-token.json'), { 'www-authenticate': 'Bearer authorization_uri="https://login.microsoftonline.com/", error="invalid_token"' });
        }
        if (throttled.count > 0) {
          throttled.count--;
          return json(429, fixture('error-throttled.json'), { 'retry-after': String(throttled.seconds) });
        }
        try {
          if (req.query.get('api-version') !== API[api]) throw violation(`api-version must be ${API[api]}, got ${req.query.get('api-version')}`);
          return handle(req, path.exec(req.path)!);
        } catch (err) {
          if (!(err instanceof Fault)) throw err;
          if (err.violation) replay.failures.push(`${method} ${req.path}: ${err.message}`);
          return json(err.status, { error: { code: err.code, message: err.message, ...(err.target ? { target: err.target } : {}) } });
        }
      },
    });
  };

  // --- Entra ID token endpoint
  // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#first-case-access-token-request-with-a-shared-secret
  replay.route({
    method: 'POST',
    path: /^\/([^/]+)\/oauth2\/v2\.0\/token$/,
    body(req) {
      const tenant = /^\/([^/]+)\//.exec(req.path)![1];
      tokenForms.push(req.form);
      const problem = (() => {
        if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return 'content-type must be form-urlencoded';
        if (req.form.get('grant_type') !== 'client_credentials') return 'grant_type must be client_credentials';
        if (req.form.get('scope') !== SCOPE) return `scope must be ${SCOPE}`;
        if (!req.form.get('client_id') || !req.form.get('client_secret')) return 'client_id and client_secret are required';
        return undefined;
      })();
      if (problem) {
        replay.failures.push(`token: ${problem}`);
        return json(400, { error: 'invalid_request', error_description: `AADSTS900144: ${problem}` });
      }
      if (tenant !== ARM_TENANT) return json(400, { error: 'invalid_request', error_description: `AADSTS90002: Tenant '${tenant}' not found.` });
      if (req.form.get('client_id') !== ARM_CLIENT_ID || req.form.get('client_secret') !== ARM_CLIENT_SECRET) {
        return json(401, fixture('token-invalid-client.json'));
      }
      const token = `eyJ0eXAiOiJKV1QifQ.${randomUUID()}.sig`;
      tokens.add(token);
      return json(200, { ...fixture<Json>('token.json'), access_token: token, expires_in: opts.tokenLifetime ?? 3599 });
    },
  });

  // --- Operation status (Azure-AsyncOperation and Location)
  // https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations
  arm('GET', '/providers/Microsoft\\.(?:Network|Compute)/locations/([^/]+)/(operations|operationResults)/([^/]+)', 'network', (req, m) => {
    pollCount++;
    const op = operations.get(m[3]!);
    if (!op) throw new Fault(404, 'OperationNotFound', 'no such operation');
    if (m[2] === 'operationResults') {
      if (!op.done) return json(202, undefined, { location: `${url}${req.path}?${req.query}`, 'retry-after': '0' });
      if (op.error) throw new Fault(400, op.error.code, op.error.message);
      return json(204, undefined);
    }
    const status = !op.done ? 'InProgress' : op.error ? 'Failed' : 'Succeeded';
    return json(200, { name: m[3], status, startTime: new Date().toISOString(), ...(op.error ? { error: op.error } : {}) }, { 'retry-after': '0' });
  });

  // --- Compute
  // https://learn.microsoft.com/rest/api/compute/virtual-machines/list-all
  arm('GET', '/providers/Microsoft\\.Compute/virtualMachines', 'compute', (req) => {
    if (req.query.get('statusOnly') !== 'true') throw violation('listing VMs for their state needs statusOnly=true');
    return page([...vms.values()], req, `${sub}/providers/Microsoft.Compute/virtualMachines`);
  });

  const vmRoute = '/resourceGroups/([^/]+)/providers/Microsoft\\.Compute/virtualMachines/([^/]+)';
  const vmOf = (m: RegExpExecArray) => {
    const vm = vms.get(`${sub}/resourceGroups/${m[1]}/providers/Microsoft.Compute/virtualMachines/${m[2]}`.toLowerCase());
    if (!vm) throw notFound('Microsoft.Compute/virtualMachines', decodeURIComponent(m[2]!));
    return vm;
  };
  const setStatus = (vm: Json, provisioning: string, power?: string) => {
    const props = vm.properties as Json;
    props.provisioningState = provisioning === 'succeeded' ? 'Succeeded' : provisioning[0]!.toUpperCase() + provisioning.slice(1);
    const statuses: Json[] = [{ code: `ProvisioningState/${provisioning}`, level: 'Info' }];
    if (power) statuses.push({ code: `PowerState/${power}`, level: 'Info' });
    props.instanceView = { statuses };
  };
  const powerOf = (vm: Json) => ((((vm.properties as Json).instanceView as Json | undefined)?.statuses as Json[] | undefined) ?? []).find((s) => String(s.code).startsWith('PowerState/'))?.code;

  // https://learn.microsoft.com/rest/api/compute/virtual-machines/create-or-update
  arm('PUT', vmRoute, 'compute', (req, m) => {
    const id = `${sub}/resourceGroups/${m[1]}/providers/Microsoft.Compute/virtualMachines/${m[2]}`;
    if (req.headers['if-none-match'] !== '*') throw violation('a create must send If-None-Match: * so it cannot update an existing VM');
    if (vms.has(id.toLowerCase())) throw new Fault(412, 'PreconditionFailed', 'The condition specified using HTTP conditional header(s) is not met.');
    const body = requireJson(req);
    created.push(structuredClone(body));
    const props = isObj(body.properties) ? body.properties : {};
    if (typeof body.location !== 'string') throw violation('location is required');
    const size = (props.hardwareProfile as Json | undefined)?.vmSize;
    if (!sizes.some((s) => s.name === size)) throw new Fault(400, 'InvalidParameter', `The value ${String(size)} provided for the VM size is not valid.`, false, 'vmSize');
    const storage = (props.storageProfile ?? {}) as Json;
    const image = (storage.imageReference ?? {}) as Json;
    if (typeof image.id === 'string') {
      if (!images.some((i) => String(i.id).toLowerCase() === String(image.id).toLowerCase())) throw new Fault(404, 'NotFound', 'The image was not found.');
    } else if (!['publisher', 'offer', 'sku', 'version'].every((k) => typeof image[k] === 'string')) {
      throw violation('imageReference needs id or publisher, offer, sku and version');
    }
    const osDisk = (storage.osDisk ?? {}) as Json;
    if (osDisk.createOption !== 'FromImage') throw violation('osDisk.createOption must be FromImage');
    const os = (props.osProfile ?? {}) as Json;
    if (typeof os.adminUsername !== 'string' || typeof os.computerName !== 'string') throw violation('osProfile needs adminUsername and computerName');
    const linux = (os.linuxConfiguration ?? {}) as Json;
    const keys = ((linux.ssh as Json | undefined)?.publicKeys ?? []) as Json[];
    if (!keys.every((k) => typeof k.keyData === 'string' && /^ssh-(ed25519|rsa) /.test(k.keyData) && k.path === `/home/${String(os.adminUsername)}/.ssh/authorized_keys`)) {
      throw violation('ssh.publicKeys need OpenSSH keyData and the admin user\'s authorized_keys path');
    }
    if (!keys.length && typeof os.adminPassword !== 'string') throw violation('a Linux VM needs an SSH key or a password');
    if (os.customData !== undefined && Buffer.from(String(os.customData), 'base64').toString('base64') !== os.customData) throw violation('customData must be base64');
    const network = (props.networkProfile ?? {}) as Json;
    const configs = network.networkInterfaceConfigurations as Json[] | undefined;
    if (network.networkApiVersion !== '2020-11-01' || !Array.isArray(configs) || configs.length !== 1) throw violation('networkProfile needs networkApiVersion and one networkInterfaceConfiguration');
    const nicConfig = configs[0]!;
    const ipConfig = (((nicConfig.properties as Json).ipConfigurations as Json[]) ?? [])[0] ?? {};
    const ipProps = (ipConfig.properties ?? {}) as Json;
    if ((ipProps.subnet as Json | undefined)?.id !== ARM_SUBNET) throw new Fault(400, 'InvalidResourceReference', 'Resource referenced by the NIC was not found.');

    const rg = `${sub}/resourceGroups/${m[1]}`;
    const nicId = `${rg}/providers/Microsoft.Network/networkInterfaces/${String(nicConfig.name)}`;
    const pubConfig = ipProps.publicIPAddressConfiguration as Json | undefined;
    const pubId = pubConfig ? `${rg}/providers/Microsoft.Network/publicIPAddresses/${String(pubConfig.name)}` : undefined;
    const vm: Json = {
      id,
      name: decodeURIComponent(m[2]!),
      type: 'Microsoft.Compute/virtualMachines',
      location: body.location,
      tags: body.tags ?? {},
      ...(body.zones ? { zones: body.zones } : {}),
      properties: {
        ...props,
        vmId: randomUUID(),
        timeCreated: new Date().toISOString(),
        networkProfile: { networkInterfaces: [{ id: nicId, properties: { primary: true, deleteOption: nicConfig.properties ? (nicConfig.properties as Json).deleteOption : undefined } }] },
      },
    };
    delete ((vm.properties as Json).osProfile as Json).adminPassword;
    setStatus(vm, 'creating');
    vms.set(id.toLowerCase(), vm);
    const headers = startOperation(String(body.location), () => {
      nics.set(nicId.toLowerCase(), {
        id: nicId,
        name: nicConfig.name,
        location: body.location,
        properties: {
          ipConfigurations: [
            { name: 'ipconfig1', properties: { privateIPAddress: `10.20.1.${randomInt(20, 250)}`, primary: true, subnet: { id: ARM_SUBNET }, ...(pubId ? { publicIPAddress: { id: pubId } } : {}) } },
          ],
          virtualMachine: { id },
        },
      });
      if (pubId) publicIps.set(pubId.toLowerCase(), { id: pubId, name: pubConfig!.name, location: body.location, properties: { ipAddress: `20.62.${randomInt(1, 250)}.${randomInt(1, 250)}` } });
      setStatus(vm, 'succeeded', 'running');
    });
    return json(201, vm, headers);
  });

  // https://learn.microsoft.com/rest/api/compute/virtual-machines/delete
  arm('DELETE', vmRoute, 'compute', (_req, m) => {
    let vm: Json;
    try {
      vm = vmOf(m);
    } catch {
      return json(204, undefined);
    }
    setStatus(vm, 'deleting', powerOf(vm) ? String(powerOf(vm)).split('/')[1] : undefined);
    return json(202, undefined, startOperation(String(vm.location), () => {
      vms.delete(String(vm.id).toLowerCase());
      for (const nic of ((vm.properties as Json).networkProfile as Json).networkInterfaces as Json[]) {
        const record = nics.get(String(nic.id).toLowerCase());
        if (!record || (nic.properties as Json | undefined)?.deleteOption !== 'Delete') continue;
        nics.delete(String(nic.id).toLowerCase());
        const pub = (((record.properties as Json).ipConfigurations as Json[])[0]!.properties as Json).publicIPAddress as Json | undefined;
        if (pub) publicIps.delete(String(pub.id).toLowerCase());
      }
    }));
  });

  // https://learn.microsoft.com/rest/api/compute/virtual-machines/start (and deallocate, power-off, restart)
  arm('POST', `${vmRoute}/(start|deallocate|powerOff|restart)`, 'compute', (req, m) => {
    const vm = vmOf(m);
    if (req.body.length > 0) throw violation('power actions take no body');
    const power = String(powerOf(vm) ?? '');
    const action = m[3]!;
    if (action === 'restart' && power !== 'PowerState/running') throw new Fault(409, 'OperationNotAllowed', 'Operation \'restart\' is not allowed since the VM is not running.');
    const [during, after] = ({ start: ['starting', 'running'], deallocate: ['deallocating', 'deallocated'], powerOff: ['stopping', 'stopped'], restart: ['starting', 'running'] } as const)[
      action as 'start'
    ];
    setStatus(vm, 'updating', during);
    return json(202, undefined, startOperation(String(vm.location), () => setStatus(vm, 'succeeded', after)));
  });

  // https://learn.microsoft.com/rest/api/compute/images/list
  arm('GET', '/providers/Microsoft\\.Compute/images', 'compute', (req) => page(images, req, `${sub}/providers/Microsoft.Compute/images`));
  // https://learn.microsoft.com/rest/api/compute/virtual-machine-sizes/list
  arm('GET', '/providers/Microsoft\\.Compute/locations/([^/]+)/vmSizes', 'compute', (_req, m) => {
    if (m[1] !== 'eastus') throw new Fault(400, 'LocationNotAvailableForResourceType', `The provided location '${m[1]}' is not available for resource type 'Microsoft.Compute/locations/vmSizes'.`);
    return json(200, { value: sizes });
  });
  // https://learn.microsoft.com/rest/api/resources/subscriptions/list-locations
  arm('GET', '/locations', 'subscriptions', () => json(200, { value: locations }));

  // --- Network
  // https://learn.microsoft.com/rest/api/virtualnetwork/network-interfaces/list-all
  arm('GET', '/providers/Microsoft\\.Network/networkInterfaces', 'network', (req) => page([...nics.values()], req, `${sub}/providers/Microsoft.Network/networkInterfaces`));
  // https://learn.microsoft.com/rest/api/virtualnetwork/public-ip-addresses/list-all
  arm('GET', '/providers/Microsoft\\.Network/publicIPAddresses', 'network', (req) => page([...publicIps.values()], req, `${sub}/providers/Microsoft.Network/publicIPAddresses`));

  registerLoadBalancerRoutes({ arm, requireJson, startOperation, page, balancers, publicIps, sub, url });

  return {
    url,
    requests: replay.requests,
    failures: replay.failures,
    tokenForms,
    vms,
    balancers,
    publicIps,
    created,
    polls: () => pollCount,
    revokeTokens: () => tokens.clear(),
    throttle(count, seconds) {
      throttled = { count, seconds };
    },
    addVms(count) {
      const template = vms.get(`${sub}/resourceGroups/${ARM_RG}/providers/Microsoft.Compute/virtualMachines/web-1`.toLowerCase())!;
      for (let i = 0; i < count; i++) {
        const id = `${sub}/resourceGroups/${ARM_RG}/providers/Microsoft.Compute/virtualMachines/bulk-${i}`;
        vms.set(id.toLowerCase(), { ...structuredClone(template), id, name: `bulk-${i}` });
      }
    },
    close: () => replay.close(),
  };
}

/** What the load balancer routes share with the rest of the server. */
interface LbContext {
  arm: (method: string, pattern: string, api: keyof typeof API, handle: (req: ReplayRequest, m: RegExpExecArray) => Reply) => void;
  requireJson: (req: ReplayRequest) => Json;
  startOperation: (location: string, finish: () => { code: string; message: string } | void) => Record<string, string>;
  page: (items: Json[], req: ReplayRequest, path: string) => Reply;
  balancers: Map<string, Json>;
  publicIps: Map<string, Json>;
  sub: string;
  url: string;
}

function registerLoadBalancerRoutes(ctx: LbContext): void {
  const { arm, requireJson, startOperation, page, balancers, publicIps, sub } = ctx;
  const rgPath = '/resourceGroups/([^/]+)/providers/Microsoft\\.Network';
  const idOf = (m: RegExpExecArray, type: string) => `${sub}/resourceGroups/${m[1]}/providers/Microsoft.Network/${type}/${decodeURIComponent(m[2]!)}`;
  const newEtag = () => `W/"${randomUUID()}"`;
  const lbOf = (m: RegExpExecArray) => {
    const lb = balancers.get(idOf(m, 'loadBalancers').toLowerCase());
    if (!lb) throw notFound('Microsoft.Network/loadBalancers', decodeURIComponent(m[2]!));
    return lb;
  };
  const props = (o: Json) => (isObj(o.properties) ? o.properties : {}) as Json;
  const list = (v: unknown) => (Array.isArray(v) ? (v as Json[]) : []);

  /** what ARM checks of a load balancer's definition, against the Standard SKU rules */
  const checkDefinition = (id: string, body: Json) => {
    if (typeof body.location !== 'string') throw violation('location is required');
    if ((body.sku as Json | undefined)?.name !== 'Standard') throw violation('IP-based backend pools need the Standard SKU');
    const p = props(body);
    const frontends = list(p.frontendIPConfigurations);
    if (frontends.length !== 1) throw violation('one frontend IP configuration expected');
    const fp = props(frontends[0]!);
    const pub = (fp.publicIPAddress as Json | undefined)?.id;
    if (pub !== undefined) {
      if (!publicIps.has(String(pub).toLowerCase())) throw new Fault(400, 'InvalidResourceReference', `Resource ${String(pub)} referenced by resource ${id} was not found.`);
    } else if ((fp.subnet as Json | undefined)?.id !== ARM_SUBNET) {
      throw new Fault(400, 'InvalidResourceReference', 'The frontend needs a public IP or a subnet that exists.');
    }
    const names = (key: string) => new Set(list(p[key]).map((x) => `${id}/${key}/${String(x.name)}`.toLowerCase()));
    const known = { frontendIPConfigurations: names('frontendIPConfigurations'), backendAddressPools: names('backendAddressPools'), probes: names('probes') };
    for (const pool of list(p.backendAddressPools)) checkAddresses(list(props(pool).loadBalancerBackendAddresses));
    for (const rule of list(p.loadBalancingRules)) {
      const r = props(rule);
      for (const [key, set] of [['frontendIPConfiguration', known.frontendIPConfigurations], ['backendAddressPool', known.backendAddressPools], ['probe', known.probes]] as const) {
        const ref = String((r[key] as Json | undefined)?.id ?? '').toLowerCase();
        if (!set.has(ref)) throw violation(`rule ${String(rule.name)}: ${key} must reference this balancer's own ${key}`);
      }
      if (r.protocol !== 'Tcp' && r.protocol !== 'Udp') throw violation('rule protocol must be Tcp or Udp');
      for (const port of [r.frontendPort, r.backendPort]) if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) throw violation('rule ports must be 1-65535');
      if (!['Default', 'SourceIP', 'SourceIPProtocol'].includes(String(r.loadDistribution))) throw violation('loadDistribution must be Default, SourceIP or SourceIPProtocol');
    }
    for (const probe of list(p.probes)) if (props(probe).protocol !== 'Tcp' || !Number.isInteger(props(probe).port)) throw violation('probes must be Tcp with a port');
  };
  const checkAddresses = (addresses: Json[]) => {
    const seen = new Set<string>();
    for (const a of addresses) {
      const ip = String(props(a).ipAddress ?? '');
      if (typeof a.name !== 'string' || a.name === '') throw violation('backend addresses need a name');
      if (!isIP(ip)) throw violation(`backend address ${String(a.name)} needs an ipAddress`);
      if ((props(a).virtualNetwork as Json | undefined)?.id !== ARM_VNET) throw new Fault(400, 'InvalidResourceReference', `The virtual network of backend address ${String(a.name)} was not found.`);
      if (seen.has(ip)) throw new Fault(400, 'DuplicateBackendAddress', `Backend address ${ip} appears twice.`);
      seen.add(ip);
    }
  };
  /** read-only parts ARM fills in: ids of sub-resources and states */
  const materialize = (id: string, p: Json, state: string) => {
    p.provisioningState = state;
    for (const key of ['frontendIPConfigurations', 'backendAddressPools', 'loadBalancingRules', 'probes']) {
      for (const item of list(p[key])) item.id = `${id}/${key}/${String(item.name)}`;
    }
    for (const f of list(p.frontendIPConfigurations)) {
      const fp = props(f);
      if (fp.subnet && !fp.privateIPAddress) fp.privateIPAddress = `10.20.1.${randomInt(100, 200)}`;
    }
  };

  // https://learn.microsoft.com/rest/api/load-balancer/load-balancers/list-all
  arm('GET', '/providers/Microsoft\\.Network/loadBalancers', 'network', (req) => page([...balancers.values()], req, `${sub}/providers/Microsoft.Network/loadBalancers`));
  // https://learn.microsoft.com/rest/api/load-balancer/load-balancers/get
  arm('GET', `${rgPath}/loadBalancers/([^/]+)`, 'network', (_req, m) => json(200, lbOf(m)));

  // https://learn.microsoft.com/rest/api/load-balancer/load-balancers/create-or-update
  arm('PUT', `${rgPath}/loadBalancers/([^/]+)`, 'network', (req, m) => {
    const id = idOf(m, 'loadBalancers');
    const existing = balancers.get(id.toLowerCase());
    const ifMatch = req.headers['if-match'];
    const ifNoneMatch = req.headers['if-none-match'];
    if (!existing && ifNoneMatch !== '*') throw violation('a create must send If-None-Match: *');
    if (existing && ifNoneMatch === '*') throw new Fault(412, 'PreconditionFailed', 'The condition specified using HTTP conditional header(s) is not met.');
    if (existing && ifMatch !== existing.etag) {
      if (ifMatch === undefined) throw violation('an update must send If-Match with the etag it read');
      throw new Fault(412, 'PreconditionFailed', 'The etag does not match; the resource changed.');
    }
    const body = requireJson(req);
    checkDefinition(id, body);
    const lb: Json = { id, name: decodeURIComponent(m[2]!), type: 'Microsoft.Network/loadBalancers', location: body.location, sku: body.sku, tags: body.tags ?? {}, etag: newEtag(), properties: structuredClone(props(body)) };
    materialize(id, lb.properties as Json, existing ? 'Updating' : 'Creating');
    balancers.set(id.toLowerCase(), lb);
    const failing = String(lb.name).endsWith('-fail');
    const headers = startOperation(String(body.location), () => {
      if (failing) {
        (lb.properties as Json).provisioningState = 'Failed';
        return { code: 'InternalServerError', message: 'An error occurred while provisioning the load balancer.' };
      }
      (lb.properties as Json).provisioningState = 'Succeeded';
    });
    return json(existing ? 200 : 201, lb, headers);
  });

  // https://learn.microsoft.com/rest/api/load-balancer/load-balancers/delete
  arm('DELETE', `${rgPath}/loadBalancers/([^/]+)`, 'network', (_req, m) => {
    let lb: Json;
    try {
      lb = lbOf(m);
    } catch {
      return json(204, undefined);
    }
    (lb.properties as Json).provisioningState = 'Deleting';
    return json(202, undefined, startOperation(String(lb.location), () => void balancers.delete(String(lb.id).toLowerCase())));
  });

  // https://learn.microsoft.com/rest/api/load-balancer/load-balancer-backend-address-pools/create-or-update
  arm('PUT', `${rgPath}/loadBalancers/([^/]+)/backendAddressPools/([^/]+)`, 'network', (req, m) => {
    const lb = lbOf(m);
    const body = requireJson(req);
    const addresses = list(props(body).loadBalancerBackendAddresses);
    checkAddresses(addresses);
    const pool = list((lb.properties as Json).backendAddressPools).find((p) => p.name === decodeURIComponent(m[3]!));
    if (!pool) throw notFound('Microsoft.Network/loadBalancers/backendAddressPools', decodeURIComponent(m[3]!));
    if (String((lb.properties as Json).provisioningState) !== 'Succeeded') {
      throw new Fault(429, 'RetryableError', 'Operation on the load balancer is in progress; retry later.');
    }
    props(pool).loadBalancerBackendAddresses = structuredClone(addresses);
    lb.etag = newEtag();
    (lb.properties as Json).provisioningState = 'Updating';
    return json(200, pool, startOperation(String(lb.location), () => void ((lb.properties as Json).provisioningState = 'Succeeded')));
  });

  // https://learn.microsoft.com/rest/api/virtualnetwork/public-ip-addresses/create-or-update
  arm('PUT', `${rgPath}/publicIPAddresses/([^/]+)`, 'network', (req, m) => {
    const id = idOf(m, 'publicIPAddresses');
    if (req.headers['if-none-match'] !== '*') throw violation('a create must send If-None-Match: *');
    if (publicIps.has(id.toLowerCase())) throw new Fault(412, 'PreconditionFailed', 'The condition specified using HTTP conditional header(s) is not met.');
    const body = requireJson(req);
    if ((body.sku as Json | undefined)?.name !== 'Standard' || props(body).publicIPAllocationMethod !== 'Static') throw violation('a Standard load balancer needs a Standard static public IP');
    const ip: Json = { id, name: decodeURIComponent(m[2]!), location: body.location, sku: body.sku, properties: { ...props(body), provisioningState: 'Updating' } };
    publicIps.set(id.toLowerCase(), ip);
    return json(201, ip, startOperation(String(body.location), () => void Object.assign(ip.properties as Json, { provisioningState: 'Succeeded', ipAddress: `20.62.${randomInt(1, 250)}.${randomInt(1, 250)}` })));
  });
  // https://learn.microsoft.com/rest/api/virtualnetwork/public-ip-addresses/get
  arm('GET', `${rgPath}/publicIPAddresses/([^/]+)`, 'network', (_req, m) => {
    const ip = publicIps.get(idOf(m, 'publicIPAddresses').toLowerCase());
    if (!ip) throw notFound('Microsoft.Network/publicIPAddresses', decodeURIComponent(m[2]!));
    return json(200, ip);
  });
  // https://learn.microsoft.com/rest/api/virtualnetwork/public-ip-addresses/delete
  arm('DELETE', `${rgPath}/publicIPAddresses/([^/]+)`, 'network', (_req, m) => {
    const id = idOf(m, 'publicIPAddresses');
    const ip = publicIps.get(id.toLowerCase());
    if (!ip) return json(204, undefined);
    const inUse = [...balancers.values()].some((lb) => list((lb.properties as Json).frontendIPConfigurations).some((f) => String((props(f).publicIPAddress as Json | undefined)?.id ?? '').toLowerCase() === id.toLowerCase()));
    if (inUse) throw new Fault(400, 'PublicIPAddressInUse', `Public IP address ${id} is in use by a load balancer and cannot be deleted.`);
    return json(202, undefined, startOperation(String(ip.location), () => void publicIps.delete(id.toLowerCase())));
  });
}
