/**
 * clouds.yaml lookup as the OpenStack client (openstacksdk) does it: the first existing file of
 * $OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml
 * (.yml and .json too), with the first secure.yaml of the same places ($OS_CLIENT_SECURE_FILE
 * first) merged over it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { InvalidInputError } from '../../errors.ts';

/** One cloud of clouds.yaml, as far as skygraph uses it. */
export interface CloudConfig {
  /** the `auth` block, string values only */
  auth: Record<string, string>;
  regionName: string | undefined;
  interface: string | undefined;
  /** the file it came from (for messages; never holds a secret) */
  file: string;
}

export interface CloudsLookup {
  env: NodeJS.ProcessEnv;
  cwd: string;
  home: string;
}

const EXTENSIONS = ['yaml', 'yml', 'json'];

/** The named cloud, or InvalidInputError (field `options.cloud`) naming what was searched. */
export async function loadCloudConfig(name: string, lookup: CloudsLookup, provider: string): Promise<CloudConfig> {
  const dirs = [lookup.cwd, join(lookup.home, '.config', 'openstack'), '/etc/openstack'];
  const candidates = (base: string, override: string | undefined) => [
    ...(override ? [override] : []),
    ...dirs.flatMap((d) => EXTENSIONS.map((ext) => join(d, `${base}.${ext}`))),
  ];
  const clouds = await firstReadable(candidates('clouds', lookup.env.OS_CLIENT_CONFIG_FILE), provider);
  if (!clouds) {
    throw new InvalidInputError(`options.cloud names ${JSON.stringify(name)} but no clouds.yaml was found`, { provider, field: 'options.cloud' });
  }
  const secure = await firstReadable(candidates('secure', lookup.env.OS_CLIENT_SECURE_FILE), provider);
  const base = cloudEntry(clouds.data, name);
  if (!base) {
    throw new InvalidInputError(`options.cloud: ${clouds.file} has no cloud ${JSON.stringify(name)}`, { provider, field: 'options.cloud' });
  }
  const merged = deepMerge(base, (secure && cloudEntry(secure.data, name)) ?? {});
  const auth: Record<string, string> = {};
  const rawAuth = merged.auth;
  if (rawAuth && typeof rawAuth === 'object') {
    for (const [k, v] of Object.entries(rawAuth as Record<string, unknown>)) {
      if (typeof v === 'string' || typeof v === 'number') auth[k] = String(v);
    }
  }
  return {
    auth,
    regionName: typeof merged.region_name === 'string' ? merged.region_name : undefined,
    interface: typeof merged.interface === 'string' ? merged.interface : undefined,
    file: clouds.file,
  };
}

// --- Internal helpers ---

async function firstReadable(files: string[], provider: string): Promise<{ file: string; data: unknown } | undefined> {
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    try {
      return { file, data: parse(text) as unknown };
    } catch {
      // why: the YAML parser's message quotes the offending line, which may hold a password
      throw new InvalidInputError(`${file} is not valid YAML`, { provider, field: 'options.cloud' });
    }
  }
  return undefined;
}

function cloudEntry(data: unknown, name: string): Record<string, unknown> | undefined {
  const clouds = isObject(data) ? data.clouds : undefined;
  const entry = isObject(clouds) ? clouds[name] : undefined;
  return isObject(entry) ? entry : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return Boolean(v) && typeof v === 'object' && !Array.isArray(v);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isObject(prev) && isObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}
