/**
 * Streamed uploads: small bodies (up to `smallBytes`, held in memory) go up in one PUT with their
 * ETag; bodies of known size up to `segmentBytes` stream in one PUT; anything else becomes a
 * Static Large Object: segments of `segmentBytes` streamed (chunked) into `<container>_segments`,
 * each ETag checked, then the manifest. Memory stays at `smallBytes` plus one chunk in flight.
 * On any failure the uploaded segments are deleted; when an upload replaces an SLO this driver
 * wrote, the old segments are deleted once the new object is in place (as the swift CLI does).
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { InvalidInputError, MalformedResponseError, NotFoundError, ProviderError } from '../../errors.ts';
import { bodySource, readChunks, type BodySource } from '../../storage/body-source.ts';
import type { UploadOptions } from '../../types.ts';
import type { SwiftApi } from './api.ts';

export interface UploadSettings {
  segmentBytes: number;
  /** bodies that end within this many bytes are sent in one PUT with Content-Length and ETag */
  smallBytes: number;
}

export interface UploadResult {
  size: number;
  /** MD5 of the whole body, computed while streaming */
  md5: string;
  /** segments of a Static Large Object, 0 for a plain object */
  segments: number;
}

export async function uploadObject(
  api: SwiftApi,
  settings: UploadSettings,
  container: string,
  name: string,
  body: AsyncIterable<Uint8Array>,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  const reader = bodySource(body, { provider: api.provider });
  const headers = objectHeaders(opts);
  const replaced = await replacedSegments(api, container, name);
  const result = await upload(api, settings, reader, container, name, headers, opts.size);
  await deleteSegments(api, segmentContainer(container), replaced);
  return result;
}

/** Name of the container holding an SLO's segments. */
export function segmentContainer(container: string): string {
  return `${container}_segments`;
}

// --- Internal helpers ---

async function upload(
  api: SwiftApi,
  settings: UploadSettings,
  reader: BodySource,
  container: string,
  name: string,
  headers: Record<string, string>,
  known: number | undefined,
): Promise<UploadResult> {
  try {
    if (known !== undefined && known > Math.min(settings.smallBytes, settings.segmentBytes) && known <= settings.segmentBytes) {
      return await streamedPut(api, reader, container, name, headers, known);
    }
    const { chunks: buffered } = await readChunks(reader, Math.min(settings.smallBytes, settings.segmentBytes));
    if (await reader.atEnd()) {
      const data = Buffer.concat(buffered);
      const md5 = md5Of(reader);
      const res = await api.request({
        operation: 'PUT object',
        method: 'PUT',
        path: api.objectPath(container, name),
        headers: { ...headers, etag: md5 },
        body: data,
        responseType: 'none',
      });
      checkEtag(res.headers.etag, md5, api.provider);
      return { size: data.byteLength, md5, segments: 0 };
    }
    return await sloUpload(api, settings, reader, buffered, container, name, headers);
  } catch (err) {
    // why: the caller's own stream error matters more than the aborted request it caused
    if (reader.failure) throw reader.failure.cause;
    throw err;
  }
}

/**
 * The segments of the Static Large Object now stored at `name` that this driver wrote for it
 * (under `<name>/slo/` in the segment container). Segments anywhere else may belong to other
 * manifests too, so they are left alone.
 */
async function replacedSegments(api: SwiftApi, container: string, name: string): Promise<string[]> {
  const path = api.objectPath(container, name);
  let slo: boolean;
  try {
    const head = await api.request({ operation: 'HEAD object', method: 'HEAD', path, headers: { 'x-newest': 'true' }, responseType: 'none' });
    slo = head.headers['x-static-large-object']?.toLowerCase() === 'true';
  } catch (err) {
    if (err instanceof NotFoundError) return [];
    throw err;
  }
  if (!slo) return [];
  // https://docs.openstack.org/swift/latest/overview_large_objects.html: GET ?multipart-manifest=get lists the segments
  const res = await api.request<{ name?: unknown }[]>({ operation: 'GET manifest', path: `${path}?multipart-manifest=get`, responseType: 'json' });
  const base = `/${segmentContainer(container)}/`;
  const own = `${base}${name}/slo/`;
  return (Array.isArray(res.body) ? res.body : [])
    .map((segment) => (typeof segment.name === 'string' ? segment.name : ''))
    .filter((segment) => segment.startsWith(own))
    .map((segment) => segment.slice(base.length));
}

/** Deletes segments, best effort: a segment left behind costs storage, never data. */
async function deleteSegments(api: SwiftApi, segContainer: string, names: string[]): Promise<void> {
  for (const segName of names) {
    await api
      .request({ operation: 'DELETE segment', method: 'DELETE', path: api.objectPath(segContainer, segName), responseType: 'none', expect: [204, 404] })
      .catch(() => undefined);
  }
}

function objectHeaders(opts: UploadOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (opts.contentType) headers['content-type'] = opts.contentType;
  for (const [k, v] of Object.entries(opts.metadata ?? {})) {
    if (!/^[A-Za-z0-9_-]+$/.test(k)) throw new InvalidInputError(`metadata key ${JSON.stringify(k)} must be letters, digits, - or _`, { field: 'metadata' });
    headers[`x-object-meta-${k.toLowerCase()}`] = v;
  }
  return headers;
}

async function streamedPut(api: SwiftApi, reader: BodySource, container: string, name: string, headers: Record<string, string>, size: number): Promise<UploadResult> {
  const res = await api.request({
    operation: 'PUT object',
    method: 'PUT',
    path: api.objectPath(container, name),
    headers: { ...headers, 'content-length': String(size) },
    body: limited(reader, size, null),
    responseType: 'none',
  });
  if (reader.total !== size || !(await reader.atEnd())) {
    throw new InvalidInputError(`the body was not ${size} bytes long as opts.size said`, { provider: api.provider, field: 'size' });
  }
  const md5 = md5Of(reader);
  checkEtag(res.headers.etag, md5, api.provider);
  return { size, md5, segments: 0 };
}

async function sloUpload(
  api: SwiftApi,
  settings: UploadSettings,
  reader: BodySource,
  first: Uint8Array[],
  container: string,
  name: string,
  headers: Record<string, string>,
): Promise<UploadResult> {
  const segContainer = segmentContainer(container);
  await api.ensureContainer(segContainer);
  const prefix = `${name}/slo/${randomUUID()}/`;
  const uploaded: string[] = [];
  const manifest: { path: string; etag: string; size_bytes: number }[] = [];
  try {
    let initial: Uint8Array[] = first;
    for (let index = 1; ; index++) {
      const segName = `${prefix}${String(index).padStart(8, '0')}`;
      const segment: Segment = { hash: createHash('md5'), bytes: 0 };
      const res = await api.request({
        operation: 'PUT segment',
        method: 'PUT',
        path: api.objectPath(segContainer, segName),
        body: segmentBody(initial, reader, settings.segmentBytes, segment),
        responseType: 'none',
      });
      uploaded.push(segName);
      initial = [];
      const etag = segment.hash.digest('hex');
      checkEtag(res.headers.etag, etag, api.provider);
      manifest.push({ path: `/${segContainer}/${segName}`, etag, size_bytes: segment.bytes });
      if (await reader.atEnd()) break;
    }
    await api.request({
      operation: 'PUT manifest',
      method: 'PUT',
      path: `${api.objectPath(container, name)}?multipart-manifest=put`,
      headers,
      json: manifest,
      responseType: 'none',
    });
    return { size: reader.total, md5: md5Of(reader), segments: manifest.length };
  } catch (err) {
    await deleteSegments(api, segContainer, uploaded);
    throw err;
  }
}

/** One segment on its way: the MD5 and count of the bytes it was given. */
interface Segment {
  hash: Hash;
  bytes: number;
}

async function* segmentBody(initial: Uint8Array[], reader: BodySource, segmentBytes: number, segment: Segment): AsyncGenerator<Uint8Array> {
  for (const chunk of initial) {
    segment.hash.update(chunk);
    segment.bytes += chunk.byteLength;
    yield chunk;
  }
  yield* limited(reader, segmentBytes - segment.bytes, segment);
}

async function* limited(reader: BodySource, bytes: number, segment: Segment | null): AsyncGenerator<Uint8Array> {
  let left = bytes;
  while (left > 0) {
    const chunk = await reader.read(left);
    if (!chunk) return;
    segment?.hash.update(chunk);
    if (segment) segment.bytes += chunk.byteLength;
    left -= chunk.byteLength;
    yield chunk;
  }
}

function checkEtag(etag: string | undefined, md5: string, provider: string): void {
  const got = etag?.replace(/"/g, '').toLowerCase();
  if (!got) throw new MalformedResponseError('the PUT response has no ETag', { provider });
  if (got !== md5) throw new ProviderError(`the stored ETag ${got} does not match the MD5 of the bytes sent (${md5})`, { provider });
}

/** hex MD5 of the whole body; the body has ended. */
function md5Of(reader: BodySource): string {
  return reader.md5() ?? '';
}
