/**
 * Azure Blob storage driver: containers are containers, block blobs are objects. Bodies are
 * streams both ways (see upload.ts for Put Blob versus staged blocks); presigned URLs are
 * service SAS URLs signed with the account key.
 *
 * https://learn.microsoft.com/rest/api/storageservices/blob-service-rest-api
 */
import type { Readable } from 'node:stream';
import { ContainerNotEmptyError, InvalidInputError, MalformedResponseError, ProviderError } from '../../errors.ts';
import { decodeXmlEntities, parseXml, xmlList } from '../../http/parsers/xml.ts';
import { checkListOptions, contentLength, parseContentRange, rangeHeader } from '../../storage/checks.ts';
import type { ByteRange, Download, ListObjectsOptions, StorageDriver } from '../../types.ts';
import { checkBlobName, checkContainerName, type AzureBlobClient } from './client.ts';
import { DRIVER_NAME } from './errors.ts';
import {
  toContainer,
  toContainerFromEntry,
  toObjectFromEntry,
  toObjectFromHeaders,
  type BlobEntry,
  type ContainerEntry,
} from './mappers.ts';
import { uploadBlob } from './upload.ts';

/** Settings of one driver instance (see AzureBlobOptions in index.ts for the account options). */
export interface AzureBlobStorageOptions {
  client: AzureBlobClient;
  blockSizeBytes: number;
}

const MAX_RESULTS = 5000;
/** why: a SAS has no upper limit, but a week is what every other presigning driver allows */
const MAX_SAS_SECONDS = 7 * 24 * 3600;
const XML_ARRAYS = ['EnumerationResults.Containers.Container', 'EnumerationResults.Blobs.Blob'] as const;
/** a `<Blob>` element always starts with its `<Name>`; read it raw, since the XML parser trims white space */
const RAW_BLOB_NAME = /<Blob><Name( Encoded="true")?>([^<]*)<\/Name>/g;

export function azureBlobStorageDriver(opts: AzureBlobStorageOptions): StorageDriver {
  const { client } = opts;

  return {
    // https://learn.microsoft.com/rest/api/storageservices/list-containers2
    async listContainers() {
      const containers = [];
      let marker: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const res = await client.request<Record<string, EnumerationResults | undefined>>({
          operation: 'ListContainers',
          query: { comp: 'list', maxresults: MAX_RESULTS, marker },
          responseType: 'xml',
          xmlArrays: XML_ARRAYS,
        });
        const result = enumeration(res.body, 'ListContainers');
        const list = typeof result.Containers === 'object' ? result.Containers.Container : undefined;
        for (const entry of xmlList<ContainerEntry>(list)) containers.push(toContainerFromEntry(entry));
        marker = result.NextMarker || undefined;
        if (!marker) break;
      }
      return containers;
    },

    // https://learn.microsoft.com/rest/api/storageservices/get-container-properties
    async getContainer(name) {
      const res = await client.request({ operation: 'GetContainerProperties', method: 'HEAD', container: name, query: { restype: 'container' }, responseType: 'none' });
      const extra: Record<string, unknown> = {};
      if (res.headers['last-modified']) extra.lastModified = res.headers['last-modified'];
      if (res.headers['etag']) extra.etag = res.headers['etag'].replace(/^"|"$/g, '');
      return toContainer(name, extra);
    },

    // https://learn.microsoft.com/rest/api/storageservices/create-container
    async createContainer(name) {
      await client.request({
        operation: 'CreateContainer',
        method: 'PUT',
        container: name,
        query: { restype: 'container' },
        // why: a retried create that already succeeded would report ContainerAlreadyExists
        idempotent: false,
        expect: [201],
        responseType: 'none',
      });
      return toContainer(name);
    },

    // https://learn.microsoft.com/rest/api/storageservices/delete-container
    async deleteContainer(name) {
      // why: Azure deletes a container with everything in it; the contract refuses a non-empty one
      const page = await listBlobs(client, name, { limit: 1 });
      if (page.objects.length > 0) {
        throw new ContainerNotEmptyError(`DeleteContainer: container ${name} still holds objects`, { provider: DRIVER_NAME, status: 409 });
      }
      await client.request({ operation: 'DeleteContainer', method: 'DELETE', container: name, query: { restype: 'container' }, expect: [202], responseType: 'none' });
    },

    listObjects: (container, options) => listBlobs(client, container, options),

    // https://learn.microsoft.com/rest/api/storageservices/get-blob-properties
    async getObject(container, name) {
      const res = await client.request({ operation: 'GetBlobProperties', method: 'HEAD', container, blob: name, responseType: 'none' });
      return toObjectFromHeaders(container, name, res.headers, contentLength(res.headers, 'GetBlobProperties', DRIVER_NAME));
    },

    uploadObject(container, name, body, options) {
      checkContainerName(container);
      checkBlobName(name);
      return uploadBlob({ client, blockSizeBytes: opts.blockSizeBytes }, container, name, body, options);
    },

    // https://learn.microsoft.com/rest/api/storageservices/get-blob
    // https://learn.microsoft.com/rest/api/storageservices/specifying-the-range-header-for-blob-service-operations
    async downloadObject(container, name, range?: ByteRange): Promise<Download> {
      const header = range === undefined ? undefined : rangeHeader(range, DRIVER_NAME);
      const res = await client.request<Readable>({
        operation: 'GetBlob',
        container,
        blob: name,
        headers: header ? { 'x-ms-range': header } : {},
        expect: [200, 206],
        responseType: 'stream',
      });
      try {
        if (range === undefined || res.status === 200) {
          const size = contentLength(res.headers, 'GetBlob', DRIVER_NAME);
          const object = toObjectFromHeaders(container, name, res.headers, size);
          if (range === undefined) return { object, body: res.body };
          // why: a zero-length blob answers a ranged read with 200 and nothing
          if (range.start >= size) throw invalid(`range starts at ${range.start} but the object has ${size} bytes`, 'range');
          throw new ProviderError('GetBlob: asked for a range, the service sent the whole blob', { provider: DRIVER_NAME, requestId: res.requestId });
        }
        const sent = parseContentRange(res.headers['content-range']);
        if (!sent) throw new MalformedResponseError('GetBlob: 206 without a readable Content-Range', { provider: DRIVER_NAME, requestId: res.requestId });
        const wanted = { start: range.start, end: Math.min(range.end ?? sent.total - 1, sent.total - 1), total: sent.total };
        if (sent.start !== wanted.start || sent.end !== wanted.end) {
          throw new ProviderError(`GetBlob: asked for bytes ${wanted.start}-${wanted.end}, the service sent ${sent.start}-${sent.end}`, {
            provider: DRIVER_NAME,
            requestId: res.requestId,
          });
        }
        return { object: toObjectFromHeaders(container, name, res.headers, sent.total, true), body: res.body, range: wanted };
      } catch (err) {
        res.body.destroy();
        throw err;
      }
    },

    // https://learn.microsoft.com/rest/api/storageservices/delete-blob
    async deleteObject(container, name) {
      // why: a blob with snapshots cannot be deleted alone; the object is the blob and its snapshots
      await client.request({ operation: 'DeleteBlob', method: 'DELETE', container, blob: name, headers: { 'x-ms-delete-snapshots': 'include' }, expect: [202], responseType: 'none' });
    },

    // https://learn.microsoft.com/rest/api/storageservices/create-service-sas
    async getDownloadUrl(container, name, expiresInSeconds) {
      checkExpiry(expiresInSeconds);
      return client.sasUrl(container, name, 'r', expiresInSeconds).url.toString();
    },

    async createUploadUrl(container, name, expiresInSeconds) {
      checkExpiry(expiresInSeconds);
      const { url, expiresAt } = client.sasUrl(container, name, 'cw', expiresInSeconds);
      // why: Put Blob needs the blob type; the holder of the URL sends this header with the body
      return { url: url.toString(), method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, expiresAt };
    },
  };
}

// --- Internal helpers ---

interface EnumerationResults {
  Containers?: { Container?: unknown } | '';
  Blobs?: { Blob?: unknown } | '';
  NextMarker?: string;
}

// https://learn.microsoft.com/rest/api/storageservices/list-blobs
async function listBlobs(client: AzureBlobClient, container: string, options?: ListObjectsOptions) {
  const { prefix, cursor, limit } = checkListOptions(options, DRIVER_NAME);
  const res = await client.request<string>({
    operation: 'ListBlobs',
    container,
    query: {
      restype: 'container',
      comp: 'list',
      prefix: prefix || undefined,
      maxresults: Math.min(limit ?? MAX_RESULTS, MAX_RESULTS),
      marker: cursor,
      include: 'metadata',
    },
    responseType: 'text',
  });
  const result = enumeration(parseXmlOrThrow(res.body, res.requestId), 'ListBlobs');
  const entries = xmlList<BlobEntry>(typeof result.Blobs === 'object' ? result.Blobs.Blob : undefined);
  const names = [...res.body.matchAll(RAW_BLOB_NAME)].map((m) => rawName(m[2]!, m[1] !== undefined));
  if (names.length !== entries.length) {
    throw new MalformedResponseError('ListBlobs: could not read every blob name', { provider: DRIVER_NAME, requestId: res.requestId });
  }
  const objects = entries.map((entry, i) => toObjectFromEntry(container, names[i]!, entry));
  return { objects, nextCursor: result.NextMarker || null };
}

function enumeration(body: Record<string, EnumerationResults | undefined> | undefined, operation: string): EnumerationResults {
  const result = body?.['EnumerationResults'];
  if (!result || typeof result !== 'object') throw new MalformedResponseError(`${operation}: no EnumerationResults`, { provider: DRIVER_NAME });
  return result;
}

function parseXmlOrThrow(text: string, requestId: string | undefined): Record<string, EnumerationResults | undefined> {
  try {
    return parseXml(text, XML_ARRAYS) as Record<string, EnumerationResults | undefined>;
  } catch (err) {
    throw new MalformedResponseError('ListBlobs: the response is not valid XML', { provider: DRIVER_NAME, requestId, cause: err });
  }
}

/** A name as sent: XML-escaped, or percent-encoded with `Encoded="true"` when XML cannot carry it. */
function rawName(text: string, encoded: boolean): string {
  const decoded = decodeXmlEntities(text);
  if (!encoded) return decoded;
  try {
    return decodeURIComponent(decoded);
  } catch {
    throw new MalformedResponseError('ListBlobs: an encoded blob name is not valid percent-encoding', { provider: DRIVER_NAME });
  }
}

function invalid(message: string, field: string): InvalidInputError {
  return new InvalidInputError(message, { provider: DRIVER_NAME, field });
}

function checkExpiry(seconds: unknown): void {
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_SAS_SECONDS) {
    throw invalid(`expiresInSeconds must be an integer from 1 to ${MAX_SAS_SECONDS}`, 'expiresInSeconds');
  }
}
