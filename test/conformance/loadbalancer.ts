/**
 * Load-balancer conformance suite: protocols and algorithms, the balancer round trip, members,
 * compute nodes as members, and the typed errors for unsupported algorithms and unknown ids.
 * Members are IP addresses unless `memberMode: 'instance'` says the provider registers only
 * compute nodes (classic ELB).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '../../src/providers/errors.ts';
import {
  ALGORITHMS,
  type Algorithm,
  type ComputeDriver,
  type CreateBalancerInput,
  type LoadBalancer,
  type LoadBalancerDriver,
  type Node,
} from '../../src/providers/types.ts';
import {
  expectDeclaredCapabilities,
  expectTypedError,
  modelChecks,
  pollUntil,
  uniqueName,
  type ListsEveryOptionalMethod,
  type OptionalKeys,
  type WaitFor,
} from './assertions.ts';

export const LOADBALANCER_OPTIONAL_METHODS = [
  'updateBalancer',
  'attachNode',
] as const satisfies readonly OptionalKeys<LoadBalancerDriver>[];
export type LoadBalancerCapability = (typeof LOADBALANCER_OPTIONAL_METHODS)[number];
// why: fails to compile when types.ts gains an optional method this list does not name
const _everyOptionalMethodListed: ListsEveryOptionalMethod<LoadBalancerDriver, LoadBalancerCapability> = true;

export interface LoadBalancerSuiteOptions {
  /** provider name, used in the describe title `loadbalancer: <name>` */
  name: string;
  /** `compute`, when given, supplies a real node for attachNode */
  create: () => Promise<{ driver: LoadBalancerDriver; compute?: ComputeDriver; cleanup?: () => Promise<void> }>;
  /** the optional methods the driver has; a test checks this against the driver */
  capabilities: readonly LoadBalancerCapability[];
  /** how to wait for state changes; default polls every 250 ms for up to waitTimeoutMs */
  waitFor?: WaitFor;
  waitTimeoutMs?: number;
  /** an id in the provider's syntax that certainly does not exist */
  missingBalancerId?: string;
  /** two member addresses the provider accepts; default 10.0.0.11 and 10.0.0.12 */
  memberIps?: readonly [string, string];
  /**
   * 'ip' mode: the ports of the member created with the balancer and of the one attached later;
   * default 8080 and 8081. A provider that sends every member traffic on the balancer's one
   * backend port (Azure Load Balancer) passes the same port twice.
   */
  memberPorts?: readonly [number, number];
  /** strings (credentials) that must never appear in a model or an error message */
  secrets?: readonly string[];
  /**
   * 'ip' (default): members are addresses. 'instance': the provider registers compute nodes only
   * (classic ELB), so the suite creates with `members: []`, attaches with attachNode (which the
   * driver must have) and expects each member's nodeId to be the node's id.
   */
  memberMode?: 'ip' | 'instance';
  /**
   * Completes the suite's createBalancer input, e.g. with `ex`. In 'instance' mode `nodes` holds
   * the node the balancer must be created with (register it, e.g. through `ex.instanceIds`); the
   * rejected-algorithm attempts pass `[]`. Default: the input as it is.
   */
  createInput?: (base: CreateBalancerInput, nodes: readonly Node[]) => CreateBalancerInput;
  /** 'instance' mode: at least two nodes to register; default the running nodes of `compute` */
  nodes?: readonly Node[];
  /** 'instance' mode: the port members take traffic on (the listener's instance port); default 8080 */
  memberPort?: number;
}

export function testLoadBalancerDriver(opts: LoadBalancerSuiteOptions): void {
  const caps = new Set<string>(opts.capabilities);
  const waitTimeoutMs = opts.waitTimeoutMs ?? 60_000;
  const waitFor = opts.waitFor ?? pollUntil({ timeoutMs: waitTimeoutMs });
  const slow = waitTimeoutMs + 10_000;
  const missingId = opts.missingBalancerId ?? 'sgc-missing-balancer';
  const [firstIp, secondIp] = opts.memberIps ?? ['10.0.0.11', '10.0.0.12'];
  const [firstPort, secondPort] = opts.memberPorts ?? [8080, 8081];
  const check = modelChecks(opts.secrets);
  const instanceMode = opts.memberMode === 'instance';
  const memberPort = opts.memberPort ?? 8080;
  const complete = opts.createInput ?? ((base: CreateBalancerInput) => base);

  describe(`loadbalancer: ${opts.name}`, () => {
    let driver: LoadBalancerDriver;
    let compute: ComputeDriver | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    let balancer: LoadBalancer | undefined;
    let nodes: readonly Node[] = [];
    const name = uniqueName();

    const requireBalancer = (): LoadBalancer => {
      if (!balancer) throw new Error('no balancer: the createBalancer test failed');
      return balancer;
    };

    beforeAll(async () => {
      ({ driver, compute, cleanup } = await opts.create());
      if (instanceMode) {
        if (!caps.has('attachNode')) throw new Error("'instance' member mode needs the attachNode capability");
        nodes = opts.nodes ?? (await runningNodes(compute));
        if (nodes.length < 2) throw new Error("'instance' member mode needs two nodes (the nodes option or a compute driver's running nodes)");
      }
    });

    afterAll(async () => {
      if (driver) {
        const ours = (await driver.listBalancers().catch(() => [])).filter((b) => b.name.startsWith(name));
        for (const b of ours) await driver.destroyBalancer(b.id).catch(() => undefined);
      }
      await cleanup?.();
    });

    it('declares exactly the optional methods it has', () => {
      expectDeclaredCapabilities(driver, LOADBALANCER_OPTIONAL_METHODS, opts.capabilities);
    });

    it('lists protocols', async () => {
      const protocols = await driver.listProtocols();
      expect(protocols.length).toBeGreaterThan(0);
      for (const p of protocols) expect(typeof p).toBe('string');
      expect(new Set(protocols).size).toBe(protocols.length);
    });

    it('lists supported algorithms, a subset of ALGORITHMS', () => {
      const algorithms = driver.listAlgorithms();
      expect(algorithms.length).toBeGreaterThan(0);
      for (const a of algorithms) expect(ALGORITHMS).toContain(a);
      expect(new Set(algorithms).size).toBe(algorithms.length);
    });

    it('lists balancers', async () => {
      const balancers = await driver.listBalancers();
      balancers.forEach(check.balancer);
      expect(new Set(balancers.map((b) => b.id)).size).toBe(balancers.length);
    });

    it('creates a balancer that appears in listBalancers and getBalancer', async () => {
      const protocol = await pickProtocol(driver);
      const algorithm = pickAlgorithm(driver);
      const base = { name, port: 80, protocol, algorithm };
      balancer = await driver.createBalancer(
        instanceMode ? complete({ ...base, members: [] }, nodes.slice(0, 1)) : complete({ ...base, members: [{ ip: firstIp, port: firstPort }] }, []),
      );
      check.balancer(balancer);
      expect(balancer).toMatchObject({ name, port: 80 });
      expect([null, algorithm]).toContain(balancer.algorithm);
      const listed = (await driver.listBalancers()).find((b) => b.id === balancer!.id);
      expect(listed, 'the new balancer is listed').toBeDefined();
      check.balancer(listed!);
      const got = await driver.getBalancer(balancer.id);
      check.balancer(got);
      expect(got).toMatchObject({ id: balancer.id, name, port: 80 });
    });

    it('brings the new balancer to running', { timeout: slow }, async () => {
      const { id } = requireBalancer();
      await waitFor(async () => (await driver.getBalancer(id)).state === 'running', `balancer ${id} to be running`);
    });

    it('lists the member it was created with', async () => {
      const members = await driver.listMembers(requireBalancer().id);
      members.forEach(check.member);
      if (instanceMode) expect(members.some((m) => m.nodeId === nodes[0]!.id && m.port === memberPort)).toBe(true);
      else expect(members.some((m) => m.ip === firstIp && m.port === firstPort)).toBe(true);
    });

    if (instanceMode) {
      it('attaches and detaches a compute node as a member', async () => {
        const { id } = requireBalancer();
        const node = nodes[1]!;
        const member = await driver.attachNode!(id, node, memberPort);
        check.member(member);
        expect(member).toMatchObject({ nodeId: node.id, port: memberPort });
        const listed = await driver.listMembers(id);
        expect(listed.find((m) => m.id === member.id)).toMatchObject({ nodeId: node.id, port: memberPort });
        await driver.detachMember(id, member.id);
        expect((await driver.listMembers(id)).map((m) => m.id)).not.toContain(member.id);
        expect((await driver.listMembers(id)).map((m) => m.nodeId)).toContain(nodes[0]!.id);
      });
    } else {
      it('attaches and detaches a member', async () => {
        const { id } = requireBalancer();
        const member = await driver.attachMember(id, { ip: secondIp, port: secondPort });
        check.member(member);
        expect(member).toMatchObject({ ip: secondIp, port: secondPort });
        expect((await driver.listMembers(id)).map((m) => m.id)).toContain(member.id);
        await driver.detachMember(id, member.id);
        expect((await driver.listMembers(id)).map((m) => m.id)).not.toContain(member.id);
      });

      it.skipIf(!caps.has('attachNode'))('attaches a compute node as a member', async () => {
        const { id } = requireBalancer();
        const node = (await computeNode(compute)) ?? syntheticNode();
        const member = await driver.attachNode!(id, node, 8082);
        check.member(member);
        expect(member.port).toBe(8082);
        const nodeIps = [...node.publicIps, ...node.privateIps];
        expect(member.nodeId === node.id || nodeIps.includes(member.ip ?? ''), 'the member is the node').toBe(true);
        expect((await driver.listMembers(id)).map((m) => m.id)).toContain(member.id);
        await driver.detachMember(id, member.id);
      });
    }

    it.skipIf(!caps.has('updateBalancer'))('moves a balancer to another port', async () => {
      const { id } = requireBalancer();
      const before = await driver.getBalancer(id);
      const port = before.port === 8081 ? 8082 : 8081;
      const updated = await driver.updateBalancer!(id, { port });
      check.balancer(updated);
      expect(updated).toMatchObject({ id, port, name: before.name, protocol: before.protocol });
      expect((await driver.getBalancer(id)).port).toBe(port);
    });

    it('rejects algorithms it does not support with InvalidInputError naming algorithm', async () => {
      const supported = new Set<string>(driver.listAlgorithms());
      const rejected = [...ALGORITHMS.filter((a) => !supported.has(a)), 'NOT_AN_ALGORITHM' as Algorithm];
      const protocol = await pickProtocol(driver);
      for (const algorithm of rejected) {
        const attempt = driver.createBalancer(
          complete(
            {
              name: `${name}-${algorithm.toLowerCase().replace(/_/g, '-')}`,
              port: 80,
              protocol,
              algorithm,
              members: [],
            },
            [],
          ),
        );
        const err = await expectTypedError(attempt, InvalidInputError, 'algorithm');
        check.error(err);
      }
      const names = (await driver.listBalancers()).map((b) => b.name);
      expect(names.filter((n) => n.startsWith(`${name}-`) && !n.endsWith('-renamed'))).toEqual([]);
    });

    it('answers NotFoundError for unknown balancer ids', async () => {
      check.error(await expectTypedError(driver.getBalancer(missingId), NotFoundError));
      check.error(await expectTypedError(driver.listMembers(missingId), NotFoundError));
      check.error(await expectTypedError(driver.destroyBalancer(missingId), NotFoundError));
    });

    it('destroys the balancer', { timeout: slow }, async () => {
      const { id } = requireBalancer();
      await driver.destroyBalancer(id);
      await waitFor(async () => {
        const found = (await driver.listBalancers()).find((b) => b.id === id);
        return found === undefined || found.state === 'deleted';
      }, `balancer ${id} to go`);
    });
  });
}

// --- Internal helpers ---

async function pickProtocol(driver: LoadBalancerDriver): Promise<string> {
  const protocols = await driver.listProtocols();
  return ['http', 'tcp'].find((p) => protocols.includes(p)) ?? protocols[0]!;
}

function pickAlgorithm(driver: LoadBalancerDriver): Algorithm {
  const algorithms = driver.listAlgorithms();
  return algorithms.includes('ROUND_ROBIN') ? 'ROUND_ROBIN' : algorithms[0]!;
}

async function computeNode(compute: ComputeDriver | undefined): Promise<Node | undefined> {
  if (!compute) return undefined;
  const nodes = await compute.listNodes();
  const usable = nodes.find((n) => n.state === 'running' && n.publicIps.length + n.privateIps.length > 0);
  if (!usable) throw new Error('the compute driver has no running node with an IP to attach');
  return usable;
}

async function runningNodes(compute: ComputeDriver | undefined): Promise<Node[]> {
  if (!compute) throw new Error("'instance' member mode needs the nodes option or a compute driver");
  return (await compute.listNodes()).filter((n) => n.state === 'running');
}

/** For drivers that attach by address only and were given no compute driver. */
function syntheticNode(): Node {
  return {
    id: 'sgc-node',
    name: 'sgc-node',
    state: 'running',
    publicIps: ['192.0.2.10'],
    privateIps: ['10.0.0.13'],
    sizeId: null,
    imageId: null,
    locationId: null,
    createdAt: null,
    tags: {},
    extra: {},
  };
}
