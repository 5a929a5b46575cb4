/**
 * The Swift account connection: resolves the storage URL from the identity service on first use,
 * then sends every request through one connection signed with the account's token.
 */
import { ContainerNotEmptyError, InvalidInputError, NotFoundError, type SkygraphError } from '../../errors.ts';
import { createConnection, type Connection, type ConnectionDefaults, type ErrorResponseInfo, type HttpResponse, type RequestOptions } from '../../http/connection.ts';
import type { KeystoneAuth } from '../identity/index.ts';

/** What the storage driver and the uploader need from the account. */
export interface SwiftApi {
  provider: string;
  /** `path` is relative to the storage URL (`/v1/AUTH_x`), percent-encoded */
  request<T = unknown>(opts: RequestOptions): Promise<HttpResponse<T>>;
  /** the account's storage URL */
  storageUrl(): Promise<URL>;
  containerPath(container: string): string;
  objectPath(container: string, name: string): string;
  /** creates the container unless it exists */
  ensureContainer(container: string): Promise<void>;
  close(): Promise<void>;
}

export interface SwiftApiOptions {
  provider: string;
  auth: KeystoneAuth;
  /** resolves the object-store URL (catalog lookup by region/interface, or a fixed endpoint) */
  endpoint: () => Promise<string>;
  recordCall: (operation: string) => void;
  now: () => Date;
  timeoutMs?: number | undefined;
  /** DriverContext.http */
  http?: ConnectionDefaults | undefined;
}

export function createSwiftApi(opts: SwiftApiOptions): SwiftApi {
  const { provider } = opts;
  let connecting: Promise<Connection> | undefined;
  const connection = () =>
    (connecting ??= opts.endpoint().then(
      (url) =>
        createConnection({
          provider,
          baseUrl: url,
          signer: opts.auth,
          recordCall: opts.recordCall,
          now: opts.now,
          timeoutMs: opts.timeoutMs,
          parseError: swiftError(provider),
          defaults: opts.http,
        }),
      (err: unknown) => {
        connecting = undefined;
        throw err;
      },
    ));

  const containerPath = (container: string) => {
    if (!container || container.includes('/')) throw new InvalidInputError('a container name must be non-empty and hold no "/"', { provider, field: 'container' });
    return encodeURIComponent(container);
  };
  const objectPath = (container: string, name: string) => {
    if (!name) throw new InvalidInputError('an object name must be non-empty', { provider, field: 'name' });
    return `${containerPath(container)}/${name.split('/').map(encodeURIComponent).join('/')}`;
  };

  const api: SwiftApi = {
    provider,
    request: async <T>(req: RequestOptions) => (await connection()).request<T>(req),
    storageUrl: async () => (await connection()).baseUrl,
    containerPath,
    objectPath,
    async ensureContainer(container) {
      const head = await api
        .request({ operation: 'HEAD container', method: 'HEAD', path: containerPath(container), responseType: 'none' })
        .then(() => true)
        .catch((err: unknown) => {
          if (err instanceof NotFoundError) return false;
          throw err;
        });
      if (!head) await api.request({ operation: 'PUT container', method: 'PUT', path: containerPath(container), responseType: 'none' });
    },
    close: async () => {
      const conn = await connecting?.catch(() => undefined);
      await conn?.close();
    },
  };
  return api;
}

/** 409 on a container DELETE means objects remain; 416 is a range past the end. */
function swiftError(provider: string) {
  return (info: ErrorResponseInfo): SkygraphError | undefined => {
    const opts = { provider, status: info.status, requestId: info.requestId };
    if (info.status === 409 && info.operation === 'DELETE container') return new ContainerNotEmptyError(`${info.operation} 409: the container is not empty`, opts);
    if (info.status === 416) return new InvalidInputError(`${info.operation} 416: the range is outside the object`, { ...opts, field: 'range' });
    return undefined;
  };
}
