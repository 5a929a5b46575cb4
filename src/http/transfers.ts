/**
 * skygraph's own short-lived signed URLs for object transfer, for drivers whose provider has
 * no presigned URLs (local, or a token-auth store). HMAC-SHA256 over method, path and expiry.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SignedUrl {
  url: string;
  method: 'GET' | 'PUT';
  expiresAt: Date;
}

export interface Transfers {
  /** largest GraphQL multipart upload accepted (bytes) */
  readonly uploadMaxBytes: number;
  /** `origin` is the public base URL (server.publicUrl), which may end in a path prefix */
  signDownload(origin: string, objectId: string, expiresInSeconds: number): SignedUrl;
  signUpload(origin: string, containerId: string, name: string, expiresInSeconds: number): SignedUrl;
  /** true when the query carries a valid, unexpired signature for this method and path */
  verify(method: string, pathname: string, query: URLSearchParams): boolean;
}

export const MAX_URL_EXPIRY_SECONDS = 7 * 24 * 3600;

export function createTransfers(opts: { key?: string | undefined; uploadMaxBytes: number; now?: () => Date }): Transfers {
  const key = opts.key ? Buffer.from(opts.key, 'utf8') : randomBytes(32);
  const now = opts.now ?? (() => new Date());
  const mac = (method: string, pathname: string, expires: string) =>
    createHmac('sha256', key).update(`${method}\n${pathname}\n${expires}`).digest('base64url');

  const sign = (origin: string, method: 'GET' | 'PUT', pathname: string, expiresIn: number): SignedUrl => {
    const expiresAt = new Date(now().getTime() + Math.min(Math.max(1, expiresIn), MAX_URL_EXPIRY_SECONDS) * 1000);
    const expires = String(Math.floor(expiresAt.getTime() / 1000));
    // why: the public base URL may carry a path (a reverse proxy's prefix); keep it
    const url = new URL(origin.replace(/\/+$/, '') + pathname);
    url.searchParams.set('expires', expires);
    url.searchParams.set('signature', mac(method, pathname, expires));
    return { url: url.toString(), method, expiresAt };
  };

  return {
    uploadMaxBytes: opts.uploadMaxBytes,
    signDownload: (origin, objectId, expiresIn) => sign(origin, 'GET', `/objects/${objectId}`, expiresIn),
    signUpload: (origin, containerId, name, expiresIn) =>
      sign(origin, 'PUT', `/objects/${containerId}/${encodeObjectName(name)}`, expiresIn),
    verify(method, pathname, query) {
      const expires = query.get('expires');
      const signature = query.get('signature');
      if (!expires || !signature || !/^\d+$/.test(expires)) return false;
      if (Number(expires) * 1000 < now().getTime()) return false;
      // why: a HEAD is as harmless as the GET it was signed for
      const signedMethod = method === 'HEAD' ? 'GET' : method;
      const expected = Buffer.from(mac(signedMethod, pathname, expires));
      const given = Buffer.from(signature);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}

/** Object names may hold "/": encode each segment so the name survives the URL. */
export function encodeObjectName(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}
