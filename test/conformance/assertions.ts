/**
 * Shared checks for the conformance suites: Libcloud TestCaseMixin-style shape assertions for
 * every model, typed-error expectations, capability declarations and polling.
 */
import { isIP } from 'node:net';
import { expect } from 'vitest';
import { SkygraphError } from '../../src/providers/errors.ts';
import {
  ALGORITHMS,
  BALANCER_STATES,
  NODE_STATES,
  type Container,
  type Image,
  type KeyPair,
  type LoadBalancer,
  type Location,
  type Member,
  type Node,
  type Size,
  type StorageObject,
  type Volume,
  type VolumeSnapshot,
} from '../../src/providers/types.ts';

/** Libcloud's StorageVolumeState values. */
export const VOLUME_STATES = [
  'available',
  'error',
  'inuse',
  'creating',
  'deleting',
  'deleted',
  'backup',
  'attaching',
  'unknown',
  'migrating',
  'updating',
] as const;

/** Libcloud's VolumeSnapshotState values. */
export const SNAPSHOT_STATES = ['available', 'error', 'creating', 'deleting', 'restoring', 'unknown', 'updating'] as const;

/** Keys of T that are optional (the capability-declaring methods of a driver interface). */
export type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

/** `true` when `Listed` names every optional method of `Driver` (`ex` aside), otherwise `never`: a `= true` of it fails to compile. */
export type ListsEveryOptionalMethod<Driver, Listed> = [Exclude<OptionalKeys<Driver>, 'ex' | Listed>] extends [never] ? true : never;

/** Waits until `condition` holds; rejects naming `description` when it never does. */
export type WaitFor = (condition: () => Promise<boolean>, description: string) => Promise<void>;

export function pollUntil(opts: { intervalMs?: number; timeoutMs?: number; tick?: () => void } = {}): WaitFor {
  const { intervalMs = 250, timeoutMs = 60_000, tick } = opts;
  return async (condition, description) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      tick?.();
      if (await condition()) return;
      if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  };
}

/** The optional methods the driver has, sorted, checked against what it declared. */
export function expectDeclaredCapabilities(driver: object, optional: readonly string[], declared: readonly string[]) {
  const present = optional.filter((m) => typeof (driver as Record<string, unknown>)[m] === 'function').sort();
  expect([...declared].sort(), 'capabilities must list exactly the optional methods the driver has').toEqual(present);
  for (const name of declared) expect(optional, `${name} is not an optional method`).toContain(name);
}

/** Asserts `promise` rejects with a typed error of `type`, optionally naming `field`. */
export async function expectTypedError<E extends SkygraphError>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
  field?: string,
): Promise<E> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected a ${type.name}`).toBeInstanceOf(type);
  const err = caught as E;
  expect(err.message).toMatch(/^\[[^\]]+\] \S/);
  if (field !== undefined) expect((err as unknown as { field?: string }).field).toBe(field);
  return err;
}

/** Builds the model checkers; each also asserts that no secret appears in what it checks. */
export function modelChecks(secrets: readonly string[] = []) {
  const noSecrets = (value: unknown) => {
    const json = JSON.stringify(value);
    for (const secret of secrets) expect(json.includes(secret), 'a credential leaked into a model').toBe(false);
  };
  const extra = (value: unknown) => {
    expect(isPlainObject(value), 'extra must be a plain object').toBe(true);
    expect(() => JSON.stringify(value), 'extra must be JSON-serialisable').not.toThrow();
  };
  const id = (value: unknown) => {
    expect(typeof value).toBe('string');
    expect((value as string).length).toBeGreaterThan(0);
  };
  const ips = (value: unknown) => {
    expect(Array.isArray(value)).toBe(true);
    for (const ip of value as unknown[]) expect(isIP(String(ip)), `${String(ip)} is not an IP address`).not.toBe(0);
  };
  const date = (value: unknown) => {
    if (value === null) return;
    expect(value).toBeInstanceOf(Date);
    expect(Number.isNaN((value as Date).getTime())).toBe(false);
  };
  const intOrNull = (value: unknown, min = 0) => {
    if (value === null) return;
    expect(Number.isInteger(value), `${String(value)} must be an integer or null`).toBe(true);
    expect(value as number).toBeGreaterThanOrEqual(min);
  };
  const stringOrNull = (value: unknown) => expect(value === null || typeof value === 'string').toBe(true);

  return {
    node(n: Node) {
      id(n.id);
      expect(typeof n.name).toBe('string');
      expect(NODE_STATES).toContain(n.state);
      ips(n.publicIps);
      ips(n.privateIps);
      stringOrNull(n.sizeId);
      stringOrNull(n.imageId);
      stringOrNull(n.locationId);
      date(n.createdAt);
      expect(n.tags !== null && typeof n.tags === 'object' && !Array.isArray(n.tags)).toBe(true);
      for (const [k, v] of Object.entries(n.tags)) expect([typeof k, typeof v]).toEqual(['string', 'string']);
      extra(n.extra);
      noSecrets(n);
    },
    image(i: Image) {
      id(i.id);
      expect(typeof i.name).toBe('string');
      extra(i.extra);
      noSecrets(i);
    },
    size(s: Size) {
      id(s.id);
      expect(typeof s.name).toBe('string');
      expect(Number.isInteger(s.ram), 'ram must be an integer (MiB)').toBe(true);
      expect(s.ram).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(s.disk), 'disk must be an integer (GB)').toBe(true);
      expect(s.disk).toBeGreaterThanOrEqual(0);
      intOrNull(s.bandwidth);
      if (s.price !== null) {
        expect(Number.isFinite(s.price), 'price must be a finite number or null').toBe(true);
        expect(s.price).toBeGreaterThanOrEqual(0);
      }
      extra(s.extra);
      noSecrets(s);
    },
    location(l: Location) {
      id(l.id);
      expect(typeof l.name).toBe('string');
      expect(l.country, 'country is ISO 3166 alpha-2 or empty').toMatch(/^(?:[A-Z]{2})?$/);
      extra(l.extra);
      noSecrets(l);
    },
    volume(v: Volume) {
      id(v.id);
      expect(typeof v.name).toBe('string');
      expect(Number.isInteger(v.size)).toBe(true);
      expect(VOLUME_STATES).toContain(v.state);
      extra(v.extra);
      noSecrets(v);
    },
    snapshot(s: VolumeSnapshot) {
      id(s.id);
      stringOrNull(s.name);
      expect(Number.isInteger(s.size)).toBe(true);
      expect(SNAPSHOT_STATES).toContain(s.state);
      date(s.createdAt);
      extra(s.extra);
      noSecrets(s);
    },
    keyPair(k: KeyPair, opts: { withPrivateKey: boolean }) {
      id(k.name);
      stringOrNull(k.fingerprint);
      stringOrNull(k.publicKey);
      if (opts.withPrivateKey) expect(k.privateKey, 'createKeyPair returns the private key').toMatch(/PRIVATE KEY/);
      else expect(k.privateKey, 'private keys are only returned by createKeyPair').toBeUndefined();
      extra(k.extra);
      noSecrets(k);
    },
    container(c: Container) {
      id(c.name);
      intOrNull(c.objectCount);
      intOrNull(c.bytes);
      extra(c.extra);
      noSecrets(c);
    },
    object(o: StorageObject) {
      id(o.container);
      id(o.name);
      expect(Number.isInteger(o.size)).toBe(true);
      expect(o.size).toBeGreaterThanOrEqual(0);
      if (o.hash !== null) expect(o.hash, 'hash is unquoted').toMatch(/^[^"]+$/);
      stringOrNull(o.contentType);
      date(o.lastModified);
      expect(isPlainObject(o.metadata)).toBe(true);
      for (const v of Object.values(o.metadata)) expect(typeof v).toBe('string');
      extra(o.extra);
      noSecrets(o);
    },
    balancer(b: LoadBalancer) {
      id(b.id);
      expect(typeof b.name).toBe('string');
      expect(BALANCER_STATES).toContain(b.state);
      if (b.ip !== null) expect(isIP(b.ip), `${b.ip} is not an IP address`).not.toBe(0);
      if (b.port !== null) expect(b.port >= 1 && b.port <= 65535 && Number.isInteger(b.port)).toBe(true);
      stringOrNull(b.protocol);
      if (b.algorithm !== null) expect(ALGORITHMS).toContain(b.algorithm);
      extra(b.extra);
      noSecrets(b);
    },
    member(m: Member) {
      id(m.id);
      if (m.ip !== null) expect(isIP(m.ip), `${m.ip} is not an IP address`).not.toBe(0);
      intOrNull(m.port, 1);
      stringOrNull(m.nodeId);
      extra(m.extra);
      noSecrets(m);
    },
    /** error messages must not carry credentials either */
    error(err: unknown) {
      noSecrets(err instanceof Error ? err.message : String(err));
    },
  };
}

/** A short unique name for resources a suite creates (valid as an S3 bucket name too). */
export function uniqueName(prefix = 'sgc'): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
