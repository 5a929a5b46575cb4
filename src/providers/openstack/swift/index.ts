/**
 * The `swift` and `cloudfiles` providers: OpenStack Swift object storage, and Rackspace Cloud
 * Files (the same API behind Rackspace identity, with CDN fields in `extra`).
 *
 *   - id: my-swift
 *     driver: swift
 *     credentials: { auth_url: https://keystone.example/v3, username: ..., password: ...,
 *                    project_name: ..., user_domain_name: Default, project_domain_name: Default }
 *     options: { region: RegionOne, tempUrlKey: ..., segmentBytes: 104857600 }
 *   - id: rackspace-files
 *     driver: cloudfiles
 *     regions: [DFW, ORD]
 *     credentials: { username: ..., api_key: ... }
 *
 * Regions: `swift` is not regional (one account = one object-store endpoint; v1.0 auth has no
 * regions): `options.region` (or the clouds.yaml `region_name`) picks the catalog endpoint and
 * may be omitted when the catalog has one region. `cloudfiles` is regional, with no default.
 * `options.cloud` reads credentials from clouds.yaml; explicit credentials win over it.
 */
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance, StorageDriver } from '../../types.ts';
import { createKeystoneAuth, resolveCloudCredentials, validateOpenStackCredentials, type EndpointInterface, type KeystoneAuth } from '../identity/index.ts';
import { createSwiftApi, type SwiftApi } from './api.ts';
import { swiftStorageDriver } from './storage.ts';

/** Options read from `account.options`. */
export interface SwiftOptions {
  /** a cloud of clouds.yaml */
  cloud?: string;
  /** catalog region of the object-store endpoint (swift only; cloudfiles uses the account's regions) */
  region?: string;
  /** catalog interface, default public */
  interface?: EndpointInterface;
  /** SLO segment size, default 100 MiB */
  segmentBytes?: number;
  /** the account's temp-url key: enables TempURL getDownloadUrl / createUploadUrl */
  tempUrlKey?: string;
  /** read the temp-url key from the account's X-Account-Meta-Temp-Url-Key instead */
  tempUrlKeyFromAccount?: boolean;
  /** default sha256 */
  tempUrlDigest?: 'sha1' | 'sha256';
}

export const DEFAULT_SEGMENT_BYTES = 100 * 1024 * 1024;
export const RACKSPACE_AUTH_URL = 'https://identity.api.rackspacecloud.com/v2.0/';
/** bodies that end within this many bytes are sent in one PUT */
const SMALL_OBJECT_BYTES = 8 * 1024 * 1024;
const MIN_SEGMENT_BYTES = 1024 * 1024;
const MAX_SEGMENT_BYTES = 5 * 1024 * 1024 * 1024;
const OPTION_KEYS = new Set(['cloud', 'region', 'interface', 'segmentBytes', 'tempUrlKey', 'tempUrlKeyFromAccount', 'tempUrlDigest']);

function validateOptions(name: string, account: AccountConfig): string[] {
  const problems: string[] = [];
  const o = account.options ?? {};
  for (const key of Object.keys(o)) if (!OPTION_KEYS.has(key)) problems.push(`options.${key} is not a ${name} option`);
  const nonEmpty = (key: string) => {
    if (o[key] !== undefined && (typeof o[key] !== 'string' || (o[key] as string).trim() === '')) problems.push(`options.${key} must be a non-empty string`);
  };
  nonEmpty('cloud');
  nonEmpty('region');
  nonEmpty('tempUrlKey');
  if (name === 'cloudfiles' && o.region !== undefined) problems.push('options.region is not used by cloudfiles; name the account regions');
  if (o.interface !== undefined && !['public', 'internal', 'admin'].includes(o.interface as string)) problems.push('options.interface must be public, internal or admin');
  const seg = o.segmentBytes;
  if (seg !== undefined && (typeof seg !== 'number' || !Number.isInteger(seg) || seg < MIN_SEGMENT_BYTES || seg > MAX_SEGMENT_BYTES)) {
    problems.push(`options.segmentBytes must be an integer from ${MIN_SEGMENT_BYTES} to ${MAX_SEGMENT_BYTES}`);
  }
  if (o.tempUrlKeyFromAccount !== undefined && typeof o.tempUrlKeyFromAccount !== 'boolean') problems.push('options.tempUrlKeyFromAccount must be true or false');
  if (o.tempUrlKey !== undefined && o.tempUrlKeyFromAccount === true) problems.push('options.tempUrlKey and options.tempUrlKeyFromAccount exclude each other');
  if (o.tempUrlDigest !== undefined && o.tempUrlDigest !== 'sha1' && o.tempUrlDigest !== 'sha256') problems.push('options.tempUrlDigest must be sha1 or sha256');
  // why: with a clouds.yaml cloud the credentials are only known once the file is read (at create)
  if (o.cloud === undefined) {
    problems.push(...validateOpenStackCredentials(account.credentials ?? {}, { defaultAuthUrl: name === 'cloudfiles' ? RACKSPACE_AUTH_URL : undefined, endpoint: account.endpoint }));
  }
  return problems;
}

/** A storage driver whose auth (and clouds.yaml read) happens on the first call. */
function lazyStorage(ctx: DriverContext, name: string): { storage: StorageDriver; close(): Promise<void> } {
  const { account } = ctx;
  const o = account.options as SwiftOptions;
  let auth: KeystoneAuth | undefined;
  let setup: Promise<{ auth: KeystoneAuth; region: string | undefined; iface: EndpointInterface | undefined }> | undefined;
  const resolve = () =>
    (setup ??= (async () => {
      const defaultAuthUrl = name === 'cloudfiles' ? RACKSPACE_AUTH_URL : undefined;
      const cloud = await resolveCloudCredentials(account, name, { defaultAuthUrl });
      const credentials = cloud.credentials;
      const region = (name === 'cloudfiles' ? ctx.region : o.region) ?? cloud.regionName;
      const iface = o.interface ?? cloud.interface;
      auth = createKeystoneAuth({
        provider: name,
        credentials,
        defaultAuthUrl,
        endpoint: account.endpoint,
        cacheKey: account.id,
        now: ctx.now,
        recordCall: ctx.recordCall,
        logger: ctx.logger,
        timeoutMs: account.timeoutMs,
        http: ctx.http,
      });
      return { auth, region, iface };
    })().catch((err: unknown) => {
      setup = undefined;
      throw err;
    }));

  const signer: KeystoneAuth = {
    method: 'preset',
    sign: async (req, c) => (await resolve()).auth.sign(req, c),
    onUnauthorized: () => auth?.invalidate(),
    invalidate: () => auth?.invalidate(),
    token: async () => (await resolve()).auth.token(),
    catalog: async () => (await resolve()).auth.catalog(),
    endpoint: async (type, q) => (await resolve()).auth.endpoint(type, q),
    close: async () => auth?.close(),
  };
  const common = { provider: name, auth: signer, recordCall: ctx.recordCall, now: ctx.now, timeoutMs: account.timeoutMs, http: ctx.http };
  const api = createSwiftApi({
    ...common,
    endpoint: async () => {
      const { auth: a, region, iface } = await resolve();
      return a.endpoint('object-store', { region, interface: iface });
    },
  });
  let cdnApi: SwiftApi | undefined;
  if (name === 'cloudfiles') {
    cdnApi = createSwiftApi({
      ...common,
      endpoint: async () => {
        const { auth: a, region } = await resolve();
        return a.endpoint('rax:object-cdn', { region, interface: 'public' });
      },
    });
  }
  const tempUrl = o.tempUrlKey
    ? { source: { key: o.tempUrlKey }, digest: o.tempUrlDigest ?? 'sha256' }
    : o.tempUrlKeyFromAccount
      ? { source: { fromAccount: true as const }, digest: o.tempUrlDigest ?? 'sha256' }
      : undefined;
  const storage = swiftStorageDriver(api, {
    segmentBytes: o.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
    smallBytes: SMALL_OBJECT_BYTES,
    tempUrl,
    cdn: cdnApi && {
      api: cdnApi,
      available: async () => {
        const { auth: a } = await resolve();
        return (await a.catalog()).services.some((svc) => svc.type === 'rax:object-cdn');
      },
    },
    now: ctx.now,
  });
  return {
    storage,
    close: async () => {
      await api.close();
      await cdnApi?.close();
      await auth?.close();
    },
  };
}

export const swiftProvider: ProviderDefinition = {
  name: 'swift',
  title: 'OpenStack Swift',
  services: ['STORAGE'],
  regional: false,
  validate: (account) => validateOptions('swift', account),
  create(ctx): ProviderInstance {
    const { storage, close } = lazyStorage(ctx, 'swift');
    return { storage, close };
  },
};

export const cloudfilesProvider: ProviderDefinition = {
  name: 'cloudfiles',
  title: 'Rackspace Cloud Files',
  services: ['STORAGE'],
  regional: true,
  validate: (account) => validateOptions('cloudfiles', account),
  create(ctx): ProviderInstance {
    const { storage, close } = lazyStorage(ctx, 'cloudfiles');
    return { storage, close };
  },
};
