/**
 * Cloud Storage JSON API resources -> models.
 *
 * https://cloud.google.com/storage/docs/json_api/v1/buckets#resource
 * https://cloud.google.com/storage/docs/json_api/v1/objects#resource
 */
import { MalformedResponseError } from '../../errors.ts';
import type { Container, StorageObject } from '../../types.ts';
import { date, int, obj, str, stringMap, type Json } from '../json.ts';

export function toContainer(b: Json, provider: string): Container {
  const name = str(b.name);
  if (!name) throw new MalformedResponseError('a bucket without a name', { provider });
  return {
    name,
    // why: the JSON API has no object count or byte total; computing them means listing every object
    objectCount: null,
    bytes: null,
    extra: {
      location: str(b.location) ?? null,
      locationType: str(b.locationType) ?? null,
      storageClass: str(b.storageClass) ?? null,
      createdAt: str(b.timeCreated) ?? null,
      updatedAt: str(b.updated) ?? null,
      versioning: obj(b.versioning)?.enabled === true,
      uniformBucketLevelAccess: obj(obj(b.iamConfiguration)?.uniformBucketLevelAccess)?.enabled === true,
      labels: stringMap(b.labels),
      projectNumber: str(b.projectNumber) ?? null,
    },
  };
}

export function toObject(o: Json, provider: string): StorageObject {
  const name = str(o.name);
  const bucket = str(o.bucket);
  const size = int(o.size);
  if (name === undefined || bucket === undefined || size === undefined) throw new MalformedResponseError('an object without a name, bucket or size', { provider });
  return {
    container: bucket,
    name,
    size,
    hash: md5Hex(o.md5Hash),
    contentType: str(o.contentType) ?? null,
    lastModified: date(o.updated),
    metadata: stringMap(o.metadata),
    extra: {
      generation: str(o.generation) ?? null,
      metageneration: str(o.metageneration) ?? null,
      storageClass: str(o.storageClass) ?? null,
      crc32c: str(o.crc32c) ?? null,
      etag: str(o.etag) ?? null,
      contentEncoding: str(o.contentEncoding) ?? null,
      createdAt: str(o.timeCreated) ?? null,
      // why: composite objects have a crc32c and a componentCount but no MD5
      componentCount: int(o.componentCount) ?? null,
    },
  };
}

/** `md5Hash` is base64 of the 16 digest bytes; models carry hex. */
export function md5Hex(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  const bytes = Buffer.from(s, 'base64');
  return bytes.length === 16 ? bytes.toString('hex') : null;
}
