/**
 * A stateful stand-in for a Kubernetes API server with KubeVirt (kubevirt.io/v1 and
 * subresources.kubevirt.io/v1) on 127.0.0.1, served over mutual TLS the way kube-apiserver does
 * it: the TLS layer asks for a client certificate without requiring one; a certificate that
 * verifies against the client CA authenticates its CN, otherwise a bearer token may; nothing
 * valid is a 401 `Status`. Users are authorised per namespace (else 403), requests are checked
 * (paths, query, bodies against the VirtualMachine schema) and anything unexpected lands in
 * `failures`. Seed data comes from fixtures/kubevirt; VMs move Starting -> Running,
 * Stopping -> Stopped and Terminating -> gone `transitionMs` after the call that starts it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { REPO_ROOT } from './replay-server.ts';

type Json = Record<string, unknown>;

export interface KubevirtServerOptions {
  /** server certificate and key (PEM) and the CA that signs accepted client certificates; omit for plain http */
  tls?: { cert: string; key: string; clientCa: string };
  /** user (client certificate CN or token owner) -> namespaces it may use; default { 'skygraph-test': ['vms'] } */
  users?: Record<string, string[]>;
  /** bearer token -> user */
  tokens?: Record<string, string>;
  /** path the API is served under (a Rancher-style proxy prefix), default '' */
  prefix?: string;
  /** the most items one page holds, whatever `limit` asks; default 500 */
  maxLimit?: number;
  /** default 100 */
  transitionMs?: number;
  /** false: the cluster has no KubeVirt (kubevirt.io paths answer 404) */
  kubevirt?: boolean;
}

/** A request as the server saw it. */
export interface KubeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: string;
  /** the authenticated user, or undefined */
  user: string | undefined;
  /** CN of the client certificate presented, and whether it verified */
  clientCert: { cn: string; authorized: boolean } | undefined;
}

export interface KubevirtTestServer {
  url: string;
  requests: KubeRequest[];
  failures: string[];
  /** VirtualMachines and VirtualMachineInstances by namespace/name */
  vms: Map<string, Json>;
  vmis: Map<string, Json>;
  /** POSTed VirtualMachine bodies */
  created: Json[];
  close(): Promise<void>;
}

const RUN_STRATEGIES = ['Always', 'RerunOnFailure', 'Manual', 'Halted', 'Once'];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const QUANTITY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const LABEL_PART = /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** An answer the API would give (a violation is also a test failure). */
class KubeFault extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Json,
    readonly violation = false,
  ) {
    super(message);
  }
}

export function kubeStatus(code: number, reason: string, message: string, details?: Json): Json {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export async function startKubevirtServer(opts: KubevirtServerOptions = {}): Promise<KubevirtTestServer> {
  const users = opts.users ?? { 'skygraph-test': ['vms'] };
  const tokens = opts.tokens ?? {};
  const prefix = opts.prefix ?? '';
  const maxLimit = opts.maxLimit ?? 500;
  const transitionMs = opts.transitionMs ?? 100;
  const requests: KubeRequest[] = [];
  const failures: string[] = [];
  const created: Json[] = [];
  const fixture = (name: string) => JSON.parse(readFileSync(resolve(REPO_ROOT, 'fixtures/kubevirt', name), 'utf8')) as { items: Json[] };
  const key = (o: Json) => `${meta(o).namespace}/${meta(o).name}`;
  const vms = new Map(fixture('virtualmachines.json').items.map((v) => [key(v), v]));
  const vmis = new Map(fixture('virtualmachineinstances.json').items.map((v) => [key(v), v]));
  let resourceVersion = 4_812_207;
  let nextIp = 20;
  const timers: { at: number; run: () => void }[] = [];
  const later = (run: () => void, ms = transitionMs) => timers.push({ at: Date.now() + ms, run });
  const settle = () => {
    for (let i = 0; i < timers.length; ) {
      if (timers[i]!.at <= Date.now()) timers.splice(i, 1)[0]!.run();
      else i++;
    }
  };
  const touch = (o: Json) => (meta(o).resourceVersion = String(++resourceVersion));
  const setStatus = (vm: Json, printableStatus: string, extra: Json = {}) => {
    vm.status = { ...(vm.status as Json), printableStatus, runStrategy: spec(vm).runStrategy, ...extra };
    touch(vm);
  };

  // --- the VM controller, as far as the driver can see it ---
  const startVmi = (vm: Json) => {
    const name = meta(vm).name as string;
    const vmi: Json = {
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name, namespace: meta(vm).namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString(), labels: { 'kubevirt.io/vm': name } },
      spec: structuredClone((spec(vm).template as Json).spec),
      status: { phase: 'Scheduling' },
    };
    touch(vmi);
    vmis.set(key(vm), vmi);
    setStatus(vm, 'Starting', { created: true, ready: false });
    later(() => {
      if (vmis.get(key(vm)) !== vmi || vms.get(key(vm)) !== vm) return;
      const ip = `10.244.3.${nextIp++}`;
      vmi.status = { phase: 'Running', nodeName: 'worker-c', interfaces: [{ name: 'default', interfaceName: 'eth0', ipAddress: ip, ipAddresses: [ip], mac: '52:54:00:00:00:01', infoSource: 'domain' }] };
      touch(vmi);
      setStatus(vm, 'Running', { created: true, ready: true });
    });
  };
  const stopVmi = (vm: Json, then: 'Stopped' | 'gone') => {
    setStatus(vm, then === 'gone' ? 'Terminating' : 'Stopping', { ready: false });
    later(() => {
      vmis.delete(key(vm));
      if (then === 'gone') vms.delete(key(vm));
      else setStatus(vm, 'Stopped', { created: false, ready: false });
    });
  };

  // --- routes ---
  const api = `${prefix}/apis/kubevirt.io/v1/namespaces/`;
  const sub = `${prefix}/apis/subresources.kubevirt.io/v1/namespaces/`;
  const handle = (req: KubeRequest): { status: number; body?: Json } => {
    settle();
    const path = req.path;
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^${escapeRegExp(api)}([^/]+)/(virtualmachines|virtualmachineinstances)$`).exec(path))) {
      const [, ns, resource] = m as unknown as [string, string, string];
      if (req.method === 'GET') {
        authorize(req, 'list', resource!, ns!);
        return { status: 200, body: list(req, ns!, resource!) };
      }
      if (req.method === 'POST' && resource === 'virtualmachines') {
        authorize(req, 'create', resource, ns!);
        return createVm(req, ns!);
      }
    }
    if ((m = new RegExp(`^${escapeRegExp(api)}([^/]+)/virtualmachines/([^/]+)$`).exec(path))) {
      const [, ns, name] = m as unknown as [string, string, string];
      const verb = req.method === 'GET' ? 'get' : req.method === 'DELETE' ? 'delete' : undefined;
      if (verb) {
        authorize(req, verb, 'virtualmachines', ns!);
        const vm = findVm(ns!, decodeURIComponent(name!));
        if (verb === 'get') return { status: 200, body: vm };
        if (req.body !== '') json(req, ['apiVersion', 'kind', 'gracePeriodSeconds', 'propagationPolicy', 'preconditions', 'dryRun']);
        if (!meta(vm).deletionTimestamp) {
          meta(vm).deletionTimestamp = new Date().toISOString();
          if (vmis.has(key(vm))) stopVmi(vm, 'gone');
          else {
            setStatus(vm, 'Terminating');
            later(() => vms.delete(key(vm)));
          }
        }
        return { status: 200, body: vm };
      }
    }
    if ((m = new RegExp(`^${escapeRegExp(sub)}([^/]+)/virtualmachines/([^/]+)/(start|stop|restart)$`).exec(path)) && req.method === 'PUT') {
      const [, ns, name, action] = m as unknown as [string, string, string, string];
      authorize(req, 'update', `virtualmachines/${action}`, ns!, 'subresources.kubevirt.io');
      const allowed = { start: ['paused', 'dryRun'], stop: ['gracePeriod', 'dryRun'], restart: ['gracePeriodSeconds', 'dryRun'] }[action as 'start'];
      json(req, ['apiVersion', 'kind', ...allowed]);
      const vm = findVm(ns!, decodeURIComponent(name!));
      subresource(vm, action!);
      return { status: 202 };
    }
    throw new KubeFault(404, 'NotFound', 'the server could not find the requested resource', undefined, opts.kubevirt !== false);
  };

  const authorize = (req: KubeRequest, verb: string, resource: string, ns: string, group = 'kubevirt.io') => {
    if (opts.kubevirt === false) throw new KubeFault(404, 'NotFound', 'the server could not find the requested resource');
    if (!(users[req.user!] ?? []).includes(ns)) {
      throw new KubeFault(403, 'Forbidden', `${resource.split('/')[0]}.${group} is forbidden: User "${req.user}" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${ns}"`, { group, kind: resource });
    }
  };
  const findVm = (ns: string, name: string): Json => {
    const vm = vms.get(`${ns}/${name}`);
    if (!vm) throw new KubeFault(404, 'NotFound', `virtualmachines.kubevirt.io "${name}" not found`, { name, group: 'kubevirt.io', kind: 'virtualmachines' });
    return vm;
  };

  const list = (req: KubeRequest, ns: string, resource: string): Json => {
    const extra = [...req.query.keys()].filter((k) => !['limit', 'continue'].includes(k));
    if (extra.length) throw violation(`unexpected list parameters ${extra.join(', ')}`);
    const rawLimit = req.query.get('limit');
    if (rawLimit !== null && !/^[1-9]\d*$/.test(rawLimit)) throw violation('limit must be a positive integer');
    const limit = Math.min(rawLimit === null ? Infinity : Number(rawLimit), maxLimit);
    const store = resource === 'virtualmachines' ? vms : vmis;
    const all = [...store.values()].filter((o) => meta(o).namespace === ns).sort((a, b) => String(meta(a).name).localeCompare(String(meta(b).name)));
    const cont = req.query.get('continue');
    let after = '';
    if (cont !== null) {
      try {
        after = String((JSON.parse(Buffer.from(cont, 'base64').toString('utf8')) as Json).start);
      } catch {
        throw new KubeFault(400, 'BadRequest', 'continue key is not valid: illegal base64 data');
      }
    }
    const rest = all.filter((o) => String(meta(o).name) > after);
    const items = rest.slice(0, limit);
    const more = rest.length > items.length;
    const kind = resource === 'virtualmachines' ? 'VirtualMachineList' : 'VirtualMachineInstanceList';
    return {
      apiVersion: 'kubevirt.io/v1',
      kind,
      metadata: {
        resourceVersion: String(resourceVersion),
        continue: more ? Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: resourceVersion, start: meta(items.at(-1)!).name })).toString('base64') : '',
        ...(more ? { remainingItemCount: rest.length - items.length } : {}),
      },
      items,
    };
  };

  const createVm = (req: KubeRequest, ns: string): { status: number; body: Json } => {
    const body = json(req, ['apiVersion', 'kind', 'metadata', 'spec']);
    created.push(body);
    checkVm(body, ns);
    const m = meta(body);
    if (vms.has(`${ns}/${m.name}`)) throw new KubeFault(409, 'AlreadyExists', `virtualmachines.kubevirt.io "${m.name}" already exists`, { name: m.name, group: 'kubevirt.io', kind: 'virtualmachines' });
    const vm: Json = {
      ...structuredClone(body),
      metadata: { ...m, namespace: ns, uid: randomUUID(), generation: 1, creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), finalizers: ['kubevirt.io/virtualMachineControllerFinalize'] },
    };
    touch(vm);
    vms.set(`${ns}/${m.name}`, vm);
    const answer = structuredClone(vm);
    // why: the controller picks a new VM up a moment after it is stored
    later(() => {
      if (vms.get(`${ns}/${m.name}`) !== vm) return;
      if (['Always', 'RerunOnFailure'].includes(spec(vm).runStrategy as string)) startVmi(vm);
      else setStatus(vm, 'Stopped');
    }, 0);
    return { status: 201, body: answer };
  };

  const subresource = (vm: Json, action: string) => {
    const name = meta(vm).name as string;
    const strategy = spec(vm).runStrategy as string;
    const running = vmis.has(key(vm));
    const conflict = (why: string) => new KubeFault(409, 'Conflict', `Operation cannot be fulfilled on virtualmachine.kubevirt.io "${name}": ${why}`, { name, group: 'kubevirt.io', kind: 'virtualmachine' });
    if (meta(vm).deletionTimestamp) throw conflict('VM is being deleted');
    if (action === 'start') {
      if (strategy === 'Always') throw conflict('Always does not support manual start requests');
      if (running) throw conflict('VM is already running');
      if (strategy === 'Halted') spec(vm).runStrategy = 'Always';
      startVmi(vm);
    } else if (action === 'stop') {
      if (!running && strategy !== 'Always' && strategy !== 'RerunOnFailure') throw conflict('VM is not running');
      if (strategy !== 'Manual') spec(vm).runStrategy = 'Halted';
      if (running) stopVmi(vm, 'Stopped');
      else setStatus(vm, 'Stopped');
    } else {
      if (strategy === 'Halted') throw conflict('Halted does not support manual restart requests');
      if (!running) throw conflict('VM is not running');
      vmis.delete(key(vm));
      startVmi(vm);
    }
    meta(vm).generation = Number(meta(vm).generation ?? 1) + 1;
  };

  // --- the server ---
  const respond = (req: IncomingMessage, res: ServerResponse, rawBody: Buffer) => {
    const url = new URL(req.url ?? '/', 'https://kube.invalid');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const tlsSocket = opts.tls ? (req.socket as TLSSocket) : undefined;
    const peer = tlsSocket?.getPeerCertificate();
    const clientCert = peer && peer.subject ? { cn: String(peer.subject.CN), authorized: tlsSocket!.authorized } : undefined;
    const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    const user = clientCert?.authorized ? clientCert.cn : bearer !== undefined ? tokens[bearer] : undefined;
    const recorded: KubeRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body: rawBody.toString('utf8'), user, clientCert };
    requests.push(recorded);
    let status: number;
    let body: Json | undefined;
    try {
      if (headers.accept !== undefined && !/application\/json|\*\/\*/.test(headers.accept)) throw violation('Accept must allow application/json');
      if (user === undefined) throw new KubeFault(401, 'Unauthorized', 'Unauthorized');
      ({ status, body } = handle(recorded));
    } catch (err) {
      if (!(err instanceof KubeFault)) throw err;
      if (err.violation) failures.push(`${recorded.method} ${recorded.path}: ${err.message}`);
      status = err.code;
      body = kubeStatus(err.code, err.reason, err.message, err.details);
    }
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'audit-id': randomUUID() });
    res.end(text);
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        respond(req, res, Buffer.concat(chunks));
      } catch (err) {
        failures.push(`${req.method} ${req.url}: server error ${String(err)}`);
        res.writeHead(500).end();
      }
    });
  };
  const server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.clientCa, requestCert: true, rejectUnauthorized: false }, listener)
    : createHttpServer(listener);
  const sockets = new Set<Socket>();
  server.on(opts.tls ? 'secureConnection' : 'connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}${prefix}`,
    requests,
    failures,
    vms,
    vmis,
    created,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        for (const s of sockets) s.destroy();
      }),
  };
}

// --- Internal helpers ---

function meta(o: Json): Json {
  return (o.metadata ??= {}) as Json;
}

function spec(o: Json): Json {
  return (o.spec ??= {}) as Json;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function violation(message: string): KubeFault {
  return new KubeFault(422, 'Invalid', message, undefined, true);
}

function isObj(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function json(req: KubeRequest, allowed: string[]): Json {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw violation('content-type must be application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body);
  } catch {
    throw violation('body is not JSON');
  }
  if (!isObj(parsed)) throw violation('body must be a JSON object');
  const extra = Object.keys(parsed).filter((k) => !allowed.includes(k));
  if (extra.length) throw violation(`unknown fields ${extra.join(', ')}`);
  return parsed;
}

/** The parts of the VirtualMachine schema (and virt-api's validating webhook) a created VM must satisfy. */
function checkVm(vm: Json, ns: string): void {
  if (vm.apiVersion !== 'kubevirt.io/v1' || vm.kind !== 'VirtualMachine') throw violation('apiVersion/kind must be kubevirt.io/v1 VirtualMachine');
  const m = isObj(vm.metadata) ? vm.metadata : {};
  const extraMeta = Object.keys(m).filter((k) => !['name', 'namespace', 'labels', 'annotations'].includes(k));
  if (extraMeta.length) throw violation(`metadata: fields the client must not set: ${extraMeta.join(', ')}`);
  if (typeof m.name !== 'string' || !DNS_LABEL.test(m.name)) throw violation('metadata.name must be a DNS label');
  if (m.namespace !== undefined && m.namespace !== ns) throw violation('metadata.namespace does not match the request namespace');
  for (const [k, v] of Object.entries(isObj(m.labels) ? m.labels : {})) {
    const name = k.includes('/') ? k.slice(k.lastIndexOf('/') + 1) : k;
    if (!LABEL_PART.test(name) || typeof v !== 'string' || (v !== '' && !LABEL_PART.test(v))) throw violation('metadata.labels: invalid label');
  }
  const s = isObj(vm.spec) ? vm.spec : {};
  const extraSpec = Object.keys(s).filter((k) => !['runStrategy', 'running', 'template', 'instancetype', 'preference', 'dataVolumeTemplates'].includes(k));
  if (extraSpec.length) throw violation(`spec: unknown fields ${extraSpec.join(', ')}`);
  if (s.running !== undefined && s.runStrategy !== undefined) throw violation('spec.running and spec.runStrategy are mutually exclusive');
  if (s.runStrategy !== undefined && !RUN_STRATEGIES.includes(s.runStrategy as string)) throw violation('spec.runStrategy is not a run strategy');
  const t = isObj(s.template) && isObj(s.template.spec) ? s.template.spec : undefined;
  if (!t) throw violation('spec.template.spec is required');
  const domain = isObj(t.domain) ? t.domain : {};
  const devices = isObj(domain.devices) ? domain.devices : {};
  const names = (list: unknown) => (Array.isArray(list) ? list.map((x) => (isObj(x) ? x.name : undefined)) : []);
  const volumes = Array.isArray(t.volumes) ? (t.volumes as Json[]) : [];
  for (const disk of names(devices.disks)) if (!names(volumes).includes(disk)) throw violation(`disk ${String(disk)} has no volume`);
  for (const iface of names(devices.interfaces)) if (!names(t.networks).includes(iface)) throw violation(`interface ${String(iface)} has no network`);
  for (const v of volumes) {
    if (isObj(v.containerDisk) && (typeof v.containerDisk.image !== 'string' || v.containerDisk.image === '')) throw violation('containerDisk.image is required');
    if (isObj(v.cloudInitNoCloud) && typeof v.cloudInitNoCloud.userData !== 'string') throw violation('cloudInitNoCloud.userData must be a string');
  }
  const cores = isObj(domain.cpu) ? domain.cpu.cores : undefined;
  if (cores !== undefined && (!Number.isInteger(cores) || (cores as number) < 1)) throw violation('domain.cpu.cores must be a positive integer');
  const memory = isObj(domain.resources) && isObj(domain.resources.requests) ? domain.resources.requests.memory : undefined;
  if (memory === undefined && !(isObj(domain.memory) && domain.memory.guest)) throw violation('domain needs resources.requests.memory or memory.guest');
  if (memory !== undefined && (typeof memory !== 'string' || !QUANTITY.test(memory))) throw violation('resources.requests.memory must be a quantity');
}
