/**
 * Loading and validating skygraph's config: a YAML or JSON file listing accounts, with
 * ${ENV_VAR} interpolation. Every problem names the file, the account and the field; no value
 * from `credentials` is ever echoed.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { AccountConfig, ProviderDefinition } from '../providers/types.ts';
import { loadProvider, providerNames } from '../providers/registry.ts';
import { validateServer, type ServerConfig } from './server.ts';

export type { ServerConfig, TokenConfig, Scope, LimitsConfig, EndpointAccess } from './server.ts';
export { DEFAULT_UPLOAD_MAX_BYTES } from './server.ts';

/** A private key for SSH deployments, named by `keyRef`; loaded at start, never returned. */
export interface SshKeyConfig {
  privateKey: string;
  passphrase?: string | undefined;
}

export interface SkygraphConfig {
  /** where the config came from, for messages; '<embedded default>' without a file */
  source: string;
  accounts: AccountConfig[];
  /** `redis://host:port` to share events and poll leases between replicas */
  pubsub?: string | undefined;
  server: ServerConfig;
  /** SSH keys for deployNode, by name (`sshKeys: { deploy: { privateKeyFile: ~/.ssh/id_ed25519 } }`) */
  sshKeys: Record<string, SshKeyConfig>;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`invalid config ${source}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export const DEFAULT_POLL_INTERVAL_MS = 5000;
export const MIN_POLL_INTERVAL_MS = 250;
export const DEFAULT_ACCOUNT_TIMEOUT_MS = 30_000;
export const DEFAULT_CACHE_TTL_MS = 5000;
/** an account's upstream requests open at once, over all its regions and services (one undici pool's worth) */
export const DEFAULT_MAX_CONCURRENCY = 16;
export const MAX_MAX_CONCURRENCY = 1024;

/** The accounts used when no config file exists: an in-memory cloud and a folder of buckets. */
export function embeddedDefault(): Record<string, unknown> {
  return {
    accounts: [
      { id: 'sandbox', driver: 'sandbox', options: { latencyMs: 0 } },
      { id: 'local', driver: 'local' },
    ],
  };
}

/**
 * Finds the config file: an explicit path, else SKYGRAPH_CONFIG, else ./skygraph.yaml (or .yml,
 * .json). Returns undefined when none exists and none was asked for.
 */
export function findConfigFile(explicit: string | undefined, env = process.env, cwd = process.cwd()): string | undefined {
  const asked = explicit ?? env.SKYGRAPH_CONFIG;
  if (asked) {
    const file = path.resolve(cwd, asked);
    if (!existsSync(file)) throw new ConfigError(file, ['file not found']);
    return file;
  }
  for (const name of ['skygraph.yaml', 'skygraph.yml', 'skygraph.json']) {
    const file = path.join(cwd, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Reads, interpolates and validates a config file (or the embedded default). */
export async function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<SkygraphConfig> {
  if (!file) return validateConfig(embeddedDefault(), '<embedded default>', env);
  let raw: unknown;
  const text = readFileSync(file, 'utf8');
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    // why: YAML/JSON parser messages quote the offending line, which may hold a secret
    const where = err instanceof Error && 'linePos' in err ? describeLinePos(err) : '';
    throw new ConfigError(file, [`not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}${where}`]);
  }
  return validateConfig(raw, file, env);
}

function describeLinePos(err: Error): string {
  const pos = (err as Error & { linePos?: { line: number; col: number }[] }).linePos?.[0];
  return pos ? ` (line ${pos.line}, column ${pos.col})` : '';
}

/** Validates an already parsed config object. Exported for tests and for embedding skygraph. */
export async function validateConfig(
  raw: unknown,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SkygraphConfig> {
  const problems: string[] = [];
  if (!isObject(raw)) throw new ConfigError(source, ['top level must be a mapping with an `accounts` list']);
  const interpolated = interpolate(raw, env, '', problems) as Record<string, unknown>;
  const known = new Set(['accounts', 'pubsub', 'server', 'sshKeys']);
  for (const key of Object.keys(interpolated)) {
    if (!known.has(key)) problems.push(`unknown top-level field "${key}" (expected: ${[...known].join(', ')})`);
  }

  const accounts: AccountConfig[] = [];
  const list = interpolated.accounts;
  if (!Array.isArray(list) || list.length === 0) {
    problems.push('field "accounts" must be a non-empty list');
  } else {
    const seen = new Set<string>();
    for (const [i, entry] of list.entries()) {
      const account = await validateAccount(entry, i, problems);
      if (!account) continue;
      if (seen.has(account.id)) problems.push(`accounts[${i}] (id "${account.id}"): duplicate account id`);
      seen.add(account.id);
      accounts.push(account);
    }
  }

  let pubsub: string | undefined;
  if (interpolated.pubsub !== undefined) {
    if (typeof interpolated.pubsub !== 'string' || !/^rediss?:\/\/[^/\s]+/.test(interpolated.pubsub)) {
      problems.push('field "pubsub" must be a redis:// URL');
    } else pubsub = interpolated.pubsub;
  }

  const server = validateServer(interpolated.server, problems);
  const sshKeys = validateSshKeys(interpolated.sshKeys, source, problems);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return { source, accounts, pubsub, server, sshKeys };
}

const ACCOUNT_FIELDS = new Set([
  'id', 'driver', 'region', 'regions', 'credentials', 'endpoint', 'options', 'pollIntervalMs', 'timeoutMs', 'cacheTtlMs', 'maxConcurrency', 'profile', 'cloud',
]);

async function validateAccount(entry: unknown, i: number, problems: string[]): Promise<AccountConfig | undefined> {
  if (!isObject(entry)) {
    problems.push(`accounts[${i}]: must be a mapping`);
    return undefined;
  }
  const id = entry.id;
  const label = typeof id === 'string' && id ? `accounts[${i}] (id "${id}")` : `accounts[${i}]`;
  const bad = (field: string, msg: string) => problems.push(`${label}: field "${field}" ${msg}`);
  const before = problems.length;

  if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(id)) {
    bad('id', 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  for (const key of Object.keys(entry)) if (!ACCOUNT_FIELDS.has(key)) bad(key, 'is not a known account field');

  let definition: ProviderDefinition | undefined;
  if (typeof entry.driver !== 'string') bad('driver', `is required (one of: ${providerNames().join(', ')})`);
  else {
    definition = await loadProvider(entry.driver);
    if (!definition) bad('driver', `"${entry.driver}" is not a known driver (one of: ${providerNames().join(', ')})`);
  }

  let regions: string[] = [];
  if (entry.region !== undefined && entry.regions !== undefined) bad('regions', 'and "region" are both set; use one');
  if (entry.region !== undefined) {
    if (typeof entry.region !== 'string' || !entry.region) bad('region', 'must be a non-empty string');
    else regions = [entry.region];
  } else if (entry.regions !== undefined) {
    if (!Array.isArray(entry.regions) || entry.regions.length === 0 || !entry.regions.every((r) => typeof r === 'string' && r)) {
      bad('regions', 'must be a non-empty list of region names');
    } else regions = [...new Set(entry.regions as string[])];
  }
  if (definition) {
    if (!definition.regional && regions.length > 0) bad('regions', `is not used by driver "${definition.name}", which has no regions`);
    if (definition.regional && regions.length === 0) {
      if (definition.defaultRegion) regions = [definition.defaultRegion];
      else bad('regions', `is required by driver "${definition.name}"`);
    }
  }

  const credentials: Record<string, string> = {};
  if (entry.credentials !== undefined) {
    if (!isObject(entry.credentials)) bad('credentials', 'must be a mapping of names to strings');
    else {
      for (const [k, v] of Object.entries(entry.credentials)) {
        if (typeof v === 'string') credentials[k] = v;
        else if (typeof v === 'number') credentials[k] = String(v);
        else bad(`credentials.${k}`, 'must be a string');
      }
    }
  }

  let endpoint: string | undefined;
  if (entry.endpoint !== undefined) {
    endpoint = typeof entry.endpoint === 'string' ? entry.endpoint : undefined;
    const problem = endpoint === undefined ? 'must be a URL' : checkEndpoint(endpoint);
    if (problem) bad('endpoint', problem);
  }

  const options: Record<string, unknown> = {};
  if (entry.options !== undefined) {
    if (!isObject(entry.options)) bad('options', 'must be a mapping');
    else Object.assign(options, entry.options);
  }
  if (entry.profile !== undefined) options.profile = entry.profile;
  if (entry.cloud !== undefined) options.cloud = entry.cloud;

  const pollIntervalMs = intField(entry.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS);
  if (pollIntervalMs === undefined || pollIntervalMs < MIN_POLL_INTERVAL_MS) {
    bad('pollIntervalMs', `must be an integer of at least ${MIN_POLL_INTERVAL_MS}`);
  }
  const timeoutMs = intField(entry.timeoutMs, DEFAULT_ACCOUNT_TIMEOUT_MS);
  if (timeoutMs === undefined || timeoutMs < 1) bad('timeoutMs', 'must be a positive integer (milliseconds)');
  const cacheTtlMs = intField(entry.cacheTtlMs, DEFAULT_CACHE_TTL_MS);
  if (cacheTtlMs === undefined || cacheTtlMs < 0) bad('cacheTtlMs', 'must be an integer of at least 0 (milliseconds; 0 turns the cache off)');
  const maxConcurrency = intField(entry.maxConcurrency, DEFAULT_MAX_CONCURRENCY);
  if (maxConcurrency === undefined || maxConcurrency < 1 || maxConcurrency > MAX_MAX_CONCURRENCY) {
    bad('maxConcurrency', `must be an integer from 1 to ${MAX_MAX_CONCURRENCY} (upstream requests open at once)`);
  }

  if (problems.length > before || !definition) return undefined;
  const account: AccountConfig = {
    id: id as string,
    driver: definition.name,
    regions,
    credentials,
    endpoint,
    options,
    pollIntervalMs: pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    timeoutMs: timeoutMs ?? DEFAULT_ACCOUNT_TIMEOUT_MS,
    cacheTtlMs: cacheTtlMs ?? DEFAULT_CACHE_TTL_MS,
    maxConcurrency: maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
  };
  for (const p of definition.validate?.(account) ?? []) problems.push(`${label}: ${p}`);
  return account;
}

/** http is allowed only for local endpoints: credentials must not cross a network in clear text. */
function checkEndpoint(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL (https://host[:port][/path])';
  }
  if (url.username || url.password) return 'must not carry credentials; use "credentials"';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return 'must use https (or http for a local endpoint)';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const local = host === 'localhost' || host === '::1' || host.startsWith('127.') || host.endsWith('.localhost');
  return local ? undefined : 'uses http for a non-local host; use https';
}

function validateSshKeys(raw: unknown, source: string, problems: string[]): Record<string, SshKeyConfig> {
  const keys: Record<string, SshKeyConfig> = {};
  if (raw === undefined) return keys;
  if (!isObject(raw)) {
    problems.push('field "sshKeys" must be a mapping of key names to { privateKey | privateKeyFile, passphrase }');
    return keys;
  }
  for (const [name, entry] of Object.entries(raw)) {
    const at = `field "sshKeys.${name}"`;
    if (!isObject(entry)) {
      problems.push(`${at} must be a mapping with privateKey or privateKeyFile`);
      continue;
    }
    let privateKey: string | undefined;
    if (typeof entry.privateKey === 'string' && entry.privateKey) privateKey = entry.privateKey;
    else if (typeof entry.privateKeyFile === 'string' && entry.privateKeyFile) {
      const base = source.startsWith('<') ? process.cwd() : path.dirname(source);
      const file = path.resolve(base, entry.privateKeyFile.replace(/^~(?=\/)/, process.env.HOME ?? '~'));
      try {
        privateKey = readFileSync(file, 'utf8');
      } catch {
        problems.push(`${at}.privateKeyFile: cannot read ${file}`);
        continue;
      }
    }
    if (!privateKey) {
      problems.push(`${at} needs privateKey or privateKeyFile`);
      continue;
    }
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) {
      problems.push(`${at} is not a PEM or OpenSSH private key`);
      continue;
    }
    keys[name] = { privateKey, passphrase: typeof entry.passphrase === 'string' ? entry.passphrase : undefined };
  }
  return keys;
}

/** Replaces ${NAME} in every string; `$${` escapes. Missing variables are problems naming the path. */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, at: string, problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (whole, escape, name: string, fallback?: string) => {
      if (escape) return whole.slice(1);
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      problems.push(`${at || 'value'}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, `${at}[${i}]`, problems));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, at ? `${at}.${k}` : k, problems);
    return out;
  }
  return value;
}

function intField(v: unknown, fallback: number): number | undefined {
  if (v === undefined) return fallback;
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
