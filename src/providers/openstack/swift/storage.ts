/**
 * Swift (and Rackspace Cloud Files) object storage: containers and objects over the Swift API
 * v1, marker pagination, metadata in X-*-Meta-* headers, SLO uploads (upload.ts), TempURLs
 * (tempurl.ts) when a temp-url key is configured, Cloud Files CDN fields in `extra`.
 */
import type { Readable } from 'node:stream';
import { ContainerAlreadyExistsError, InvalidInputError, MalformedResponseError, NotFoundError, UnsupportedError } from '../../errors.ts';
import type { HttpResponse } from '../../http/connection.ts';
import type { ByteRange, Container, PresignedRequest, StorageDriver, StorageObject } from '../../types.ts';
import type { SwiftApi } from './api.ts';
import { signTempUrl, type TempUrlDigest } from './tempurl.ts';
import { uploadObject, type UploadSettings } from './upload.ts';

const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 10000;

/** Where the TempURL key comes from: the account options, or the account's X-Account-Meta-Temp-Url-Key. */
export type TempUrlKeySource = { key: string } | { fromAccount: true };

export interface SwiftStorageOptions extends UploadSettings {
  /** absent: no getDownloadUrl/createUploadUrl (the core signs its own URLs) */
  tempUrl?: { source: TempUrlKeySource; digest: TempUrlDigest } | undefined;
  /** Cloud Files CDN management API (catalog `rax:object-cdn`), used when the catalog has it */
  cdn?: { api: SwiftApi; available(): Promise<boolean> } | undefined;
  now: () => Date;
}

interface ListedContainer {
  name: string;
  count: number;
  bytes: number;
  last_modified?: string;
}

interface ListedObject {
  name?: string;
  subdir?: string;
  hash: string;
  bytes: number;
  content_type: string;
  last_modified: string;
}

export function swiftStorageDriver(api: SwiftApi, opts: SwiftStorageOptions): StorageDriver {
  const { provider } = api;
  const cdnApi = async (): Promise<SwiftApi | undefined> => (opts.cdn && (await opts.cdn.available()) ? opts.cdn.api : undefined);

  const cdnExtra = async (name: string): Promise<Record<string, unknown>> => {
    const cdn = await cdnApi();
    if (!cdn) return {};
    try {
      const res = await cdn.request({ operation: 'HEAD cdn container', method: 'HEAD', path: cdn.containerPath(name), responseType: 'none' });
      return cdnFields(res.headers);
    } catch (err) {
      if (err instanceof NotFoundError) return { cdnEnabled: false };
      throw err;
    }
  };

  const getContainer = async (name: string): Promise<Container> => {
    const res = await api.request({ operation: 'HEAD container', method: 'HEAD', path: api.containerPath(name), responseType: 'none' });
    return {
      name,
      objectCount: intHeader(res.headers['x-container-object-count']),
      bytes: intHeader(res.headers['x-container-bytes-used']),
      extra: { ...containerMeta(res.headers), ...(await cdnExtra(name)) },
    };
  };

  let tempKey: Promise<string> | undefined;
  const tempUrlKey = (): Promise<string> => {
    const source = opts.tempUrl?.source;
    if (!source) throw new Error('unreachable: no temp-url key source');
    if ('key' in source) return Promise.resolve(source.key);
    return (tempKey ??= api.request({ operation: 'HEAD account', method: 'HEAD', responseType: 'none' }).then(
      (res) => {
        const key = res.headers['x-account-meta-temp-url-key'];
        if (!key) throw new InvalidInputError('the account has no X-Account-Meta-Temp-Url-Key; set one or options.tempUrlKey', { provider, field: 'options.tempUrlKeyFromAccount' });
        return key;
      },
      (err: unknown) => {
        tempKey = undefined;
        throw err;
      },
    ));
  };
  const presign = async (method: 'GET' | 'PUT', container: string, name: string, expiresInSeconds: number) => {
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds <= 0) {
      throw new InvalidInputError('expiresInSeconds must be a positive integer', { provider, field: 'expiresInSeconds' });
    }
    const base = await api.storageUrl();
    const objectUrl = new URL(base);
    objectUrl.pathname = `${base.pathname.replace(/\/+$/, '')}/${api.objectPath(container, name)}`;
    const expires = Math.floor(opts.now().getTime() / 1000) + expiresInSeconds;
    const url = signTempUrl({ method, objectUrl, expires, key: await tempUrlKey(), digest: opts.tempUrl?.digest ?? 'sha256' });
    return { url: url.toString(), expiresAt: new Date(expires * 1000) };
  };

  const driver: StorageDriver = {
    async listContainers() {
      const all: ListedContainer[] = [];
      for (let marker: string | undefined; ; ) {
        const res = await api.request<ListedContainer[]>({ operation: 'GET account', query: { format: 'json', limit: MAX_LIMIT, marker } });
        const page = asList<ListedContainer>(res, provider);
        all.push(...page);
        const last = page[page.length - 1];
        if (page.length < MAX_LIMIT || !last) break;
        marker = last.name;
      }
      const cdnByName = new Map<string, Record<string, unknown>>();
      const cdn = await cdnApi();
      if (cdn) {
        const res = await cdn.request<Record<string, unknown>[]>({ operation: 'GET cdn account', query: { format: 'json' } });
        for (const entry of asList<Record<string, unknown>>(res, provider)) {
          if (typeof entry.name === 'string') cdnByName.set(entry.name, cdnListFields(entry));
        }
      }
      return all.map((c) => ({
        name: c.name,
        objectCount: c.count,
        bytes: c.bytes,
        extra: { lastModified: c.last_modified ? utc(c.last_modified)?.toISOString() ?? null : null, ...(cdn ? (cdnByName.get(c.name) ?? { cdnEnabled: false }) : {}) },
      }));
    },

    getContainer,

    async createContainer(name) {
      const exists = await getContainer(name).then(
        () => true,
        (err: unknown) => {
          if (err instanceof NotFoundError) return false;
          throw err;
        },
      );
      if (exists) throw new ContainerAlreadyExistsError(`container ${name} already exists`, { provider });
      const res = await api.request({ operation: 'PUT container', method: 'PUT', path: api.containerPath(name), responseType: 'none', expect: [201, 202] });
      if (res.status === 202) throw new ContainerAlreadyExistsError(`container ${name} already exists`, { provider });
      return { name, objectCount: 0, bytes: 0, extra: {} };
    },

    async deleteContainer(name) {
      await api.request({ operation: 'DELETE container', method: 'DELETE', path: api.containerPath(name), responseType: 'none' });
    },

    async listObjects(container, listOpts = {}) {
      const limit = listOpts.limit ?? DEFAULT_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT - 1) {
        throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_LIMIT - 1}`, { provider, field: 'limit' });
      }
      const marker = listOpts.cursor === undefined ? undefined : decodeCursor(listOpts.cursor, provider);
      // why: one extra entry tells whether another page exists without a trailing empty request
      const res = await api.request<ListedObject[]>({
        operation: 'GET container',
        path: api.containerPath(container),
        query: { format: 'json', limit: limit + 1, marker, prefix: listOpts.prefix },
      });
      const rows = asList<ListedObject>(res, provider).filter((o): o is ListedObject & { name: string } => typeof o.name === 'string');
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        objects: page.map((o) => ({
          container,
          name: o.name,
          size: o.bytes,
          hash: o.hash || null,
          contentType: o.content_type || null,
          lastModified: utc(o.last_modified),
          metadata: {},
          extra: {},
        })),
        nextCursor: rows.length > limit && last ? encodeCursor(last.name) : null,
      };
    },

    async getObject(container, name) {
      const res = await api.request({ operation: 'HEAD object', method: 'HEAD', path: api.objectPath(container, name), responseType: 'none' });
      return toObject(container, name, res.headers, intHeader(res.headers['content-length']) ?? 0);
    },

    async uploadObject(container, name, body, uploadOpts) {
      const result = await uploadObject(api, opts, container, name, body, uploadOpts);
      const object = await driver.getObject(container, name);
      return { ...object, size: result.size, hash: result.md5, extra: { ...object.extra, segments: result.segments } };
    },

    async downloadObject(container, name, range?: ByteRange) {
      const headers: Record<string, string> = {};
      if (range) {
        if (!Number.isInteger(range.start) || range.start < 0 || (range.end !== undefined && (!Number.isInteger(range.end) || range.end < range.start))) {
          throw new InvalidInputError('range must have 0 <= start <= end', { provider, field: 'range' });
        }
        headers.range = `bytes=${range.start}-${range.end ?? ''}`;
      }
      const res = await api.request<Readable>({ operation: 'GET object', path: api.objectPath(container, name), headers, responseType: 'stream' });
      const length = intHeader(res.headers['content-length']) ?? 0;
      if (res.status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers['content-range'] ?? '');
        if (!m) {
          res.body.destroy();
          throw new MalformedResponseError('a 206 response without a usable Content-Range', { provider });
        }
        const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
        return { object: toObject(container, name, res.headers, total), body: res.body, range: { start, end, total } };
      }
      const object = toObject(container, name, res.headers, length);
      if (range && length > 0) return { object, body: res.body, range: { start: 0, end: length - 1, total: length } };
      return { object, body: res.body };
    },

    async deleteObject(container, name) {
      const head = await api.request({ operation: 'HEAD object', method: 'HEAD', path: api.objectPath(container, name), headers: { 'x-newest': 'true' }, responseType: 'none' });
      const slo = head.headers['x-static-large-object']?.toLowerCase() === 'true';
      // why: ?multipart-manifest=delete removes the manifest and its segments; a plain DELETE would leave the segments behind
      await api.request({
        operation: 'DELETE object',
        method: 'DELETE',
        path: `${api.objectPath(container, name)}${slo ? '?multipart-manifest=delete' : ''}`,
        responseType: slo ? 'text' : 'none',
        headers: slo ? { accept: 'application/json' } : {},
      });
    },
  };

  if (opts.cdn) {
    const requireCdn = async (): Promise<SwiftApi> => {
      const cdn = await cdnApi();
      if (!cdn) throw new UnsupportedError("this account's service catalog has no CDN service (rax:object-cdn)", { provider });
      return cdn;
    };
    // https://docs.rackspace.com/docs/cloud-files/v1/cdn-api-reference/cdn-container-services-operations/:
    // a PUT with X-Cdn-Enabled publishes the container; a HEAD answers its X-Cdn-Uri
    driver.enableContainerCdn = async (container) => {
      const cdn = await requireCdn();
      await cdn.request({ operation: 'PUT cdn container', method: 'PUT', path: cdn.containerPath(container), headers: { 'x-cdn-enabled': 'True' }, responseType: 'none' });
    };
    driver.getContainerCdnUrl = async (container) => {
      await requireCdn();
      const fields = await cdnExtra(container);
      if (fields.cdnEnabled !== true || typeof fields.cdnUri !== 'string') {
        throw new NotFoundError(`container ${container} is not published on the CDN`, { provider });
      }
      return fields.cdnUri;
    };
  }

  if (opts.tempUrl) {
    driver.getDownloadUrl = async (container, name, expiresInSeconds) => (await presign('GET', container, name, expiresInSeconds)).url;
    driver.createUploadUrl = async (container, name, expiresInSeconds): Promise<PresignedRequest> => {
      const { url, expiresAt } = await presign('PUT', container, name, expiresInSeconds);
      return { url, method: 'PUT', headers: {}, expiresAt };
    };
  }
  return driver;
}

// --- Internal helpers ---

function asList<T>(res: HttpResponse<unknown>, provider: string): T[] {
  // why: Swift answers 204 with no body for an empty listing; an empty 200 is a broken answer, not an empty list
  if (res.status === 204) return [];
  if (!Array.isArray(res.body)) throw new MalformedResponseError('the listing is not a JSON array', { provider });
  return res.body as T[];
}

function intHeader(v: string | undefined): number | null {
  if (v === undefined || !/^\d+$/.test(v)) return null;
  return Number(v);
}

/** Swift listings give UTC times without a zone ("2026-11-26T15:50:34.123456"). */
function utc(v: string | undefined): Date | null {
  if (!v) return null;
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(/(\.\d{3})\d+/, '$1')}Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}

function toObject(container: string, name: string, headers: Record<string, string>, size: number): StorageObject {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.startsWith('x-object-meta-')) metadata[k.slice('x-object-meta-'.length)] = v;
  const slo = headers['x-static-large-object']?.toLowerCase() === 'true';
  const modified = headers['last-modified'] ? new Date(headers['last-modified']) : null;
  return {
    container,
    name,
    size,
    hash: headers.etag?.replace(/"/g, '') || null,
    contentType: headers['content-type'] ?? null,
    lastModified: modified && !Number.isNaN(modified.getTime()) ? modified : null,
    metadata,
    extra: slo ? { staticLargeObject: true } : {},
  };
}

function containerMeta(headers: Record<string, string>): Record<string, unknown> {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.startsWith('x-container-meta-')) metadata[k.slice('x-container-meta-'.length)] = v;
  return Object.keys(metadata).length > 0 ? { metadata } : {};
}

function cdnFields(headers: Record<string, string>): Record<string, unknown> {
  return {
    cdnEnabled: headers['x-cdn-enabled']?.toLowerCase() === 'true',
    cdnUri: headers['x-cdn-uri'] ?? null,
    cdnSslUri: headers['x-cdn-ssl-uri'] ?? null,
    cdnStreamingUri: headers['x-cdn-streaming-uri'] ?? null,
    cdnTtl: intHeader(headers['x-ttl']),
  };
}

function cdnListFields(entry: Record<string, unknown>): Record<string, unknown> {
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    cdnEnabled: entry.cdn_enabled === true || entry.cdn_enabled === 'true',
    cdnUri: str(entry.cdn_uri),
    cdnSslUri: str(entry.cdn_ssl_uri),
    cdnStreamingUri: str(entry.cdn_streaming_uri),
    cdnTtl: typeof entry.ttl === 'number' ? entry.ttl : null,
  };
}

function encodeCursor(marker: string): string {
  return Buffer.from(marker, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, provider: string): string {
  const marker = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!marker || encodeCursor(marker) !== cursor) throw new InvalidInputError('cursor is not one this driver returned', { provider, field: 'cursor' });
  return marker;
}
