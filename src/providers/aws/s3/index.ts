/**
 * The `s3` provider: Amazon S3 and any S3-compatible store (MinIO, Ceph RGW, Cloudflare R2,
 * OpenStack Swift's s3api, s3rver) reached through `endpoint`.
 *
 *   - id: minio
 *     driver: s3
 *     endpoint: http://127.0.0.1:9000
 *     credentials: { accessKeyId: ..., secretAccessKey: ... }
 *     options: { multipartThresholdBytes: 16777216, singlePutMaxBytes: 1073741824, partSizeBytes: 8388608 }
 *
 * Without `endpoint` the driver talks to AWS at https://s3.<region>.amazonaws.com, and each region
 * of the account lists the buckets that live in it. Credentials come from the account, the
 * environment or a profile (see aws/credentials.ts).
 */
import { resolveAwsCredentials } from '../credentials.ts';
import type { AwsCredentials } from '../../http/signers/aws-v4.ts';
import type { AccountConfig, ProviderDefinition } from '../../types.ts';
import { createS3Client, DRIVER_NAME } from './client.ts';
import { s3StorageDriver } from './storage.ts';
import { MAX_PART_BYTES, MIN_PART_BYTES } from './upload.ts';

/** Options read from `account.options`. */
export interface S3Options {
  /**
   * Put the bucket in the path (`https://host/bucket/key`) rather than the host name
   * (`https://bucket.host/key`). Default: false for AWS, true when `endpoint` is set.
   */
  pathStyle?: boolean;
  /** bodies of unknown size up to this go up in one PutObject; larger ones as multipart uploads (default 16 MiB) */
  multipartThresholdBytes?: number;
  /**
   * bodies whose size is known (Content-Length) up to this go up as one streamed PutObject, at
   * most 5 GiB (the PutObject limit); larger ones as multipart uploads. Default:
   * multipartThresholdBytes. A single PUT is faster (nothing buffered or hashed in skygraph, no
   * reassembly by the store) but a failure costs the whole transfer; multipart resends one part.
   */
  singlePutMaxBytes?: number;
  /**
   * size of each multipart part, 5 MiB to 5 GiB (default 8 MiB); two parts are held in memory per
   * upload. A body of unknown size may have at most 10,000 parts (AWS; Swift's s3api allows 1,000).
   */
  partSizeBytes?: number;
  /** named profile in ~/.aws/credentials and ~/.aws/config (also the account's top-level `profile`) */
  profile?: string;
}

export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_MULTIPART_THRESHOLD = 16 * 1024 * 1024;
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const OPTION_KEYS = new Set(['pathStyle', 'multipartThresholdBytes', 'singlePutMaxBytes', 'partSizeBytes', 'profile']);
const CREDENTIAL_KEYS = new Set(['accessKeyId', 'secretAccessKey', 'sessionToken', 'profile']);

export function validateS3Account(account: AccountConfig): string[] {
  const problems: string[] = [];
  const options = account.options ?? {};
  for (const key of Object.keys(options)) if (!OPTION_KEYS.has(key)) problems.push(`options.${key} is not an s3 option`);
  if (options.pathStyle !== undefined && typeof options.pathStyle !== 'boolean') problems.push('options.pathStyle must be true or false');
  const threshold = options.multipartThresholdBytes;
  if (threshold !== undefined && !isIntegerIn(threshold, 0, MAX_PART_BYTES)) {
    problems.push(`options.multipartThresholdBytes must be an integer from 0 to ${MAX_PART_BYTES} (the PutObject limit)`);
  }
  const singlePut = options.singlePutMaxBytes;
  if (singlePut !== undefined && !isIntegerIn(singlePut, 0, MAX_PART_BYTES)) {
    problems.push(`options.singlePutMaxBytes must be an integer from 0 to ${MAX_PART_BYTES} (the PutObject limit)`);
  }
  const part = options.partSizeBytes;
  if (part !== undefined && !isIntegerIn(part, MIN_PART_BYTES, MAX_PART_BYTES)) {
    problems.push(`options.partSizeBytes must be an integer from ${MIN_PART_BYTES} (5 MiB) to ${MAX_PART_BYTES} (5 GiB)`);
  }
  if (options.profile !== undefined && (typeof options.profile !== 'string' || options.profile.trim() === '')) {
    problems.push('options.profile must be a non-empty string');
  }
  const credentials = account.credentials ?? {};
  for (const key of Object.keys(credentials)) if (!CREDENTIAL_KEYS.has(key)) problems.push(`credentials.${key} is not an s3 credential`);
  const hasId = Boolean(credentials.accessKeyId?.trim());
  const hasSecret = Boolean(credentials.secretAccessKey?.trim());
  if (hasId && !hasSecret) problems.push('credentials.secretAccessKey is required with credentials.accessKeyId');
  if (hasSecret && !hasId) problems.push('credentials.accessKeyId is required with credentials.secretAccessKey');
  return problems;
}

/** The AWS endpoint of a region (China regions live under amazonaws.com.cn). */
export function awsS3Endpoint(region: string): URL {
  return new URL(`https://s3.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`);
}

export const s3Provider: ProviderDefinition = {
  name: DRIVER_NAME,
  title: 'Amazon S3 (or S3-compatible)',
  services: ['STORAGE'],
  regional: true,
  defaultRegion: DEFAULT_REGION,
  validate: validateS3Account,
  create(ctx) {
    const { account } = ctx;
    const options = account.options as S3Options;
    const region = ctx.region ?? DEFAULT_REGION;
    const endpoint = account.endpoint ? new URL(account.endpoint) : awsS3Endpoint(region);
    let pending: Promise<AwsCredentials> | undefined;
    // why: resolved once per instance, on first use; a failure is not cached so a fixed profile is picked up
    const credentials = () =>
      (pending ??= resolveAwsCredentials(account).then(
        (resolved) => resolved.credentials,
        (err: unknown) => {
          pending = undefined;
          throw err;
        },
      ));
    const client = createS3Client({
      endpoint,
      region,
      pathStyle: options.pathStyle ?? account.endpoint !== undefined,
      credentials,
      recordCall: (operation) => ctx.recordCall(operation),
      now: () => ctx.now(),
      http: ctx.http,
    });
    const multipartThresholdBytes = options.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD;
    const storage = s3StorageDriver({
      client,
      multipartThresholdBytes,
      singlePutMaxBytes: options.singlePutMaxBytes ?? multipartThresholdBytes,
      partSizeBytes: options.partSizeBytes ?? DEFAULT_PART_SIZE,
      filterBucketsByRegion: account.endpoint === undefined,
      logger: ctx.logger,
    });
    return { storage, close: () => client.close() };
  },
};

// --- Internal helpers ---

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}
