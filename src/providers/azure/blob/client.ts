/**
 * Azure Blob addressing and transport: where a container or blob lives (below the account's
 * blob endpoint, `https://<account>.blob.core.windows.net` or an emulator's path-style
 * `http://127.0.0.1:10000/<account>`), one Shared Key signed connection, and service SAS URLs
 * for the same addresses.
 *
 * https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata
 */
import { InvalidInputError } from '../../errors.ts';
import { createConnection, type ConnectionDefaults, type HttpResponse, type RequestOptions } from '../../http/connection.ts';
import { encodeRfc3986 } from '../../http/serialize.ts';
import { azureSharedKeySigner, serviceSasQuery, type AzureSharedKeyCredentials } from '../../http/signers/azure-shared-key.ts';
import { DRIVER_NAME, parseAzureBlobError } from './errors.ts';

/** How the client reaches the service. */
export interface AzureBlobClientOptions {
  /** the blob service endpoint, base path included for emulators */
  endpoint: URL;
  credentials: AzureSharedKeyCredentials;
  recordCall: (operation: string) => void;
  now: () => Date;
  /** DriverContext.http: connection defaults (the account's connection slots, test retries) */
  http?: ConnectionDefaults | undefined;
}

/** A request addressed to a container (and blob), or to the service when `container` is absent. */
export interface BlobRequest extends Omit<RequestOptions, 'path'> {
  container?: string;
  blob?: string;
}

/** Signed requests and SAS URLs for one storage account. */
export interface AzureBlobClient {
  request<T = unknown>(req: BlobRequest): Promise<HttpResponse<T>>;
  /** a service SAS URL for the blob, and when it stops working */
  sasUrl(container: string, blob: string, permissions: string, expiresIn: number): { url: URL; expiresAt: Date };
  close(): Promise<void>;
}

const MAX_BLOB_NAME = 1024;
/** 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit; or `$root`/`$web` */
const CONTAINER_NAME = /^(?:(?=.{3,63}$)[a-z0-9](?:-?[a-z0-9])*|\$root|\$web)$/;

export function createAzureBlobClient(opts: AzureBlobClientOptions): AzureBlobClient {
  const conn = createConnection({
    provider: DRIVER_NAME,
    baseUrl: opts.endpoint.href,
    signer: azureSharedKeySigner(() => opts.credentials),
    recordCall: opts.recordCall,
    parseError: parseAzureBlobError,
    requestIdHeaders: ['x-ms-request-id'],
    now: opts.now,
    defaults: opts.http,
  });
  return {
    request<T>(req: BlobRequest) {
      const { container, blob, ...rest } = req;
      return conn.request<T>({ ...rest, path: resourcePath(container, blob) });
    },
    sasUrl(container, blob, permissions, expiresIn) {
      const now = opts.now();
      const expiresAt = new Date(now.getTime() + expiresIn * 1000);
      const url = new URL(opts.endpoint.href);
      url.pathname = `${url.pathname.replace(/\/+$/, '')}/${resourcePath(container, blob)}`;
      url.search = serviceSasQuery({
        ...opts.credentials,
        container,
        blob,
        permissions,
        expiry: expiresAt,
        protocol: url.protocol === 'https:' ? 'https' : 'https,http',
      }).toString();
      return { url, expiresAt };
    },
    close: () => conn.close(),
  };
}

/** Throws InvalidInputError (field `container`) unless `name` is a valid container name. */
export function checkContainerName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !CONTAINER_NAME.test(name)) {
    throw new InvalidInputError('container names are 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit', {
      provider: DRIVER_NAME,
      field: 'container',
    });
  }
}

/** Throws InvalidInputError (field `name`) unless `name` is a blob name this driver can address. */
export function checkBlobName(name: unknown): asserts name is string {
  const fail = (why: string) => new InvalidInputError(`object name ${why}`, { provider: DRIVER_NAME, field: 'name' });
  if (typeof name !== 'string' || name === '') throw fail('must not be empty');
  if (name.length > MAX_BLOB_NAME) throw fail(`must be at most ${MAX_BLOB_NAME} characters`);
  // why: URLs resolve dot segments (even percent-encoded ones), so such a name cannot be addressed reliably
  if (name.split('/').some((segment) => segment === '.' || segment === '..')) throw fail('must not contain "." or ".." between slashes');
  if ([...name].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f')) throw fail('must not contain control characters');
}

// --- Internal helpers ---

function resourcePath(container: string | undefined, blob: string | undefined): string {
  if (container === undefined) return '';
  checkContainerName(container);
  if (blob === undefined) return encodeRfc3986(container);
  checkBlobName(blob);
  return `${encodeRfc3986(container)}/${blob.split('/').map(encodeRfc3986).join('/')}`;
}
