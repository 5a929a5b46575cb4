/**
 * A small stateful stand-in for the Elastic Load Balancing APIs on 127.0.0.1, for the `elb`
 * (2012-06-01) and `alb` (2015-12-01) driver tests. Every request must be a form-encoded POST
 * to `/` with a valid SigV4 signature (checked with verifyNodeRequest), the right Version, an
 * Action it knows, every required parameter and no unknown one; anything else is answered with
 * the error a real endpoint would give and listed in `failures`. Balancers, listeners, target
 * groups and registrations are kept in memory so create -> attach -> detach -> destroy round
 * trips work. Every response body is rendered from a template under fixtures/elb or fixtures/alb.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { verifyNodeRequest } from './aws-verify.ts';
import { REPO_ROOT } from './replay-server.ts';

export type ElbApiName = 'elb' | 'alb';

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDELBTESTEXAMPLE01', secretAccessKey: 'elbTestSecret/K7MDENG+bPxRfiCYzEXAMPLEKEY' };
export const TEST_ACCOUNT_ID = '123456789012';
/** EC2 instances that exist as far as the server is concerned */
export const INSTANCE_IDS = ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002', 'i-0a1b2c3d4e5f60003'] as const;
/** the VPC every subnet belongs to, and its CIDR (10.0.0.0/16) */
export const VPC_ID = 'vpc-0a1b2c3d4e5f60718';
export const SUBNETS = ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'] as const;

export interface ElbServerOptions {
  api: ElbApiName;
  region?: string;
  /** most items one Describe* page holds, whatever PageSize asks (default 400) */
  pageSize?: number;
  /** load balancers that exist before the test (alb: each with a listener and target group, plus one network LB) */
  seedBalancers?: number;
  /** how long a new ALB is `provisioning`, a new target `initial`, a new instance OutOfService (default 150) */
  provisioningMs?: number;
}

/** One request the server accepted as well-formed and signed. */
export interface ElbCall {
  action: string;
  params: URLSearchParams;
}

export interface ElbServer {
  url: string;
  calls: ElbCall[];
  /** protocol violations and rejected signatures, as readable lines */
  failures: string[];
  /** the actions called, in order */
  actions(): string[];
  close(): Promise<void>;
}

type Params = URLSearchParams;
type View = Record<string, unknown>;
interface Reply {
  status: number;
  body: string;
}
/** why: answered as an AWS error response, not a test failure (the driver may provoke these on purpose) */
class AwsFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
const fault = (code: string, message: string, status = 400) => new AwsFault(status, code, message);

const VERSIONS: Record<ElbApiName, string> = { elb: '2012-06-01', alb: '2015-12-01' };

export async function startElbServer(opts: ElbServerOptions): Promise<ElbServer> {
  const region = opts.region ?? 'us-east-1';
  const calls: ElbCall[] = [];
  const failures: string[] = [];
  const sockets = new Set<Socket>();
  const api = opts.api === 'elb' ? classicApi(region, opts) : albApi(region, opts);

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      failures.push(`server error: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const params = new URLSearchParams(body.toString('utf8'));
    const action = params.get('Action') ?? '';
    const send = (reply: Reply) => {
      res.writeHead(reply.status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(reply.body) });
      res.end(reply.body);
    };
    const reject = (status: number, code: string, message: string, why: string) => {
      failures.push(`${action || req.method + ' ' + req.url}: ${why}`);
      send(errorReply(opts.api, new AwsFault(status, code, message)));
    };

    const verified = verifyNodeRequest(
      req,
      body,
      (id) => (id === TEST_CREDENTIALS.accessKeyId ? TEST_CREDENTIALS.secretAccessKey : undefined),
      new Date(),
      { region, service: 'elasticloadbalancing' },
    );
    if (!verified.ok) {
      const unknownKey = verified.reason === 'unknown access key id';
      return reject(
        403,
        unknownKey ? 'InvalidClientTokenId' : 'SignatureDoesNotMatch',
        unknownKey
          ? 'The security token included in the request is invalid.'
          : 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
        `signature rejected (${verified.reason})`,
      );
    }
    if (req.method !== 'POST' || (req.url ?? '') !== '/') return reject(400, 'InvalidAction', 'Use POST /', `expected POST /, got ${req.method} ${req.url}`);
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return reject(400, 'MalformedQueryString', 'The body must be form-encoded', `content-type ${req.headers['content-type']}`);
    }
    if (params.get('Version') !== VERSIONS[opts.api]) {
      return reject(400, 'InvalidAction', 'Unsupported version', `Version ${params.get('Version')} is not ${VERSIONS[opts.api]}`);
    }
    const spec = api.specs[action];
    if (!spec) return reject(400, 'InvalidAction', `Could not find operation ${action} for version ${VERSIONS[opts.api]}`, 'unknown action');
    const problem = checkParams(params, spec);
    if (problem) return reject(400, problem.code, problem.message, problem.message);
    calls.push({ action, params });
    try {
      send({ status: 200, body: render(opts.api, spec.template, { requestId: randomUUID(), ...api.handlers[action]!(params) }) });
    } catch (err) {
      if (!(err instanceof AwsFault)) throw err;
      send(errorReply(opts.api, err));
    }
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    failures,
    actions: () => calls.map((c) => c.action),
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((err) => (err ? fail(err) : ok()));
        for (const s of sockets) s.destroy();
      }),
  };
}

// --- Request checks and rendering ---

/** Parameters one action takes: required names, and patterns every given name must match. */
interface ActionSpec {
  template: string;
  required: string[];
  allowed: RegExp[];
}
interface ApiImpl {
  specs: Record<string, ActionSpec>;
  handlers: Record<string, (p: Params) => View>;
}

function spec(template: string, required: string[], allowed: (string | RegExp)[] = []): ActionSpec {
  const exact = (s: string) => new RegExp(`^${s.replace(/\./g, '\\.').replace(/\bN\b/g, '[1-9]\\d*')}$`);
  return { template, required, allowed: [...required, ...allowed].map((a) => (typeof a === 'string' ? exact(a) : a)) };
}

function checkParams(params: Params, s: ActionSpec): { code: string; message: string } | undefined {
  for (const name of s.required) if (!params.get(name)) return { code: 'MissingParameter', message: `${name} is required` };
  for (const name of params.keys()) {
    if (name === 'Action' || name === 'Version') continue;
    if (!s.allowed.some((re) => re.test(name))) return { code: 'UnknownParameter', message: `Unknown parameter ${name}` };
  }
  return undefined;
}

const templates = new Map<string, string>();

function render(api: ElbApiName, name: string, view: View): string {
  const file = resolve(REPO_ROOT, 'fixtures', api, `${name}.xml`);
  let tpl = templates.get(file);
  if (tpl === undefined) templates.set(file, (tpl = readFileSync(file, 'utf8')));
  return renderBlock(tpl, [view]);
}

/** `{{name}}`, `{{.}}`, `{{#name}}…{{/name}}` (list or truthy), `{{^name}}…{{/name}}` (empty or falsy) */
function renderBlock(tpl: string, stack: unknown[]): string {
  const lookup = (key: string): unknown => {
    if (key === '.') return stack[stack.length - 1];
    for (let i = stack.length - 1; i >= 0; i--) {
      const frame = stack[i];
      if (frame !== null && typeof frame === 'object' && key in frame) return (frame as View)[key];
    }
    return undefined;
  };
  const sections = tpl.replace(/\{\{([#^])([\w.]+)\}\}\n?([\s\S]*?)\{\{\/\2\}\}\n?/g, (_all, kind: string, key: string, inner: string) => {
    const value = lookup(key);
    const empty = value === undefined || value === null || value === false || value === '' || (Array.isArray(value) && value.length === 0);
    if (kind === '^') return empty ? renderBlock(inner, stack) : '';
    if (empty) return '';
    const items = Array.isArray(value) ? value : [value];
    return items.map((item) => renderBlock(inner, [...stack, item])).join('');
  });
  return sections.replace(/\{\{([\w.]+)\}\}/g, (_all, key: string) => escapeXml(String(lookup(key) ?? '')));
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function errorReply(api: ElbApiName, err: AwsFault): Reply {
  const type = err.status >= 500 ? 'Receiver' : 'Sender';
  return { status: err.status, body: render(api, 'error', { type, code: err.code, message: err.message, requestId: randomUUID() }) };
}

/** `Name.member.1`, `Name.member.2`, … until one is missing */
function memberValues(p: Params, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; p.has(`${name}.member.${i}`); i++) out.push(p.get(`${name}.member.${i}`)!);
  return out;
}

/** `Name.member.N.Field` structs */
function memberStructs(p: Params, name: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (let i = 1; ; i++) {
    const prefix = `${name}.member.${i}.`;
    const entry: Record<string, string> = {};
    for (const [k, v] of p) if (k.startsWith(prefix)) entry[k.slice(prefix.length)] = v;
    if (Object.keys(entry).length === 0) return out;
    out.push(entry);
  }
}

function page<T>(items: T[], p: Params, max: number): { items: T[]; nextMarker: string } {
  const size = Math.min(Number(p.get('PageSize') ?? max), max);
  if (!Number.isInteger(size) || size < 1 || size > 400) throw fault('ValidationError', 'PageSize must be between 1 and 400');
  const marker = p.get('Marker');
  const start = marker ? Number(Buffer.from(marker, 'base64url').toString().replace(/^page:/, '')) : 0;
  if (!Number.isInteger(start) || start < 0) throw fault('ValidationError', 'Invalid Marker');
  const end = start + size;
  return { items: items.slice(start, end), nextMarker: end < items.length ? Buffer.from(`page:${end}`).toString('base64url') : '' };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;
const PORT = (v: string | null | undefined) => Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 65535;

// --- Classic ELB (2012-06-01) ---

interface ClassicLb {
  name: string;
  createdAt: Date;
  listeners: { protocol: string; loadBalancerPort: string; instanceProtocol: string; instancePort: string; sslCertificateId?: string }[];
  availabilityZones: string[];
  subnets: string[];
  securityGroups: string[];
  scheme: string;
  dnsName: string;
  /** instance id -> registration time (ms) */
  instances: Map<string, number>;
}

function classicApi(region: string, opts: ElbServerOptions): ApiImpl {
  const lbs = new Map<string, ClassicLb>();
  const provisioningMs = opts.provisioningMs ?? 150;
  const find = (name: string) => {
    const lb = lbs.get(name);
    if (!lb) throw fault('LoadBalancerNotFound', `There is no ACTIVE Load Balancer named '${name}'`);
    return lb;
  };
  const viewOf = (lb: ClassicLb): View => ({
    ...lb,
    createdTime: lb.createdAt.toISOString(),
    instances: [...lb.instances.keys()],
    vpcId: lb.subnets.length > 0 ? VPC_ID : '',
    healthCheckTarget: `TCP:${lb.listeners[0]?.instancePort ?? 80}`,
  });
  const instanceIds = (p: Params) => memberStructs(p, 'Instances').map((s) => s.InstanceId ?? '');
  for (let i = 1; i <= (opts.seedBalancers ?? 0); i++) {
    const name = `seed-elb-${i}`;
    lbs.set(name, {
      name,
      createdAt: new Date(Date.UTC(2024, 0, i)),
      listeners: [{ protocol: i % 2 ? 'HTTP' : 'TCP', loadBalancerPort: '80', instanceProtocol: i % 2 ? 'HTTP' : 'TCP', instancePort: '8080' }],
      availabilityZones: [`${region}a`],
      subnets: [],
      securityGroups: [],
      scheme: 'internet-facing',
      dnsName: `${name}-${100000 + i}.${region}.elb.amazonaws.com`,
      instances: new Map([[INSTANCE_IDS[0], 0]]),
    });
  }

  const specs: Record<string, ActionSpec> = {
    DescribeLoadBalancers: spec('describe-load-balancers', [], ['LoadBalancerNames.member.N', 'Marker', 'PageSize']),
    CreateLoadBalancer: spec(
      'create-load-balancer',
      ['LoadBalancerName', 'Listeners.member.1.Protocol', 'Listeners.member.1.LoadBalancerPort', 'Listeners.member.1.InstancePort'],
      [/^Listeners\.member\.[1-9]\d*\.(Protocol|LoadBalancerPort|InstanceProtocol|InstancePort|SSLCertificateId)$/, 'AvailabilityZones.member.N', 'Subnets.member.N', 'SecurityGroups.member.N', 'Scheme', /^Tags\.member\.[1-9]\d*\.(Key|Value)$/],
    ),
    DeleteLoadBalancer: spec('delete-load-balancer', ['LoadBalancerName']),
    RegisterInstancesWithLoadBalancer: spec('register-instances-with-load-balancer', ['LoadBalancerName', 'Instances.member.1.InstanceId'], ['Instances.member.N.InstanceId']),
    DeregisterInstancesFromLoadBalancer: spec('deregister-instances-from-load-balancer', ['LoadBalancerName', 'Instances.member.1.InstanceId'], ['Instances.member.N.InstanceId']),
    DescribeInstanceHealth: spec('describe-instance-health', ['LoadBalancerName'], ['Instances.member.N.InstanceId']),
  };

  const handlers: ApiImpl['handlers'] = {
    DescribeLoadBalancers(p) {
      const names = memberValues(p, 'LoadBalancerNames');
      const all = names.length > 0 ? names.map(find) : [...lbs.values()];
      const { items, nextMarker } = page(all, p, opts.pageSize ?? 400);
      return { balancers: items.map(viewOf), nextMarker };
    },
    CreateLoadBalancer(p) {
      const name = p.get('LoadBalancerName')!;
      if (!NAME.test(name)) throw fault('ValidationError', `LoadBalancerName '${name}' is not valid`);
      const listeners = memberStructs(p, 'Listeners').map((l) => ({
        protocol: (l.Protocol ?? '').toUpperCase(),
        loadBalancerPort: l.LoadBalancerPort ?? '',
        instanceProtocol: (l.InstanceProtocol ?? l.Protocol ?? '').toUpperCase(),
        instancePort: l.InstancePort ?? '',
        ...(l.SSLCertificateId ? { sslCertificateId: l.SSLCertificateId } : {}),
      }));
      for (const l of listeners) {
        if (!['HTTP', 'HTTPS', 'TCP', 'SSL'].includes(l.protocol)) throw fault('ValidationError', `Invalid protocol ${l.protocol}`);
        if (!PORT(l.loadBalancerPort) || !PORT(l.instancePort)) throw fault('ValidationError', 'Invalid port');
        const layer7 = (x: string) => x === 'HTTP' || x === 'HTTPS';
        if (layer7(l.protocol) !== layer7(l.instanceProtocol)) throw fault('InvalidConfigurationRequest', 'Incompatible InstanceProtocol');
        if ((l.protocol === 'HTTPS' || l.protocol === 'SSL') && !l.sslCertificateId) throw fault('ValidationError', 'SSLCertificateId is required for HTTPS and SSL listeners');
      }
      const availabilityZones = memberValues(p, 'AvailabilityZones');
      const subnets = memberValues(p, 'Subnets');
      if ((availabilityZones.length > 0) === (subnets.length > 0)) throw fault('ValidationError', 'Specify either AvailabilityZones or Subnets');
      for (const z of availabilityZones) if (!new RegExp(`^${region}[a-f]$`).test(z)) throw fault('ValidationError', `Invalid Availability Zone: ${z}`);
      for (const s of subnets) if (!(SUBNETS as readonly string[]).includes(s)) throw fault('SubnetNotFound', `The subnet ID '${s}' does not exist`);
      const existing = lbs.get(name);
      if (existing) {
        if (JSON.stringify(existing.listeners) !== JSON.stringify(listeners)) {
          throw fault('DuplicateLoadBalancerName', `Load Balancer named '${name}' already exists and it is configured with different parameters.`);
        }
        return { dnsName: existing.dnsName };
      }
      const lb: ClassicLb = {
        name,
        createdAt: new Date(),
        listeners,
        availabilityZones,
        subnets,
        securityGroups: memberValues(p, 'SecurityGroups'),
        scheme: p.get('Scheme') ?? 'internet-facing',
        dnsName: `${name}-${parseInt(hex(4), 16)}.${region}.elb.amazonaws.com`,
        instances: new Map(),
      };
      lbs.set(name, lb);
      return { dnsName: lb.dnsName };
    },
    DeleteLoadBalancer(p) {
      lbs.delete(p.get('LoadBalancerName')!);
      return {};
    },
    RegisterInstancesWithLoadBalancer(p) {
      const lb = find(p.get('LoadBalancerName')!);
      const ids = instanceIds(p);
      for (const id of ids) if (!(INSTANCE_IDS as readonly string[]).includes(id)) throw fault('InvalidInstance', `EC2 instance ${id} is not in running state or does not exist.`);
      for (const id of ids) if (!lb.instances.has(id)) lb.instances.set(id, Date.now());
      return { instances: [...lb.instances.keys()] };
    },
    DeregisterInstancesFromLoadBalancer(p) {
      const lb = find(p.get('LoadBalancerName')!);
      const ids = instanceIds(p);
      for (const id of ids) if (!lb.instances.has(id)) throw fault('InvalidInstance', `The instance ${id} is not registered with the load balancer.`);
      for (const id of ids) lb.instances.delete(id);
      return { instances: [...lb.instances.keys()] };
    },
    DescribeInstanceHealth(p) {
      const lb = find(p.get('LoadBalancerName')!);
      const asked = instanceIds(p);
      const ids = asked.length > 0 ? asked : [...lb.instances.keys()];
      return {
        states: ids.map((id) => {
          const at = lb.instances.get(id);
          if (at === undefined) return { instanceId: id, state: 'OutOfService', reasonCode: 'N/A', description: 'Instance is not currently registered with the LoadBalancer.' };
          if (Date.now() - at < provisioningMs) return { instanceId: id, state: 'OutOfService', reasonCode: 'ELB', description: 'Instance registration is still in progress.' };
          return { instanceId: id, state: 'InService', reasonCode: 'N/A', description: 'N/A' };
        }),
      };
    },
  };
  return { specs, handlers };
}

// --- ELBv2 / ALB (2015-12-01) ---

interface AppLb {
  arn: string;
  name: string;
  type: 'application' | 'network';
  createdAt: Date;
  subnets: string[];
  securityGroups: string[];
  scheme: string;
  dnsName: string;
}
interface Target {
  id: string;
  port: number;
  availabilityZone?: string;
  registeredAt: number;
  drainingSince?: number;
}
interface TargetGroup {
  arn: string;
  name: string;
  protocol: string;
  port: string;
  vpcId: string;
  targetType: string;
  attributes: Map<string, string>;
  targets: Map<string, Target>;
}
interface Listener {
  arn: string;
  loadBalancerArn: string;
  protocol: string;
  port: string;
  certificateArn?: string;
  sslPolicy?: string;
  targetGroupArn: string;
}

const TG_ATTRIBUTES: [string, string][] = [
  ['deregistration_delay.timeout_seconds', '300'],
  ['stickiness.enabled', 'false'],
  ['stickiness.type', 'lb_cookie'],
  ['load_balancing.algorithm.type', 'round_robin'],
  ['load_balancing.algorithm.anomaly_mitigation', 'off'],
  ['slow_start.duration_seconds', '0'],
];
const ALGORITHM_TYPES = ['round_robin', 'least_outstanding_requests', 'weighted_random'];

function albApi(region: string, opts: ElbServerOptions): ApiImpl {
  const provisioningMs = opts.provisioningMs ?? 150;
  const max = opts.pageSize ?? 400;
  const lbs = new Map<string, AppLb>();
  const tgs = new Map<string, TargetGroup>();
  const listeners = new Map<string, Listener>();
  const tags = new Map<string, { key: string; value: string }[]>();
  const arnBase = `arn:aws:elasticloadbalancing:${region}:${TEST_ACCOUNT_ID}`;

  const findLb = (arn: string) => {
    if (!/^arn:aws:elasticloadbalancing:[\w-]+:\d{12}:loadbalancer\/(app|net)\/[\w-]+\/[0-9a-f]{16}$/.test(arn)) {
      throw fault('ValidationError', `'${arn}' is not a valid load balancer ARN`);
    }
    const lb = lbs.get(arn);
    if (!lb) throw fault('LoadBalancerNotFound', `Load balancers '[${arn}]' not found`);
    return lb;
  };
  const findTg = (arn: string) => {
    const tg = tgs.get(arn);
    if (!tg) throw fault('TargetGroupNotFound', `Target groups '[${arn}]' not found`);
    return tg;
  };
  const lbView = (lb: AppLb): View => ({
    ...lb,
    createdTime: lb.createdAt.toISOString(),
    vpcId: VPC_ID,
    stateCode: Date.now() - lb.createdAt.getTime() < provisioningMs ? 'provisioning' : 'active',
    zones: lb.subnets.map((subnetId, i) => ({ subnetId, zoneName: `${region}${'abcdef'[i % 6]}` })),
  });
  const usedBy = (tg: TargetGroup) => [...new Set([...listeners.values()].filter((l) => l.targetGroupArn === tg.arn).map((l) => l.loadBalancerArn))];
  const tgView = (tg: TargetGroup): View => ({ ...tg, loadBalancerArns: usedBy(tg) });
  const listenerView = (l: Listener): View => ({ ...l, actions: [{ targetGroupArn: l.targetGroupArn, order: 1 }] });
  const drained = (tg: TargetGroup) => {
    const delay = Number(tg.attributes.get('deregistration_delay.timeout_seconds')) * 1000;
    for (const [key, t] of tg.targets) if (t.drainingSince !== undefined && Date.now() - t.drainingSince >= delay) tg.targets.delete(key);
  };
  const health = (tg: TargetGroup, t: Target | undefined, id: string, port: number) => {
    const base = { id, port, availabilityZone: t?.availabilityZone ?? '' };
    if (!t) return { ...base, state: 'unused', reason: 'Target.NotRegistered', description: 'Target is not registered to the target group' };
    if (t.drainingSince !== undefined) return { ...base, state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
    if (usedBy(tg).length === 0) return { ...base, state: 'unused', reason: 'Target.NotInUse', description: 'Target group is not configured to receive traffic from the load balancer' };
    if (Date.now() - t.registeredAt < provisioningMs) return { ...base, state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' };
    return { ...base, state: 'healthy' };
  };
  const createTg = (name: string, protocol: string, port: string, targetType: string): TargetGroup => {
    const tg: TargetGroup = { arn: `${arnBase}:targetgroup/${name}/${hex(8)}`, name, protocol, port, vpcId: VPC_ID, targetType, attributes: new Map(TG_ATTRIBUTES), targets: new Map() };
    tgs.set(tg.arn, tg);
    return tg;
  };
  const createLb = (name: string, type: AppLb['type'], subnets: string[], securityGroups: string[], scheme: string, createdAt: Date): AppLb => {
    const lb: AppLb = {
      arn: `${arnBase}:loadbalancer/${type === 'application' ? 'app' : 'net'}/${name}/${hex(8)}`,
      name,
      type,
      createdAt,
      subnets,
      securityGroups,
      scheme,
      dnsName: `${scheme === 'internal' ? 'internal-' : ''}${name}-${parseInt(hex(4), 16)}.${region}.elb.amazonaws.com`,
    };
    lbs.set(lb.arn, lb);
    return lb;
  };
  for (let i = 1; i <= (opts.seedBalancers ?? 0); i++) {
    const lb = createLb(`seed-alb-${i}`, 'application', [...SUBNETS], [], 'internet-facing', new Date(Date.UTC(2024, 0, i)));
    const tg = createTg(`seed-alb-${i}-tg`, 'HTTP', '8080', i % 2 ? 'ip' : 'instance');
    if (i % 3 === 0) tg.attributes.set('load_balancing.algorithm.type', 'least_outstanding_requests');
    const arn = `${arnBase}:listener/app/${lb.name}/${lb.arn.slice(-16)}/${hex(8)}`;
    listeners.set(arn, { arn, loadBalancerArn: lb.arn, protocol: 'HTTP', port: '80', targetGroupArn: tg.arn });
  }
  if ((opts.seedBalancers ?? 0) > 0) createLb('seed-nlb', 'network', [...SUBNETS], [], 'internet-facing', new Date(Date.UTC(2024, 1, 1)));

  const tagList = /^Tags\.member\.[1-9]\d*\.(Key|Value)$/;
  const targetList = /^Targets\.member\.[1-9]\d*\.(Id|Port|AvailabilityZone)$/;
  const specs: Record<string, ActionSpec> = {
    DescribeLoadBalancers: spec('describe-load-balancers', [], ['LoadBalancerArns.member.N', 'Names.member.N', 'Marker', 'PageSize']),
    CreateLoadBalancer: spec('create-load-balancer', ['Name'], ['Subnets.member.N', 'SecurityGroups.member.N', 'Scheme', 'Type', 'IpAddressType', tagList]),
    DeleteLoadBalancer: spec('delete-load-balancer', ['LoadBalancerArn']),
    CreateTargetGroup: spec('create-target-group', ['Name'], ['Protocol', 'Port', 'VpcId', 'TargetType', 'HealthCheckPath', tagList]),
    DescribeTargetGroups: spec('describe-target-groups', [], ['LoadBalancerArn', 'TargetGroupArns.member.N', 'Names.member.N', 'Marker', 'PageSize']),
    DeleteTargetGroup: spec('delete-target-group', ['TargetGroupArn']),
    DescribeTargetGroupAttributes: spec('describe-target-group-attributes', ['TargetGroupArn']),
    ModifyTargetGroupAttributes: spec('modify-target-group-attributes', ['TargetGroupArn', 'Attributes.member.1.Key'], [/^Attributes\.member\.[1-9]\d*\.(Key|Value)$/]),
    CreateListener: spec(
      'create-listener',
      ['LoadBalancerArn', 'Protocol', 'Port', 'DefaultActions.member.1.Type', 'DefaultActions.member.1.TargetGroupArn'],
      ['SslPolicy', 'Certificates.member.N.CertificateArn'],
    ),
    DescribeListeners: spec('describe-listeners', [], ['LoadBalancerArn', 'ListenerArns.member.N', 'Marker', 'PageSize']),
    DeleteListener: spec('delete-listener', ['ListenerArn']),
    RegisterTargets: spec('register-targets', ['TargetGroupArn', 'Targets.member.1.Id'], [targetList]),
    DeregisterTargets: spec('deregister-targets', ['TargetGroupArn', 'Targets.member.1.Id'], [targetList]),
    DescribeTargetHealth: spec('describe-target-health', ['TargetGroupArn'], [targetList]),
    DescribeTags: spec('describe-tags', ['ResourceArns.member.1'], ['ResourceArns.member.N']),
  };

  const targetsOf = (p: Params, tg: TargetGroup) =>
    memberStructs(p, 'Targets').map((t) => ({ id: t.Id ?? '', port: Number(t.Port ?? tg.port), availabilityZone: t.AvailabilityZone }));

  const handlers: ApiImpl['handlers'] = {
    DescribeLoadBalancers(p) {
      const arns = memberValues(p, 'LoadBalancerArns');
      const names = memberValues(p, 'Names');
      let all = [...lbs.values()];
      if (arns.length > 0) all = arns.map(findLb);
      if (names.length > 0) {
        all = names.map((n) => all.find((lb) => lb.name === n) ?? null).filter((lb): lb is AppLb => lb !== null);
        if (all.length < names.length) throw fault('LoadBalancerNotFound', `One or more load balancers not found`);
      }
      const { items, nextMarker } = page(all, p, max);
      return { balancers: items.map(lbView), nextMarker };
    },
    CreateLoadBalancer(p) {
      const name = p.get('Name')!;
      if (!NAME.test(name) || name.startsWith('internal-')) throw fault('ValidationError', `The load balancer name '${name}' is not valid`);
      if ((p.get('Type') ?? 'application') !== 'application') throw fault('ValidationError', 'This server only makes application load balancers');
      const subnets = memberValues(p, 'Subnets');
      for (const s of subnets) if (!(SUBNETS as readonly string[]).includes(s)) throw fault('SubnetNotFound', `The subnet ID '${s}' is not valid`);
      if (new Set(subnets).size < 2) throw fault('ValidationError', 'At least two subnets in two different Availability Zones must be specified');
      const securityGroups = memberValues(p, 'SecurityGroups');
      for (const g of securityGroups) if (!/^sg-[0-9a-f]{8,17}$/.test(g)) throw fault('InvalidSecurityGroup', `Security group '${g}' does not exist`);
      if ([...lbs.values()].some((lb) => lb.name === name)) throw fault('DuplicateLoadBalancerName', `A load balancer with the same name '${name}' exists, but with different settings`);
      const lb = createLb(name, 'application', subnets, securityGroups, p.get('Scheme') ?? 'internet-facing', new Date());
      return { balancers: [lbView(lb)] };
    },
    DeleteLoadBalancer(p) {
      const lb = findLb(p.get('LoadBalancerArn')!);
      for (const l of [...listeners.values()]) if (l.loadBalancerArn === lb.arn) listeners.delete(l.arn);
      lbs.delete(lb.arn);
      tags.delete(lb.arn);
      return {};
    },
    CreateTargetGroup(p) {
      const name = p.get('Name')!;
      if (!NAME.test(name)) throw fault('ValidationError', `Target group name '${name}' is not valid`);
      const targetType = p.get('TargetType') ?? 'instance';
      if (!['instance', 'ip', 'lambda', 'alb'].includes(targetType)) throw fault('ValidationError', `Invalid TargetType ${targetType}`);
      const protocol = p.get('Protocol') ?? '';
      const port = p.get('Port') ?? '';
      if (targetType !== 'lambda' && (!protocol || !PORT(port) || !p.get('VpcId'))) throw fault('ValidationError', 'A protocol, port and VPC ID must be specified');
      if (p.get('VpcId') !== VPC_ID) throw fault('ValidationError', `The VPC ID '${p.get('VpcId')}' is not found`);
      if ([...tgs.values()].some((tg) => tg.name === name)) throw fault('DuplicateTargetGroupName', `A target group with the same name '${name}' exists, but with different settings`);
      const tg = createTg(name, protocol, port, targetType);
      const given = memberStructs(p, 'Tags').map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' }));
      if (given.length > 0) tags.set(tg.arn, given);
      return { targetGroups: [tgView(tg)] };
    },
    DescribeTargetGroups(p) {
      const lbArn = p.get('LoadBalancerArn');
      const arns = memberValues(p, 'TargetGroupArns');
      const names = memberValues(p, 'Names');
      let all = [...tgs.values()];
      if (lbArn) {
        const lb = findLb(lbArn);
        all = all.filter((tg) => usedBy(tg).includes(lb.arn));
      }
      if (arns.length > 0) all = arns.map(findTg);
      if (names.length > 0) {
        all = names.map((n) => [...tgs.values()].find((tg) => tg.name === n) ?? null).filter((tg): tg is TargetGroup => tg !== null);
        if (all.length < names.length) throw fault('TargetGroupNotFound', 'One or more target groups not found');
      }
      const { items, nextMarker } = page(all, p, max);
      return { targetGroups: items.map(tgView), nextMarker };
    },
    DeleteTargetGroup(p) {
      const tg = tgs.get(p.get('TargetGroupArn')!);
      if (tg && usedBy(tg).length > 0) throw fault('ResourceInUse', `Target group '${tg.arn}' is currently in use by a listener or a rule`);
      if (tg) tgs.delete(tg.arn);
      return {};
    },
    DescribeTargetGroupAttributes(p) {
      const tg = findTg(p.get('TargetGroupArn')!);
      return { attributes: [...tg.attributes].map(([key, value]) => ({ key, value })) };
    },
    ModifyTargetGroupAttributes(p) {
      const tg = findTg(p.get('TargetGroupArn')!);
      const changes = memberStructs(p, 'Attributes');
      const next = new Map(tg.attributes);
      for (const { Key: key = '', Value: value = '' } of changes) {
        if (!next.has(key)) throw fault('InvalidConfigurationRequest', `Attribute key '${key}' is not recognized`);
        if (key === 'load_balancing.algorithm.type' && !ALGORITHM_TYPES.includes(value)) throw fault('ValidationError', `'${value}' is not a valid load balancing algorithm`);
        next.set(key, value);
      }
      if (next.get('load_balancing.algorithm.anomaly_mitigation') === 'on' && next.get('load_balancing.algorithm.type') !== 'weighted_random') {
        throw fault('InvalidConfigurationRequest', 'Anomaly mitigation is only supported with the weighted_random algorithm');
      }
      tg.attributes = next;
      return { attributes: [...next].map(([key, value]) => ({ key, value })) };
    },
    CreateListener(p) {
      const lb = findLb(p.get('LoadBalancerArn')!);
      const protocol = p.get('Protocol')!;
      const port = p.get('Port')!;
      if (!['HTTP', 'HTTPS'].includes(protocol)) throw fault('ValidationError', `Listener protocol '${protocol}' must be one of 'HTTPS, HTTP'`);
      if (!PORT(port)) throw fault('ValidationError', 'Invalid port');
      if (p.get('DefaultActions.member.1.Type') !== 'forward') throw fault('ValidationError', 'This server only supports forward actions');
      const tg = findTg(p.get('DefaultActions.member.1.TargetGroupArn')!);
      if (!['HTTP', 'HTTPS'].includes(tg.protocol)) throw fault('IncompatibleProtocols', `The target group protocol '${tg.protocol}' is not compatible with an application load balancer`);
      const certificateArn = p.get('Certificates.member.1.CertificateArn') ?? undefined;
      if (protocol === 'HTTPS' && !certificateArn) throw fault('ValidationError', 'A certificate must be specified for HTTPS listeners');
      if ([...listeners.values()].some((l) => l.loadBalancerArn === lb.arn && l.port === port)) throw fault('DuplicateListener', 'A listener already exists on this port for this load balancer');
      const l: Listener = {
        arn: `${arnBase}:listener/app/${lb.name}/${lb.arn.slice(-16)}/${hex(8)}`,
        loadBalancerArn: lb.arn,
        protocol,
        port,
        targetGroupArn: tg.arn,
        ...(certificateArn ? { certificateArn, sslPolicy: p.get('SslPolicy') ?? 'ELBSecurityPolicy-2016-08' } : {}),
      };
      listeners.set(l.arn, l);
      return { listeners: [listenerView(l)] };
    },
    DescribeListeners(p) {
      const lbArn = p.get('LoadBalancerArn');
      const arns = memberValues(p, 'ListenerArns');
      let all = [...listeners.values()];
      if (lbArn) {
        const lb = findLb(lbArn);
        all = all.filter((l) => l.loadBalancerArn === lb.arn);
      }
      if (arns.length > 0) all = all.filter((l) => arns.includes(l.arn));
      const { items, nextMarker } = page(all, p, max);
      return { listeners: items.map(listenerView), nextMarker };
    },
    DeleteListener(p) {
      if (!listeners.delete(p.get('ListenerArn')!)) throw fault('ListenerNotFound', 'One or more listeners not found');
      return {};
    },
    RegisterTargets(p) {
      const tg = findTg(p.get('TargetGroupArn')!);
      for (const t of targetsOf(p, tg)) {
        if (!PORT(String(t.port))) throw fault('ValidationError', `Invalid port ${t.port}`);
        if (tg.targetType === 'ip') {
          if (isIP(t.id) === 0) throw fault('InvalidTarget', `The IP address '${t.id}' is not a valid IPv4 address`);
          if (!t.id.startsWith('10.0.') && t.availabilityZone !== 'all') {
            throw fault('ValidationError', `The IP address '${t.id}' is not within the VPC CIDR of the target group's VPC; register it with AvailabilityZone 'all'`);
          }
        } else if (!(INSTANCE_IDS as readonly string[]).includes(t.id)) {
          throw fault('InvalidTarget', `The following targets are not in a running state and cannot be registered: '${t.id}'`);
        }
        tg.targets.set(`${t.id}:${t.port}`, { ...t, registeredAt: Date.now() });
      }
      return {};
    },
    DeregisterTargets(p) {
      const tg = findTg(p.get('TargetGroupArn')!);
      drained(tg);
      for (const t of targetsOf(p, tg)) {
        const known = tg.targets.get(`${t.id}:${t.port}`);
        if (!known) throw fault('InvalidTarget', `The target '${t.id}:${t.port}' is not registered with the target group`);
        known.drainingSince ??= Date.now();
      }
      return {};
    },
    DescribeTargetHealth(p) {
      const tg = findTg(p.get('TargetGroupArn')!);
      drained(tg);
      const asked = targetsOf(p, tg);
      const targets =
        asked.length > 0
          ? asked.map((t) => health(tg, tg.targets.get(`${t.id}:${t.port}`), t.id, t.port))
          : [...tg.targets.values()].map((t) => health(tg, t, t.id, t.port));
      return { targets };
    },
    DescribeTags(p) {
      const arns = memberValues(p, 'ResourceArns');
      if (arns.length > 20) throw fault('ValidationError', 'At most 20 resource ARNs');
      for (const arn of arns) {
        if (arn.includes(':targetgroup/')) findTg(arn);
        else findLb(arn);
      }
      return { descriptions: arns.map((arn) => ({ arn, tags: tags.get(arn) ?? [] })) };
    },
  };
  return { specs, handlers };
}
