/**
 * Cloud Storage JSON API v1 stand-in: buckets, objects with generations, MD5 and CRC32C,
 * listing with prefix and pageToken, media downloads with ranges, multipart uploads (checking the
 * multipart/related body and the MD5 the client sends), resumable upload sessions (chunks must be
 * multiples of 256 KiB but the last; 308 with Range; DELETE cancels), and V4 signed URLs on the
 * XML API paths, whose signature is verified with the service account's public key.
 *
 * https://cloud.google.com/storage/docs/json_api/v1
 * https://cloud.google.com/storage/docs/performing-resumable-uploads
 */
import { createHash, verify, type KeyObject } from 'node:crypto';
import type { ReplayRequest, ReplayServer } from '../replay-server.ts';
import { fixture, googleError, json, onlyKeys, onlyQuery, page, requireJson, violation, type GoogleRoutes, type Json, type Reply } from './core.ts';
import { TEST_PROJECT } from './token.ts';

const CHUNK_UNIT = 256 * 1024;

export interface StoredObject {
  resource: Json;
  data: Buffer;
}

export interface StorageState {
  buckets: Map<string, { resource: Json; objects: Map<string, StoredObject> }>;
  sessions: Map<string, { bucket: string; resource: Json; received: Buffer[]; size: number; declared?: number }>;
  /** sizes of the resumable chunks received, in order */
  chunkSizes: number[];
  /** multipart upload bodies received (sizes) */
  multipartSizes: number[];
  /** the next resumable chunk is only persisted up to this many bytes (then cleared) */
  persistOnly?: number | undefined;
  /** called as each resumable chunk arrives */
  onChunk?: (() => void) | undefined;
}

export interface StorageOptions {
  maxResults: number;
  publicKey: KeyObject;
}

export function installStorage(routes: GoogleRoutes, replay: ReplayServer, opts: StorageOptions): StorageState {
  const { route } = routes;
  const seeded = fixture<{ items: Json[] }>('gcs/objects-skygraph-assets.json').items;
  const state: StorageState = {
    buckets: new Map(
      fixture<{ items: Json[] }>('gcs/buckets.json').items.map((b) => [
        b.name as string,
        {
          resource: b,
          objects: new Map(b.name === 'skygraph-assets' ? seeded.map((o) => [o.name as string, { resource: o, data: Buffer.from(`skygraph fixture object ${String(o.name)}\n`) }]) : []),
        },
      ]),
    ),
    sessions: new Map(),
    chunkSizes: [],
    multipartSizes: [],
  };
  let generation = 1_718_000_000_000_000;
  let sessionSeq = 0;

  const bucket = (name: string) => {
    const b = state.buckets.get(decodeURIComponent(name));
    if (!b) throw googleError(404, 'notFound', 'The specified bucket does not exist.');
    return b;
  };
  const object = (bucketName: string, name: string) => {
    const o = bucket(bucketName).objects.get(decodeURIComponent(name));
    if (!o) throw googleError(404, 'notFound', `No such object: ${decodeURIComponent(bucketName)}/${decodeURIComponent(name)}`);
    return o;
  };
  const store = (bucketName: string, base: Json, data: Buffer): Json => {
    const b = bucket(bucketName);
    const name = base.name as string;
    const gen = String(++generation);
    const enc = encodeURIComponent(name);
    const now = new Date().toISOString();
    const resource: Json = {
      kind: 'storage#object',
      id: `${bucketName}/${name}/${gen}`,
      selfLink: `https://www.googleapis.com/storage/v1/b/${bucketName}/o/${enc}`,
      mediaLink: `https://storage.googleapis.com/download/storage/v1/b/${bucketName}/o/${enc}?generation=${gen}&alt=media`,
      name,
      bucket: bucketName,
      generation: gen,
      metageneration: '1',
      contentType: base.contentType ?? 'application/octet-stream',
      storageClass: (b.resource.storageClass as string | undefined) ?? 'STANDARD',
      size: String(data.length),
      md5Hash: createHash('md5').update(data).digest('base64'),
      crc32c: crc32c(data).toString('base64'),
      etag: Buffer.from(`etag-${gen}`).toString('base64'),
      timeCreated: now,
      updated: now,
      timeStorageClassUpdated: now,
      ...(base.metadata ? { metadata: base.metadata } : {}),
    };
    b.objects.set(name, { resource, data });
    return resource;
  };
  const checkObjectResource = (r: Json, where: string) => {
    onlyKeys(r, ['name', 'contentType', 'metadata', 'md5Hash'], where);
    if (typeof r.name !== 'string' || r.name === '') throw violation(`${where}: name is required`);
    if (r.metadata !== undefined && (typeof r.metadata !== 'object' || Object.values(r.metadata as Json).some((v) => typeof v !== 'string'))) throw violation(`${where}: metadata values must be strings`);
  };
  const media = (req: ReplayRequest, o: StoredObject): Reply => {
    const headers: Record<string, string> = {
      'content-type': String(o.resource.contentType),
      'x-goog-generation': String(o.resource.generation),
      'x-goog-hash': `crc32c=${String(o.resource.crc32c)},md5=${String(o.resource.md5Hash)}`,
      'x-goog-stored-content-length': String(o.data.length),
    };
    const range = req.headers.range;
    if (range === undefined) return { status: 200, headers, body: o.data };
    const m = /^bytes=(\d+)-(\d*)$/.exec(range);
    if (!m) throw violation(`unsupported Range ${range}`);
    const start = Number(m[1]);
    const end = Math.min(m[2] ? Number(m[2]) : o.data.length - 1, o.data.length - 1);
    if (start >= o.data.length) return json(416, { error: { code: 416, message: 'The requested range cannot be satisfied.', errors: [{ message: 'Request range not satisfiable', domain: 'global', reason: 'requestedRangeNotSatisfiable' }] } });
    return { status: 206, headers: { ...headers, 'content-range': `bytes ${start}-${end}/${o.data.length}` }, body: o.data.subarray(start, end + 1) };
  };

  // https://cloud.google.com/storage/docs/json_api/v1/buckets/list
  route('GET', /^\/storage\/v1\/b$/, (req) => {
    onlyQuery(req.query, ['project', 'maxResults', 'pageToken'], 'buckets.list');
    if (req.query.get('project') !== TEST_PROJECT) throw violation(`project must be ${TEST_PROJECT}`);
    const all = [...state.buckets.values()].map((b) => b.resource).sort((a, b) => String(a.name).localeCompare(String(b.name)));
    return json(200, { kind: 'storage#buckets', ...page(all, req.query, opts.maxResults) });
  });

  // https://cloud.google.com/storage/docs/json_api/v1/buckets/insert
  route('POST', /^\/storage\/v1\/b$/, (req) => {
    onlyQuery(req.query, ['project'], 'buckets.insert');
    if (req.query.get('project') !== TEST_PROJECT) throw violation(`project must be ${TEST_PROJECT}`);
    const body = requireJson(req);
    onlyKeys(body, ['name', 'location', 'storageClass'], 'bucket');
    const name = String(body.name);
    if (state.buckets.has(name)) throw googleError(409, 'conflict', 'Your previous request to create the named bucket succeeded and you already own it.');
    const now = new Date().toISOString();
    const resource: Json = {
      kind: 'storage#bucket',
      selfLink: `https://www.googleapis.com/storage/v1/b/${name}`,
      id: name,
      name,
      projectNumber: '271891301542',
      metageneration: '1',
      location: String(body.location ?? 'US').toUpperCase(),
      storageClass: body.storageClass ?? 'STANDARD',
      etag: 'CAE=',
      timeCreated: now,
      updated: now,
      locationType: 'multi-region',
    };
    state.buckets.set(name, { resource, objects: new Map() });
    return json(200, resource);
  });

  // https://cloud.google.com/storage/docs/json_api/v1/buckets/get
  route('GET', /^\/storage\/v1\/b\/([^/]+)$/, (_req, m) => json(200, bucket(m[1]!).resource));

  // https://cloud.google.com/storage/docs/json_api/v1/buckets/delete
  route('DELETE', /^\/storage\/v1\/b\/([^/]+)$/, (_req, m) => {
    const b = bucket(m[1]!);
    if (b.objects.size > 0) throw googleError(409, 'conflict', 'The bucket you tried to delete is not empty.');
    state.buckets.delete(decodeURIComponent(m[1]!));
    return { status: 204, body: '' };
  });

  // https://cloud.google.com/storage/docs/json_api/v1/objects/list
  route('GET', /^\/storage\/v1\/b\/([^/]+)\/o$/, (req, m) => {
    onlyQuery(req.query, ['prefix', 'maxResults', 'pageToken'], 'objects.list');
    const prefix = req.query.get('prefix') ?? '';
    const all = [...bucket(m[1]!).objects.values()]
      .filter((o) => String(o.resource.name).startsWith(prefix))
      .sort((a, b) => Buffer.compare(Buffer.from(String(a.resource.name)), Buffer.from(String(b.resource.name))))
      .map((o) => o.resource);
    return json(200, { kind: 'storage#objects', ...page(all, req.query, opts.maxResults) });
  });

  // https://cloud.google.com/storage/docs/json_api/v1/objects/get
  route('GET', /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/, (req, m) => {
    onlyQuery(req.query, ['alt', 'generation'], 'objects.get');
    const o = object(m[1]!, m[2]!);
    const gen = req.query.get('generation');
    if (gen !== null && gen !== o.resource.generation) throw googleError(404, 'notFound', `No such object: ${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}#${gen}`);
    const alt = req.query.get('alt');
    if (alt === null || alt === 'json') return json(200, o.resource);
    if (alt !== 'media') throw violation(`alt must be json or media, got ${alt}`);
    return media(req, o);
  });

  // https://cloud.google.com/storage/docs/json_api/v1/objects/delete
  route('DELETE', /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/, (_req, m) => {
    object(m[1]!, m[2]!);
    bucket(m[1]!).objects.delete(decodeURIComponent(m[2]!));
    return { status: 204, body: '' };
  });

  // https://cloud.google.com/storage/docs/uploading-objects (multipart) and performing-resumable-uploads (start)
  route('POST', /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/, (req, m) => {
    const bucketName = decodeURIComponent(m[1]!);
    bucket(bucketName);
    const type = req.query.get('uploadType');
    if (type === 'multipart') {
      onlyQuery(req.query, ['uploadType'], 'objects.insert multipart');
      const { metadata, data } = parseMultipart(req);
      checkObjectResource(metadata, 'multipart metadata');
      if (typeof metadata.md5Hash !== 'string') throw violation('multipart metadata should carry md5Hash for Cloud Storage to check');
      if (metadata.md5Hash !== createHash('md5').update(data).digest('base64')) {
        throw googleError(400, 'invalid', `Provided MD5 hash "${metadata.md5Hash}" doesn't match calculated MD5 hash "${createHash('md5').update(data).digest('base64')}".`);
      }
      state.multipartSizes.push(data.length);
      return json(200, store(bucketName, metadata, data));
    }
    if (type === 'resumable') {
      onlyQuery(req.query, ['uploadType'], 'objects.insert resumable');
      const resource = requireJson(req);
      checkObjectResource(resource, 'resumable metadata');
      if (req.headers['x-upload-content-type'] !== resource.contentType) throw violation('X-Upload-Content-Type must match the metadata contentType');
      const declared = req.headers['x-upload-content-length'];
      const id = `ADPycdt-skygraph-${++sessionSeq}`;
      state.sessions.set(id, { bucket: bucketName, resource, received: [], size: 0, ...(declared !== undefined ? { declared: Number(declared) } : {}) });
      const location = `${replay.url}/upload/storage/v1/b/${encodeURIComponent(bucketName)}/o?uploadType=resumable&name=${encodeURIComponent(String(resource.name))}&upload_id=${id}`;
      return { status: 200, headers: { location, 'x-guploader-uploadid': id, 'content-length': '0' }, body: '' };
    }
    throw violation(`uploadType must be multipart or resumable, got ${type ?? 'none'}`);
  });

  // https://cloud.google.com/storage/docs/performing-resumable-uploads#chunked-upload
  route('PUT', /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/, (req) => {
    const id = req.query.get('upload_id') ?? '';
    const session = state.sessions.get(id);
    if (!session) throw googleError(404, 'notFound', 'No such upload session.');
    const range = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(req.headers['content-range'] ?? '');
    if (!range) throw violation(`Content-Range must be "bytes a-b/total|*" or "bytes */total", got ${req.headers['content-range'] ?? 'none'}`);
    const total = range[3] === '*' ? undefined : Number(range[3]);
    if (range[1] !== undefined) {
      const start = Number(range[1]);
      const end = Number(range[2]);
      if (end - start + 1 !== req.body.length) throw violation(`Content-Range covers ${end - start + 1} bytes, the body has ${req.body.length}`);
      if (start > session.size) throw violation(`chunk starts at ${start} but only ${session.size} bytes are persisted`);
      if (total === undefined && req.body.length % CHUNK_UNIT !== 0) throw violation(`a chunk that is not the last must be a multiple of 256 KiB, got ${req.body.length}`);
      state.chunkSizes.push(req.body.length);
      state.onChunk?.();
      let fresh = req.body.subarray(session.size - start);
      if (state.persistOnly !== undefined) {
        fresh = fresh.subarray(0, state.persistOnly);
        state.persistOnly = undefined;
      }
      session.received.push(fresh);
      session.size += fresh.length;
    } else if (req.body.length) {
      throw violation('a "bytes */total" request has no body');
    }
    if (session.declared !== undefined && total !== undefined && total !== session.declared) throw violation(`total ${total} differs from X-Upload-Content-Length ${session.declared}`);
    if (total !== undefined && session.size === total) {
      state.sessions.delete(id);
      return json(200, store(session.bucket, session.resource, Buffer.concat(session.received)));
    }
    return { status: 308, headers: session.size > 0 ? { range: `bytes=0-${session.size - 1}`, 'content-length': '0' } : { 'content-length': '0' }, body: '' };
  });

  // https://cloud.google.com/storage/docs/performing-resumable-uploads#cancel-upload
  route('DELETE', /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/, (req) => {
    state.sessions.delete(req.query.get('upload_id') ?? '');
    return { status: 499, body: '' };
  });

  // https://cloud.google.com/storage/docs/access-control/signed-urls (XML API paths)
  for (const method of ['GET', 'PUT']) {
    route(
      method,
      /^\/(?!storage\/|upload\/|token$)([^/]+)\/(.+)$/,
      (req, m) => {
        verifySignedUrl(req, opts.publicKey);
        const bucketName = decodeURIComponent(m[1]!);
        const name = decodeURIComponent(m[2]!);
        if (req.method === 'GET') return media(req, object(encodeURIComponent(bucketName), encodeURIComponent(name)));
        store(bucketName, { name, contentType: req.headers['content-type'] ?? 'application/octet-stream' }, req.body);
        return { status: 200, headers: { etag: '"ok"' }, body: '' };
      },
      { auth: false },
    );
  }
  return state;
}

/** CRC32C (Castagnoli), big-endian bytes, as Cloud Storage reports it (base64). */
export function crc32c(data: Buffer): Buffer {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out;
}

// --- Internal helpers ---

function parseMultipart(req: ReplayRequest): { metadata: Json; data: Buffer } {
  const boundary = /^multipart\/related; boundary=(\S+)$/.exec(req.headers['content-type'] ?? '')?.[1];
  if (!boundary) throw violation('content-type must be multipart/related; boundary=...');
  const body = req.body;
  const open = Buffer.from(`--${boundary}\r\n`);
  const sep = Buffer.from(`\r\n--${boundary}\r\n`);
  const close = Buffer.from(`\r\n--${boundary}--\r\n`);
  if (!body.subarray(0, open.length).equals(open) || !body.subarray(body.length - close.length).equals(close)) throw violation('multipart body must open and close with the boundary');
  const at = body.indexOf(sep);
  if (at < 0) throw violation('multipart body must hold two parts');
  const part = (buf: Buffer) => {
    const split = buf.indexOf('\r\n\r\n');
    if (split < 0) throw violation('multipart part without headers');
    return { headers: buf.subarray(0, split).toString('utf8'), content: buf.subarray(split + 4) };
  };
  const first = part(body.subarray(open.length, at));
  const second = part(body.subarray(at + sep.length, body.length - close.length));
  if (!/^content-type: application\/json/i.test(first.headers)) throw violation('the first multipart part must be the JSON metadata');
  let metadata: Json;
  try {
    metadata = JSON.parse(first.content.toString('utf8')) as Json;
  } catch {
    throw violation('multipart metadata is not JSON');
  }
  if (!new RegExp(`^content-type: ${escape(String(metadata.contentType))}$`, 'i').test(second.headers)) throw violation('the media part must carry the metadata contentType');
  return { metadata, data: second.content };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Recomputes the V4 canonical request from what arrived and checks signature, date and expiry. */
function verifySignedUrl(req: ReplayRequest, publicKey: KeyObject): void {
  const q = req.query;
  const fault = (message: string) => googleError(400, 'SignatureDoesNotMatch', message);
  if (q.get('X-Goog-Algorithm') !== 'GOOG4-RSA-SHA256') throw violation('X-Goog-Algorithm must be GOOG4-RSA-SHA256');
  const stamp = q.get('X-Goog-Date') ?? '';
  const date = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(stamp);
  if (!date) throw violation('X-Goog-Date must be yyyymmddThhmmssZ');
  const signedAt = Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!);
  const expires = Number(q.get('X-Goog-Expires'));
  if (Date.now() > signedAt + expires * 1000) throw googleError(400, 'ExpiredToken', 'Request has expired');
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const pairs = [...q.entries()].filter(([k]) => k !== 'X-Goog-Signature').map(([k, v]) => [enc(k), enc(v)] as const);
  const query = pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
  const signedHeaders = (q.get('X-Goog-SignedHeaders') ?? '').split(';');
  const headers = signedHeaders.map((h) => `${h}:${(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [req.method, req.path, query, headers, signedHeaders.join(';'), 'UNSIGNED-PAYLOAD'].join('\n');
  const scope = q.get('X-Goog-Credential')?.split('/').slice(1).join('/') ?? '';
  const toSign = ['GOOG4-RSA-SHA256', stamp, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  if (!verify('sha256', Buffer.from(toSign), publicKey, Buffer.from(q.get('X-Goog-Signature') ?? '', 'hex'))) {
    throw fault('The request signature we calculated does not match the signature you provided.');
  }
}
