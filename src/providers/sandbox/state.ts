/**
 * In-memory state of one sandbox account, shared by its compute and load-balancer drivers.
 *
 * Transitional states (pending, rebooting, stopping, ...) are stored with a deadline and read
 * lazily against the injected clock, so no timer keeps the event loop alive and tests can move
 * time forward instead of sleeping.
 */
import { sleep } from '../call-scope.ts';
import { InvalidInputError, NotFoundError } from '../errors.ts';
import type {
  SnapshotState,
  VolumeState,
  Algorithm,
  BalancerState,
  DnsRecord,
  DriverContext,
  Image,
  Location,
  Member,
  NodeState,
  Size,
  ZoneType,
} from '../types.ts';
import { DRIVER_NAME, simulatedFailure, type SandboxOptions } from './options.ts';

/** A state that may be on its way to another one at a known instant. */
export interface Lifecycle<S extends string> {
  state: S;
  next?: { state: S; at: number } | undefined;
}

export interface NodeRecord {
  id: string;
  name: string;
  sizeId: string;
  imageId: string;
  locationId: string;
  publicIps: string[];
  privateIps: string[];
  createdAt: Date;
  keyName: string | null;
  tags: Record<string, string>;
  life: Lifecycle<NodeState>;
  /** set once terminated: the node disappears from every listing at this instant */
  removeAt?: number | undefined;
}

export interface VolumeRecord {
  id: string;
  name: string;
  size: number;
  locationId: string;
  createdAt: Date;
  snapshotId: string | null;
  life: Lifecycle<VolumeState>;
  nodeId: string | null;
  device: string | null;
}

export interface SnapshotRecord {
  id: string;
  volumeId: string;
  name: string | null;
  size: number;
  createdAt: Date;
  life: Lifecycle<SnapshotState>;
}

export interface KeyPairRecord {
  name: string;
  fingerprint: string;
  publicKey: string;
  createdAt: Date;
}

export interface BalancerRecord {
  id: string;
  name: string;
  port: number;
  protocol: string;
  algorithm: Algorithm;
  ip: string;
  createdAt: Date;
  life: Lifecycle<BalancerState>;
  members: Member[];
}

export interface ZoneRecord {
  id: string;
  domain: string;
  type: ZoneType;
  ttl: number;
  email: string;
  masters: string[];
  /** the SOA serial, raised on every change */
  serial: number;
  createdAt: Date;
  /** by record id, in creation order */
  records: Map<string, DnsRecord>;
}

export interface SandboxState {
  options: SandboxOptions;
  images: Map<string, Image>;
  sizes: Map<string, Size>;
  locations: Map<string, Location>;
  nodes: Map<string, NodeRecord>;
  volumes: Map<string, VolumeRecord>;
  snapshots: Map<string, SnapshotRecord>;
  keyPairs: Map<string, KeyPairRecord>;
  balancers: Map<string, BalancerRecord>;
  zones: Map<string, ZoneRecord>;
  /** createNode clientToken -> node id, for idempotent retries */
  clientTokens: Map<string, string>;
  counters: Record<'node' | 'volume' | 'snapshot' | 'image' | 'balancer' | 'member' | 'address' | 'zone' | 'record', number>;
}

/** What the drivers share: the state, the clock, and the per-call wrapper. */
export interface SandboxRuntime {
  state: SandboxState;
  /** ms since epoch, from ctx.now() */
  now(): number;
  /** counts the call, waits `latencyMs`, applies `fail`, then runs `fn` */
  call<T>(operation: string, fn: () => T | Promise<T>): Promise<T>;
}

export function createRuntime(ctx: DriverContext, state: SandboxState): SandboxRuntime {
  const { latencyMs, fail } = state.options;
  return {
    state,
    now: () => ctx.now().getTime(),
    async call(operation, fn) {
      ctx.recordCall(operation);
      // why: the call's deadline ends the simulated latency too (src/providers/call-scope.ts)
      if (latencyMs > 0) await sleep(latencyMs);
      if (fail) throw simulatedFailure(fail);
      return fn();
    },
  };
}

export function emptyState(options: SandboxOptions): SandboxState {
  return {
    options,
    images: new Map(),
    sizes: new Map(),
    locations: new Map(),
    nodes: new Map(),
    volumes: new Map(),
    snapshots: new Map(),
    keyPairs: new Map(),
    balancers: new Map(),
    zones: new Map(),
    clientTokens: new Map(),
    counters: { node: 0, volume: 0, snapshot: 0, image: 0, balancer: 0, member: 0, address: 0, zone: 0, record: 0 },
  };
}

export function nextId(state: SandboxState, kind: keyof SandboxState['counters'], prefix: string): string {
  state.counters[kind] += 1;
  return `${prefix}-${state.counters[kind]}`;
}

/** The state at `now`, following a transition whose deadline has passed. */
export function currentState<S extends string>(life: Lifecycle<S>, now: number): S {
  return life.next && now >= life.next.at ? life.next.state : life.state;
}

/** Enters `via` now and `to` after transitionMs (at once when transitionMs is 0). */
export function transition<S extends string>(life: Lifecycle<S>, now: number, via: S, to: S, ms: number): void {
  life.state = via;
  life.next = { state: to, at: now + ms };
}

/** Sets a settled state, dropping any pending transition. */
export function settle<S extends string>(life: Lifecycle<S>, state: S): void {
  life.state = state;
  life.next = undefined;
}

/** A node still visible at `now`; terminated nodes vanish after transitionMs. */
export function isVisible(node: NodeRecord, now: number): boolean {
  return node.removeAt === undefined || now < node.removeAt;
}

export function findNode(rt: SandboxRuntime, id: string): NodeRecord {
  const node = rt.state.nodes.get(id);
  if (!node || !isVisible(node, rt.now())) throw notFound('node', id);
  return node;
}

export function notFound(kind: string, id: string): NotFoundError {
  return new NotFoundError(`${kind} ${JSON.stringify(id)} not found`, { provider: DRIVER_NAME, status: 404 });
}

/** A fresh public address from 203.0.113.0/24 onwards (documentation ranges). */
export function allocateAddress(state: SandboxState): string {
  const n = state.counters.address++;
  return `203.0.${113 + Math.floor(n / 254)}.${(n % 254) + 1}`;
}

export function privateAddress(index: number): string {
  return `10.0.${Math.floor(index / 254)}.${(index % 254) + 1}`;
}

const MAX_NAME = 255;

export function requireName(name: unknown, field: string): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '') throw invalid(`${field} must not be empty`, field);
  if (name.length > MAX_NAME) throw invalid(`${field} must be at most ${MAX_NAME} characters`, field);
}

export function invalid(message: string, field: string): InvalidInputError {
  return new InvalidInputError(message, { provider: DRIVER_NAME, field, status: 400 });
}
