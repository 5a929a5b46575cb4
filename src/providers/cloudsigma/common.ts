/**
 * What the `cloudsigma` (API 1.0) and `cloudsigma2` (API 2.0) drivers share: account validation,
 * Basic credentials, the standard sizes (CloudSigma sells any cpu/mem/disk combination, so skygraph
 * defines a fixed menu), prices, locations, waiting and input checks.
 */
import { randomBytes } from 'node:crypto';
import { InvalidInputError, TimeoutError } from '../errors.ts';
import { basicSigner, type BasicCredentials } from '../http/signers/basic.ts';
import { createConnection, type Connection, type ConnectionOptions, type RetryOptions } from '../http/connection.ts';
import type { AccountConfig, CreateNodeInput, DriverContext, Image, ImageFilter, Location, Size } from '../types.ts';
import { sleep } from '../call-scope.ts';

/** Test seams and tuning, for both CloudSigma drivers. */
export interface CloudSigmaDeps {
  retry?: Partial<RetryOptions>;
  /** used by the connection's backoff and by the waits */
  sleep?: (ms: number) => Promise<void>;
  /** between polls while a drive clones or a server stops (default 2000) */
  pollIntervalMs?: number;
  /** the most one wait lasts (default 600000) */
  waitTimeoutMs?: number;
}

/** One CloudSigma location: a regional API endpoint. */
export interface CloudSigmaRegion {
  name: string;
  /** ISO 3166 alpha-2 */
  country: string;
  /** the API base URL of this location */
  endpoint: string;
}

/**
 * A size on skygraph's menu. `cpuMhz` is the total clock CloudSigma bills (`cpu`), split over
 * `smp` cores (at most 2200 MHz each, at least 1000, per the 2.0 capabilities).
 */
export interface StandardSize {
  id: string;
  name: string;
  cpuMhz: number;
  smp: number;
  ramMib: number;
  diskGb: number;
}

/** USD unit prices a size's hourly price is computed from. */
export interface UnitRates {
  cpuGhzHour: number;
  memGbHour: number;
  diskGbMonth: number;
}

export const STANDARD_SIZES: readonly StandardSize[] = [
  { id: 'micro', name: 'Micro (1 GHz, 1 GiB, 10 GB)', cpuMhz: 1000, smp: 1, ramMib: 1024, diskGb: 10 },
  { id: 'small', name: 'Small (2 GHz, 2 GiB, 20 GB)', cpuMhz: 2000, smp: 1, ramMib: 2048, diskGb: 20 },
  { id: 'medium', name: 'Medium (2 x 2 GHz, 4 GiB, 40 GB)', cpuMhz: 4000, smp: 2, ramMib: 4096, diskGb: 40 },
  { id: 'large', name: 'Large (4 x 2 GHz, 8 GiB, 80 GB)', cpuMhz: 8000, smp: 4, ramMib: 8192, diskGb: 80 },
  { id: 'xlarge', name: 'X-Large (8 x 2 GHz, 16 GiB, 160 GB)', cpuMhz: 16000, smp: 8, ramMib: 16384, diskGb: 160 },
];

const HOURS_PER_MONTH = 730;
const OPTION_KEYS = ['prices'];
const CREDENTIAL_KEYS = ['username', 'password'];

/** Hourly USD price of a standard size, rounded to 1/10000 of a dollar. */
export function sizePrice(size: StandardSize, rates: UnitRates): number {
  const perHour = (size.cpuMhz / 1000) * rates.cpuGhzHour + (size.ramMib / 1024) * rates.memGbHour + (size.diskGb * rates.diskGbMonth) / HOURS_PER_MONTH;
  return Math.round(perHour * 10_000) / 10_000;
}

/** The menu as Sizes; `prices` (options.prices) win over the computed ones. */
export function toSizes(rates: UnitRates | undefined, prices: Record<string, number> | undefined, extra: Record<string, unknown> = {}): Size[] {
  return STANDARD_SIZES.map((s) => ({
    id: s.id,
    name: s.name,
    ram: s.ramMib,
    disk: s.diskGb,
    bandwidth: null,
    price: prices?.[s.id] ?? (rates ? sizePrice(s, rates) : null),
    extra: { cpuMhz: s.cpuMhz, smp: s.smp, standard: true, ...extra },
  }));
}

/** The standard size a server's cpu (MHz), smp and memory (MiB) match; smp undefined matches any. */
export function matchSize(cpuMhz: number, smp: number | undefined, ramMib: number): string | null {
  const found = STANDARD_SIZES.find((s) => s.cpuMhz === cpuMhz && s.ramMib === ramMib && (smp === undefined || s.smp === smp));
  return found?.id ?? null;
}

export function standardSize(id: string, provider: string): StandardSize {
  const found = STANDARD_SIZES.find((s) => s.id === id);
  if (!found) throw new InvalidInputError(`sizeId must be one of ${STANDARD_SIZES.map((s) => s.id).join(', ')}`, { provider, field: 'sizeId' });
  return found;
}

/** The one location of this (account, region) instance. */
export function regionLocation(regions: Readonly<Record<string, CloudSigmaRegion>>, region: string | undefined): Location[] {
  if (!region) return [];
  const known = regions[region];
  return [{ id: region, name: known?.name ?? region, country: known?.country ?? '', extra: known ? { endpoint: known.endpoint } : {} }];
}

/** The API base URL: the account's endpoint, else the region's. */
export function baseUrl(ctx: DriverContext, regions: Readonly<Record<string, CloudSigmaRegion>>, provider: string): string {
  if (ctx.account.endpoint) return ctx.account.endpoint;
  const known = ctx.region ? regions[ctx.region] : undefined;
  if (!known) throw new InvalidInputError(`region must be one of ${Object.keys(regions).join(', ')} (or set endpoint)`, { provider, field: 'region' });
  return known.endpoint;
}

/** Read at signing time, so the connection never holds a copy of the password. */
export function basicCredentials(account: AccountConfig): () => BasicCredentials {
  return () => ({ username: account.credentials.username ?? '', password: account.credentials.password ?? '' });
}

/** The API's connection for one (account, location), opened on first use. */
export interface CloudSigmaConnection {
  open(): Connection;
  close(): Promise<void>;
}

/** HTTP Basic to the account's endpoint, else the region's. */
export function cloudSigmaConnection(
  ctx: DriverContext,
  deps: CloudSigmaDeps,
  opts: { provider: string; regions: Readonly<Record<string, CloudSigmaRegion>>; parseError?: ConnectionOptions['parseError'] },
): CloudSigmaConnection {
  let conn: Connection | undefined;
  return {
    open: () =>
      (conn ??= createConnection({
        provider: opts.provider,
        baseUrl: baseUrl(ctx, opts.regions, opts.provider),
        signer: basicSigner(basicCredentials(ctx.account)),
        recordCall: ctx.recordCall,
        now: ctx.now,
        retry: deps.retry,
        sleep: deps.sleep,
        ...(opts.parseError ? { parseError: opts.parseError } : {}),
        defaults: ctx.http,
      })),
    close: async () => {
      await conn?.close();
    },
  };
}

/** How both APIs' drivers wait (drives cloning, servers stopping). */
export interface CloudSigmaWaits {
  region: string | undefined;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  pollIntervalMs: number;
  waitTimeoutMs: number;
}

export function cloudSigmaWaits(ctx: DriverContext, deps: CloudSigmaDeps): CloudSigmaWaits {
  return { region: ctx.region, now: ctx.now, sleep: deps.sleep ?? defaultSleep, pollIntervalMs: deps.pollIntervalMs ?? 2000, waitTimeoutMs: deps.waitTimeoutMs ?? 600_000 };
}

/**
 * Problems with a CloudSigma account, naming fields, never values. Region names are checked
 * only without `endpoint` (a CloudSigma-compatible deployment may name its own).
 */
export function validateCloudSigmaAccount(account: AccountConfig, driver: string, regions: Readonly<Record<string, CloudSigmaRegion>>): string[] {
  const problems: string[] = [];
  for (const key of CREDENTIAL_KEYS) {
    if ((account.credentials[key] ?? '').trim() === '') problems.push(`credentials.${key} is required (the CloudSigma ${key === 'username' ? 'account e-mail' : 'account password'})`);
  }
  if ((account.credentials.username ?? '').includes(':')) problems.push('credentials.username must not contain ":" (HTTP Basic cannot carry it)');
  for (const key of Object.keys(account.credentials)) {
    if (!CREDENTIAL_KEYS.includes(key)) problems.push(`credentials.${key} is not a ${driver} credential (known: ${CREDENTIAL_KEYS.join(', ')})`);
  }
  if (account.endpoint !== undefined && !URL.canParse(account.endpoint)) problems.push('endpoint must be an absolute URL (the API base URL of one location)');
  if (account.endpoint === undefined) {
    account.regions.forEach((region, i) => {
      if (!Object.hasOwn(regions, region)) problems.push(`regions[${i}] is not a ${driver} location (known: ${Object.keys(regions).join(', ')})`);
    });
  }
  for (const [key, value] of Object.entries(account.options)) {
    if (!OPTION_KEYS.includes(key)) problems.push(`options.${key} is not a ${driver} option (known: ${OPTION_KEYS.join(', ')})`);
    else if (!isPriceTable(value)) problems.push(`options.prices must map size ids (${STANDARD_SIZES.map((s) => s.id).join(', ')}) to USD per hour`);
    else {
      for (const id of Object.keys(value)) if (!STANDARD_SIZES.some((s) => s.id === id)) problems.push(`options.prices.${id} is not a size id`);
    }
  }
  return problems;
}

export function priceTable(account: AccountConfig): Record<string, number> | undefined {
  return isPriceTable(account.options.prices) ? account.options.prices : undefined;
}

/** A VNC password for a new server: required by both APIs, never returned by skygraph. */
export function newVncPassword(): string {
  return randomBytes(12).toString('base64url');
}

/** Name, size and image checks shared by both createNode implementations. */
export function checkCreateInput(input: CreateNodeInput, provider: string, region: string | undefined): { name: string; size: StandardSize; imageId: string } {
  const need = (v: unknown, field: string) => {
    if (typeof v !== 'string' || v.trim() === '') throw new InvalidInputError(`${field} is required`, { provider, field });
    return v;
  };
  const name = need(input.name, 'name');
  if (name.length > 200 || /[\r\n\0]/.test(name)) throw new InvalidInputError('name must be one line of at most 200 characters', { provider, field: 'name' });
  const size = standardSize(need(input.sizeId, 'sizeId'), provider);
  const imageId = need(input.imageId, 'imageId');
  if (input.locationId !== undefined && input.locationId !== region) {
    throw new InvalidInputError(`locationId must be this account's region (${region ?? 'none'}): one CloudSigma location is one API endpoint`, { provider, field: 'locationId' });
  }
  return { name, size, imageId };
}

/** The library images a listImages filter keeps: by ids and name (they have no owner). */
export function filterImages(images: Image[], filter: ImageFilter | undefined): Image[] {
  return images.filter((i) => (filter?.ids === undefined || filter.ids.includes(i.id)) && (filter?.name === undefined || i.name === filter.name));
}

/** Polls `check` until it returns a value, sleeping between polls; TimeoutError after the deadline. */
export async function pollFor<T>(
  check: () => Promise<T | undefined>,
  what: string,
  opts: { provider: string; now: () => Date; sleep: (ms: number) => Promise<void>; pollIntervalMs: number; waitTimeoutMs: number },
): Promise<T> {
  const deadline = opts.now().getTime() + opts.waitTimeoutMs;
  for (;;) {
    const done = await check();
    if (done !== undefined) return done;
    if (opts.now().getTime() >= deadline) throw new TimeoutError(`gave up waiting for ${what} after ${opts.waitTimeoutMs} ms`, { provider: opts.provider });
    await opts.sleep(opts.pollIntervalMs);
  }
}

/** A real wait that ends with the call's deadline (src/providers/call-scope.ts). */
export function defaultSleep(ms: number): Promise<void> {
  return sleep(ms);
}

// --- Internal helpers ---

function isPriceTable(v: unknown): v is Record<string, number> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((p) => typeof p === 'number' && Number.isFinite(p) && p >= 0);
}
