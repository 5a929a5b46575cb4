/**
 * The `gcs` provider: Google Cloud Storage through the JSON API v1. Buckets are global, so the
 * provider has no regions; `options.location` places new buckets.
 *
 * ```yaml
 * accounts:
 *   - id: gcs
 *     driver: gcs
 *     credentials: { serviceAccountJson: "${GCP_SA_JSON}" }
 *     options: { project: my-project, location: EU, chunkSizeBytes: 8388608 }
 * ```
 *
 * Credentials: see ../auth.ts. Signed URLs (getDownloadUrl, createUploadUrl) need a
 * service-account key; with credentials.accessToken they answer UNSUPPORTED. `endpoint` replaces
 * https://storage.googleapis.com (JSON API under /storage/v1, uploads under /upload/storage/v1,
 * signed URLs at the endpoint's origin).
 */
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { GOOGLE_SCOPES, validateGoogleCredentials } from '../auth.ts';
import { createGoogleClient, type GoogleDeps } from '../client.ts';
import { gcsStorageDriver } from './storage.ts';
import { CHUNK_UNIT } from './upload.ts';

export { signV4Url } from './signed-url.ts';

export const DRIVER_NAME = 'gcs';
export const DEFAULT_BASE_URL = 'https://storage.googleapis.com';
export const DEFAULT_LOCATION = 'US';
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
const MAX_CHUNK_SIZE = 1024 * 1024 * 1024;
const OPTION_KEYS = ['project', 'keyFile', 'location', 'storageClass', 'chunkSizeBytes'];
const STORAGE_CLASSES = ['STANDARD', 'NEARLINE', 'COLDLINE', 'ARCHIVE'];

export function createGcsProvider(deps: GoogleDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'Google Cloud Storage',
    services: ['STORAGE'],
    regional: false,
    validate: (account) => validateGcsAccount(account, deps.env),
    create: (ctx) => createGcsInstance(ctx, deps),
  };
}

export const gcsProvider: ProviderDefinition = createGcsProvider();

export function createGcsInstance(ctx: DriverContext, deps: GoogleDeps = {}): ProviderInstance {
  const client = createGoogleClient(ctx, { provider: DRIVER_NAME, defaultBaseUrl: DEFAULT_BASE_URL, scopes: [GOOGLE_SCOPES.storageFullControl], deps });
  const { options } = ctx.account;
  const storage = gcsStorageDriver({
    client,
    provider: DRIVER_NAME,
    location: typeof options.location === 'string' ? options.location : DEFAULT_LOCATION,
    storageClass: typeof options.storageClass === 'string' ? options.storageClass : undefined,
    chunkSizeBytes: typeof options.chunkSizeBytes === 'number' ? options.chunkSizeBytes : DEFAULT_CHUNK_SIZE,
    logger: ctx.logger,
    now: () => ctx.now(),
  });
  return { storage, close: () => client.close() };
}

/** Problems with a gcs account, naming fields and never their values. */
export function validateGcsAccount(account: AccountConfig, env?: Record<string, string | undefined>): string[] {
  const problems = validateGoogleCredentials(account, env);
  const { location, storageClass, chunkSizeBytes } = account.options;
  for (const key of Object.keys(account.options)) {
    if (!OPTION_KEYS.includes(key)) problems.push(`options.${key} is not a gcs option (known: ${OPTION_KEYS.join(', ')})`);
  }
  if (location !== undefined && (typeof location !== 'string' || !/^[A-Za-z0-9-]{2,40}$/.test(location))) {
    problems.push('options.location must be a bucket location (US, EU, ASIA, a region like europe-west1, or a dual-region)');
  }
  if (storageClass !== undefined && (typeof storageClass !== 'string' || !STORAGE_CLASSES.includes(storageClass))) {
    problems.push(`options.storageClass must be one of ${STORAGE_CLASSES.join(', ')}`);
  }
  if (chunkSizeBytes !== undefined && (typeof chunkSizeBytes !== 'number' || !Number.isSafeInteger(chunkSizeBytes) || chunkSizeBytes < CHUNK_UNIT || chunkSizeBytes > MAX_CHUNK_SIZE || chunkSizeBytes % CHUNK_UNIT !== 0)) {
    problems.push('options.chunkSizeBytes must be a multiple of 262144 (256 KiB) up to 1 GiB');
  }
  return problems;
}
