import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConflictError,
  ConnectionFailedError,
  InvalidInputError,
  MalformedResponseError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
  SkygraphError,
  TimeoutError,
  UnsupportedError,
  type ErrorCode,
} from '../../src/providers/errors.ts';
import { sandboxProvider } from '../../src/providers/sandbox/index.ts';
import { generateEd25519 } from '../../src/providers/sandbox/ssh-keys.ts';
import type { ComputeDriver, LoadBalancerDriver } from '../../src/providers/types.ts';
import { expectTypedError, pollUntil } from '../conformance/assertions.ts';
import { computeCapabilitiesExcept, testComputeDriver } from '../conformance/compute.ts';
import { testLoadBalancerDriver } from '../conformance/loadbalancer.ts';
import { testDriverContext, type TestDriverContext } from '../helpers/driver-context.ts';

const T0 = Date.UTC(2025, 0, 1);

/** A sandbox account; `frozen` pins the clock at T0 before the provider is created. */
function sandbox(options: Record<string, unknown> = {}, frozen = false) {
  const ctx = testDriverContext({ driver: 'sandbox', options });
  if (frozen) ctx.clock.set(T0);
  const instance = sandboxProvider.create(ctx);
  return { ctx, compute: instance.compute!, lb: instance.loadBalancer! };
}

let conformanceCtx: TestDriverContext;
// why: each poll moves the injected clock 500 ms, so transitions happen without sleeping
const tickingWait = pollUntil({ intervalMs: 1, timeoutMs: 5_000, tick: () => conformanceCtx.clock.advance(500) });

testComputeDriver({
  name: 'sandbox',
  create: async () => {
    const s = sandbox();
    conformanceCtx = s.ctx;
    return { driver: s.compute };
  },
  capabilities: computeCapabilitiesExcept('copyImage'),
  waitFor: tickingWait,
});

testLoadBalancerDriver({
  name: 'sandbox',
  create: async () => {
    const s = sandbox();
    conformanceCtx = s.ctx;
    return { driver: s.lb, compute: s.compute };
  },
  capabilities: ['updateBalancer', 'attachNode'],
  waitFor: tickingWait,
});

describe('sandbox provider', () => {
  it('is a non-regional compute, load-balancer and DNS provider', () => {
    expect(sandboxProvider).toMatchObject({ name: 'sandbox', services: ['COMPUTE', 'LOADBALANCER', 'DNS'], regional: false });
  });

  describe('options', () => {
    const validate = (options: Record<string, unknown>) =>
      sandboxProvider.validate!(testDriverContext({ driver: 'sandbox', options }).account);

    it('accepts no options and every option set correctly', () => {
      expect(validate({})).toEqual([]);
      expect(
        validate({ latencyMs: 5, fail: 'TIMEOUT', nodes: 50, transitionMs: 0, nodeAddress: '::1', seed: false }),
      ).toEqual([]);
    });

    it('names each bad field without echoing its value', () => {
      const secret = 'hunter2-do-not-echo';
      const problems = validate({
        latencyMs: -1,
        fail: secret,
        nodes: 2.5,
        transitionMs: 'slow',
        nodeAddress: secret,
        seed: 'yes',
        [secret]: 1,
      });
      expect(problems).toEqual([
        'options.hunter2-do-not-echo is not a sandbox option',
        'options.latencyMs must be a non-negative integer (at most 600000)',
        'options.nodes must be a non-negative integer (at most 10000)',
        'options.transitionMs must be a non-negative integer (at most 86400000)',
        expect.stringMatching(/^options\.fail must be one of AUTHENTICATION_FAILED, .*UNAVAILABLE$/),
        'options.nodeAddress must be an IPv4 or IPv6 address',
        'options.seed must be a boolean',
      ]);
      // an unknown key is named (it is the field), but no bad value appears
      expect(problems.slice(1).join('\n')).not.toContain(secret);
    });

    it('refuses to create an instance from invalid options', () => {
      expect(() => sandbox({ latencyMs: -5 })).toThrow(InvalidInputError);
    });
  });

  describe('seeded data', () => {
    it('has a realistic catalog', async () => {
      const { compute } = sandbox();
      const images = await compute.listImages();
      expect(images).toHaveLength(6);
      expect(images.map((i) => i.name)).toEqual(
        expect.arrayContaining([expect.stringContaining('Ubuntu 24.04'), expect.stringContaining('Debian 12')]),
      );
      expect(images[0]!.extra).toMatchObject({ os: 'linux', distribution: 'ubuntu', version: '24.04' });
      const sizes = await compute.listSizes();
      expect(sizes).toHaveLength(6);
      expect(sizes.every((s) => s.price! > 0 && s.ram >= 512 && s.disk >= 10 && s.bandwidth! > 0)).toBe(true);
      const locations = await compute.listLocations();
      expect(locations.map((l) => l.country)).toEqual(['DE', 'NL', 'US', 'SG']);
      expect(await compute.listImages({ name: 'debian' })).toHaveLength(1);
      expect(await compute.listImages({ owner: 'self' })).toEqual([]);
    });

    it('seeds four nodes in different states, one private-only, and a balancer with two members', async () => {
      const { compute, lb } = sandbox({}, true);
      const nodes = await compute.listNodes();
      expect(nodes.map((n) => [n.id, n.state])).toEqual([
        ['node-1', 'running'],
        ['node-2', 'running'],
        ['node-3', 'stopped'],
        ['node-4', 'pending'],
      ]);
      expect(nodes[0]!.publicIps).toHaveLength(1);
      expect(nodes[1]!.publicIps).toEqual([]);
      expect(nodes.every((n) => n.privateIps.length === 1 && n.sizeId && n.imageId && n.locationId)).toBe(true);
      const [balancer] = await lb.listBalancers();
      expect(balancer).toMatchObject({ id: 'lb-1', state: 'running', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN' });
      const members = await lb.listMembers('lb-1');
      expect(members.map((m) => [m.nodeId, m.ip])).toEqual([
        ['node-1', nodes[0]!.privateIps[0]],
        ['node-2', nodes[1]!.privateIps[0]],
      ]);
      expect((await compute.listVolumes!()).find((v) => v.id === 'vol-1')).toMatchObject({
        state: 'inuse',
        extra: { nodeId: 'node-1', device: '/dev/vdb' },
      });
    });

    it('seeds `nodes` nodes with stable ids and unique addresses', async () => {
      const a = await sandbox({ nodes: 50 }, true).compute.listNodes();
      const b = await sandbox({ nodes: 50 }, true).compute.listNodes();
      expect(a).toHaveLength(50);
      expect(a.map((n) => n.id)).toEqual(Array.from({ length: 50 }, (_, i) => `node-${i + 1}`));
      expect(b).toEqual(a);
      const ips = a.flatMap((n) => [...n.publicIps, ...n.privateIps]);
      expect(new Set(ips).size).toBe(ips.length);
    });

    it('starts empty with seed: false, catalog kept', async () => {
      const { compute, lb } = sandbox({ seed: false });
      expect(await compute.listNodes()).toEqual([]);
      expect(await compute.listVolumes!()).toEqual([]);
      expect(await compute.listKeyPairs!()).toEqual([]);
      expect(await lb.listBalancers()).toEqual([]);
      expect((await compute.listSizes()).length).toBe(6);
      const node = await compute.createNode({ name: 'first', sizeId: 'sb-micro', imageId: 'img-debian-12' });
      expect(node.id).toBe('node-1');
    });
  });

  describe('latencyMs', () => {
    it('delays every call by latencyMs without serialising concurrent calls', async () => {
      const { compute, lb } = sandbox({ latencyMs: 200 });
      let started = performance.now();
      await compute.listSizes();
      expect(performance.now() - started).toBeGreaterThanOrEqual(195);
      started = performance.now();
      await Promise.all([compute.listNodes(), compute.listImages(), lb.listBalancers(), lb.listProtocols(), compute.listLocations()]);
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(195);
      expect(elapsed).toBeLessThan(800);
    });

    it('delays failures too', async () => {
      const { compute } = sandbox({ latencyMs: 100, fail: 'TIMEOUT' });
      const started = performance.now();
      await expect(compute.listNodes()).rejects.toBeInstanceOf(TimeoutError);
      expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    });
  });

  describe('fail', () => {
    const cases: Array<[ErrorCode, abstract new (...args: never[]) => SkygraphError]> = [
      ['AUTHENTICATION_FAILED', AuthenticationError],
      ['NOT_FOUND', NotFoundError],
      ['RATE_LIMITED', RateLimitedError],
      ['PROVIDER_ERROR', ProviderError],
      ['TIMEOUT', TimeoutError],
      ['UNSUPPORTED', UnsupportedError],
      ['INVALID_INPUT', InvalidInputError],
      ['CONFLICT', ConflictError],
      ['MALFORMED_RESPONSE', MalformedResponseError],
      ['CONNECTION_FAILED', ConnectionFailedError],
      ['UNAVAILABLE', SkygraphError],
    ];

    it.each(cases)('fail: %s makes every call throw the typed error', async (code, type) => {
      const { ctx, compute, lb } = sandbox({ fail: code });
      for (const call of [() => compute.listNodes(), () => compute.createNode({ name: 'x', sizeId: 'sb-nano', imageId: 'img-debian-12' }), () => lb.listBalancers()]) {
        const err = await expectTypedError(call(), type);
        expect(err.code).toBe(code);
        expect(err.message).toBe(`[sandbox] simulated failure (fail: ${code})`);
        expect(err.provider).toBe('sandbox');
      }
      expect(Object.fromEntries(ctx.calls)).toEqual({ listNodes: 1, createNode: 1, listBalancers: 1 });
    });

    it('marks rate limits and unavailability retryable', async () => {
      const limited = await expectTypedError(sandbox({ fail: 'RATE_LIMITED' }).compute.listNodes(), RateLimitedError);
      expect(limited).toMatchObject({ retryable: true, retryAfterMs: 1000, status: 429 });
      const unavailable = await expectTypedError(sandbox({ fail: 'UNAVAILABLE' }).compute.listNodes(), SkygraphError);
      expect(unavailable).toMatchObject({ code: 'UNAVAILABLE', retryable: true, status: 503 });
    });
  });

  describe('transitions on the injected clock', () => {
    const stateOf = async (compute: ComputeDriver, id: string) => (await compute.getNodes!([id]))[0]?.state ?? null;

    it('walks a node through pending, reboot, stop, start and terminate', async () => {
      const { ctx, compute } = sandbox({}, true);
      const node = await compute.createNode({ name: 'clocked', sizeId: 'sb-small', imageId: 'img-ubuntu-2404' });
      expect(node.state).toBe('pending');
      expect(node.createdAt).toEqual(new Date(T0));
      ctx.clock.advance(1499);
      expect(await stateOf(compute, node.id)).toBe('pending');
      ctx.clock.advance(1);
      expect(await stateOf(compute, node.id)).toBe('running');

      await compute.rebootNode!(node.id);
      expect(await stateOf(compute, node.id)).toBe('rebooting');
      ctx.clock.advance(1500);
      expect(await stateOf(compute, node.id)).toBe('running');

      await compute.stopNode!(node.id);
      expect(await stateOf(compute, node.id)).toBe('stopping');
      ctx.clock.advance(1500);
      expect(await stateOf(compute, node.id)).toBe('stopped');
      await compute.stopNode!(node.id);
      const conflict = await expectTypedError(compute.rebootNode!(node.id), ConflictError);
      expect(conflict.message).toBe('[sandbox] node "node-5" is stopped; rebootNode needs running');

      await compute.startNode!(node.id);
      expect(await stateOf(compute, node.id)).toBe('starting');
      ctx.clock.advance(1500);
      expect(await stateOf(compute, node.id)).toBe('running');

      await compute.destroyNode(node.id);
      expect(await stateOf(compute, node.id)).toBe('terminated');
      expect((await compute.listNodes()).map((n) => n.id)).toContain(node.id);
      ctx.clock.advance(1500);
      expect((await compute.listNodes()).map((n) => n.id)).not.toContain(node.id);
      expect(await compute.getNodes!([node.id])).toEqual([null]);
      await expectTypedError(compute.destroyNode(node.id), NotFoundError);
      await expectTypedError(compute.startNode!(node.id), NotFoundError);
    });

    it('honours transitionMs, including 0', async () => {
      const slow = sandbox({ transitionMs: 10_000 }, true);
      const node = await slow.compute.createNode({ name: 'slow', sizeId: 'sb-small', imageId: 'img-ubuntu-2404' });
      slow.ctx.clock.advance(9_999);
      expect(await stateOf(slow.compute, node.id)).toBe('pending');
      slow.ctx.clock.advance(1);
      expect(await stateOf(slow.compute, node.id)).toBe('running');
      expect(await stateOf(slow.compute, 'node-4')).toBe('running');

      const instant = sandbox({ transitionMs: 0 }, true);
      expect((await instant.compute.createNode({ name: 'now', sizeId: 'sb-small', imageId: 'img-ubuntu-2404' })).state).toBe('running');
    });

    it('schedules no timers for transitions', async () => {
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      const { compute, lb } = sandbox();
      const node = await compute.createNode({ name: 't', sizeId: 'sb-small', imageId: 'img-ubuntu-2404' });
      await lb.createBalancer({ name: 't', port: 80, protocol: 'tcp', algorithm: 'RANDOM', members: [] });
      await compute.destroyNode(node.id);
      expect(timers()).toBe(before);
    });
  });

  it('records exactly one call per driver method, failed calls included', async () => {
    const { ctx, compute, lb } = sandbox({}, true);
    const calls: Array<[string, (c: ComputeDriver, l: LoadBalancerDriver) => Promise<unknown>]> = [
      ['listNodes', (c) => c.listNodes()],
      ['getNodes', (c) => c.getNodes!(['node-1', 'node-2', 'nope'])],
      ['listImages', (c) => c.listImages()],
      ['getImages', (c) => c.getImages!(['img-debian-12', 'img-rocky-9'])],
      ['listSizes', (c) => c.listSizes()],
      ['listLocations', (c) => c.listLocations()],
      ['createNode', (c) => c.createNode({ name: 'n', sizeId: 'sb-small', imageId: 'img-debian-12' })],
      ['rebootNode', (c) => c.rebootNode!('node-1')],
      ['stopNode', (c) => c.stopNode!('node-2')],
      ['startNode', (c) => c.startNode!('node-3')],
      ['destroyNode', (c) => c.destroyNode('no-such-node')],
      ['listVolumes', (c) => c.listVolumes!()],
      ['listKeyPairs', (c) => c.listKeyPairs!()],
      ['getKeyPair', (c) => c.getKeyPair!('sandbox-default')],
      ['listProtocols', (_, l) => l.listProtocols()],
      ['listBalancers', (_, l) => l.listBalancers()],
      ['getBalancer', (_, l) => l.getBalancer('lb-1')],
      ['listMembers', (_, l) => l.listMembers('lb-1')],
      ['attachMember', (_, l) => l.attachMember('lb-1', { ip: '10.9.9.9', port: 80 })],
      ['createBalancer', (_, l) => l.createBalancer({ name: 'x', port: 80, protocol: 'http', algorithm: 'WEIGHTED_LEAST_CONNECTIONS', members: [] })],
    ];
    for (const [operation, call] of calls) {
      ctx.resetCalls();
      await call(compute, lb).catch(() => undefined);
      expect(Object.fromEntries(ctx.calls), operation).toEqual({ [operation]: 1 });
    }
    ctx.resetCalls();
    lb.listAlgorithms();
    expect(ctx.totalCalls()).toBe(0);
  });

  describe('createNode', () => {
    const base = { name: 'web', sizeId: 'sb-small', imageId: 'img-debian-12' };

    it.each([
      [{ ...base, name: '' }, 'name'],
      [{ ...base, name: '   ' }, 'name'],
      [{ ...base, sizeId: 'sb-huge' }, 'sizeId'],
      [{ ...base, imageId: 'img-nope' }, 'imageId'],
      [{ ...base, locationId: 'mars-1' }, 'locationId'],
      [{ ...base, keyName: 'nobody' }, 'keyName'],
      [{ ...base, sshKey: 'not a key' }, 'sshKey'],
      [{ ...base, ex: { securityGroups: ['x'] } }, 'ex.securityGroups'],
      [{ ...base, ex: { tags: { a: 1 } } }, 'ex.tags.a'],
      [{ ...base, sizeId: 'sb-micro', imageId: 'img-windows-2022' }, 'sizeId'],
    ])('rejects bad input %# with InvalidInputError naming %s', async (input, field) => {
      const { compute } = sandbox();
      await expectTypedError(compute.createNode(input), InvalidInputError, field);
      expect(await compute.listNodes()).toHaveLength(4);
    });

    it('uses nodeAddress as the only public IP of new nodes', async () => {
      const { compute } = sandbox({ nodeAddress: '127.0.0.1' });
      const node = await compute.createNode({ ...base, locationId: 'sb-sgp1', ex: { tags: { env: 'test' } } });
      expect(node.publicIps).toEqual(['127.0.0.1']);
      expect(node).toMatchObject({ locationId: 'sb-sgp1', tags: { env: 'test' } });
      expect((await compute.getNodes!(['node-1']))[0]!.publicIps).not.toEqual(['127.0.0.1']);
    });

    it('is idempotent per clientToken', async () => {
      const { compute } = sandbox();
      const a = await compute.createNode({ ...base, clientToken: 'tok-1' });
      const b = await compute.createNode({ ...base, clientToken: 'tok-1' });
      const c = await compute.createNode({ ...base, clientToken: 'tok-2' });
      expect(b.id).toBe(a.id);
      expect(c.id).not.toBe(a.id);
      expect(await compute.listNodes()).toHaveLength(6);
    });

    it('keeps separate state per provider instance', async () => {
      const one = sandbox();
      const two = sandbox();
      await one.compute.createNode(base);
      expect(await one.compute.listNodes()).toHaveLength(5);
      expect(await two.compute.listNodes()).toHaveLength(4);
    });
  });

  describe('key pairs', () => {
    it('generates keys ssh2 reads, including ones whose public key starts with a zero byte', () => {
      let leadingZero = 0;
      // why: about 1 key in 256 starts with 0x00; 3 of them come within 50 000 tries for sure
      for (let i = 0; leadingZero < 3 && i < 50_000; i++) {
        const pair = generateEd25519(`k${i}`);
        const blob = Buffer.from(pair.publicKey.split(' ')[1]!, 'base64');
        const zero = blob[19] === 0;
        if (zero) leadingZero++;
        if (!zero && i >= 20) continue;
        const key = ssh2.utils.parseKey(pair.privateKey);
        if (key instanceof Error || Array.isArray(key)) throw new Error(`key ${i} does not parse`);
        expect(key.getPublicSSH().equals(blob)).toBe(true);
      }
      expect(leadingZero).toBe(3);
    });

    it('creates an ed25519 key that ssh2 can sign with, returning the private key once', async () => {
      const { compute } = sandbox();
      const created = await compute.createKeyPair!('deploy');
      const key = ssh2.utils.parseKey(created.privateKey!);
      if (key instanceof Error || Array.isArray(key)) throw new Error('unparseable private key');
      expect(key.type).toBe('ssh-ed25519');
      expect(`ssh-ed25519 ${key.getPublicSSH().toString('base64')}`).toBe(created.publicKey!.split(' ').slice(0, 2).join(' '));
      const signature = key.sign(Buffer.from('payload'));
      expect(key.verify(Buffer.from('payload'), signature)).toBe(true);
      expect(created.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);

      const listed = (await compute.listKeyPairs!()).find((k) => k.name === 'deploy')!;
      expect(listed.privateKey).toBeUndefined();
      expect(JSON.stringify(await compute.listKeyPairs!())).not.toContain('PRIVATE KEY');
      await expectTypedError(compute.createKeyPair!('deploy'), ConflictError);
      const node = await compute.createNode({ name: 'k', sizeId: 'sb-small', imageId: 'img-debian-12', keyName: 'deploy' });
      expect(node.extra['keyName']).toBe('deploy');
    });

    it('imports public keys only, and deletes them', async () => {
      const { compute } = sandbox();
      const pair = generateEd25519('me@host');
      const imported = await compute.importKeyPair!('mine', `${pair.publicKey}\n`);
      expect(imported).toMatchObject({ publicKey: pair.publicKey, fingerprint: pair.fingerprint });
      await expectTypedError(compute.importKeyPair!('priv', pair.privateKey), InvalidInputError, 'publicKey');
      await expectTypedError(compute.importKeyPair!('junk', 'ssh-rsa AAAAB3Nza'), InvalidInputError, 'publicKey');
      await compute.deleteKeyPair!('mine');
      await expectTypedError(compute.getKeyPair!('mine'), NotFoundError);
      await expectTypedError(compute.deleteKeyPair!('mine'), NotFoundError);
    });
  });

  describe('volumes', () => {
    it('creates, attaches, snapshots, detaches and destroys', async () => {
      const { ctx, compute } = sandbox({}, true);
      const volume = await compute.createVolume!({ size: 20, name: 'db', locationId: 'sb-fra1' });
      expect(volume.state).toBe('creating');
      await expectTypedError(compute.attachVolume!('node-1', volume.id), ConflictError);
      ctx.clock.advance(1500);
      await expectTypedError(compute.attachVolume!('node-2', volume.id), InvalidInputError, 'volumeId');
      await expectTypedError(compute.attachVolume!('node-1', volume.id, '/dev/vdb'), ConflictError);
      await compute.attachVolume!('node-1', volume.id);
      const attached = (await compute.listVolumes!()).find((v) => v.id === volume.id)!;
      expect(attached).toMatchObject({ state: 'inuse', extra: { nodeId: 'node-1', device: '/dev/vdc' } });
      expect((await compute.getNodes!(['node-1']))[0]!.extra['volumeIds']).toEqual(['vol-1', volume.id]);
      await expectTypedError(compute.destroyVolume!(volume.id), ConflictError);

      const snapshot = await compute.createVolumeSnapshot!(volume.id, 'before');
      expect(snapshot).toMatchObject({ size: 20, state: 'creating', extra: { volumeId: volume.id } });
      await expectTypedError(compute.createVolume!({ size: 10, name: 'small', snapshotId: snapshot.id }), InvalidInputError, 'size');
      await compute.detachVolume!(volume.id);
      await compute.destroyVolume!(volume.id);
      await expectTypedError(compute.listVolumeSnapshots!(volume.id), NotFoundError);
      await compute.destroyVolumeSnapshot!(snapshot.id);
      await expectTypedError(compute.destroyVolumeSnapshot!(snapshot.id), NotFoundError);
    });

    it('frees volumes when their node is destroyed', async () => {
      const { compute } = sandbox({}, true);
      await compute.destroyNode('node-1');
      expect((await compute.listVolumes!()).find((v) => v.id === 'vol-1')).toMatchObject({ state: 'available', extra: { nodeId: null } });
    });
  });

  describe('load balancer', () => {
    it('rejects WEIGHTED_LEAST_CONNECTIONS and names the supported algorithms', async () => {
      const { lb } = sandbox();
      expect(lb.listAlgorithms()).not.toContain('WEIGHTED_LEAST_CONNECTIONS');
      const err = await expectTypedError(
        lb.createBalancer({ name: 'w', port: 80, protocol: 'http', algorithm: 'WEIGHTED_LEAST_CONNECTIONS', members: [] }),
        InvalidInputError,
        'algorithm',
      );
      expect(err.message).toContain('supported: RANDOM, ROUND_ROBIN');
      await expectTypedError(lb.updateBalancer!('lb-1', { algorithm: 'WEIGHTED_LEAST_CONNECTIONS' }), InvalidInputError, 'algorithm');
    });

    it.each([
      [{ port: 0 }, 'port'],
      [{ protocol: 'smtp' }, 'protocol'],
      [{ name: '' }, 'name'],
      [{ members: [{ ip: 'not-an-ip', port: 80 }] }, 'members[0].ip'],
      [{ members: [{ ip: '10.0.0.1', port: 70000 }] }, 'members[0].port'],
    ])('rejects bad balancer input %o naming %s', async (patch, field) => {
      const { lb } = sandbox();
      const input = { name: 'b', port: 80, protocol: 'http', algorithm: 'RANDOM' as const, members: [], ...patch };
      await expectTypedError(lb.createBalancer(input), InvalidInputError, field);
    });

    it('attaches nodes by first public IP, else private, and shares state with compute', async () => {
      const { compute, lb } = sandbox({}, true);
      const [withPublic, privateOnly] = await compute.getNodes!(['node-1', 'node-2']);
      if (!withPublic || !privateOnly) throw new Error('seeded nodes missing');
      const a = await lb.attachNode!('lb-1', withPublic, 9000);
      expect(a).toMatchObject({ ip: withPublic.publicIps[0], port: 9000, nodeId: 'node-1' });
      const b = await lb.attachNode!('lb-1', privateOnly, 9000);
      expect(b).toMatchObject({ ip: privateOnly.privateIps[0], nodeId: 'node-2' });
      await expectTypedError(lb.attachNode!('lb-1', privateOnly, 9000), ConflictError);

      const fresh = await compute.createNode({ name: 'new', sizeId: 'sb-small', imageId: 'img-debian-12' });
      expect((await lb.attachMember('lb-1', { ip: '10.1.1.1', port: 80, nodeId: fresh.id })).nodeId).toBe(fresh.id);
      await expectTypedError(lb.attachMember('lb-1', { ip: '10.1.1.2', port: 80, nodeId: 'node-999' }), InvalidInputError, 'member.nodeId');
      await expectTypedError(lb.attachNode!('lb-1', { ...fresh, id: 'node-999' }, 80), NotFoundError);
      await expectTypedError(lb.detachMember('lb-1', 'member-999'), NotFoundError);
    });

    it('brings new balancers from pending to running', async () => {
      const { ctx, lb } = sandbox({}, true);
      const created = await lb.createBalancer({ name: 'p', port: 443, protocol: 'https', algorithm: 'SOURCE_IP', members: [] });
      expect(created.state).toBe('pending');
      ctx.clock.advance(1500);
      expect((await lb.getBalancer(created.id)).state).toBe('running');
    });
  });
});
