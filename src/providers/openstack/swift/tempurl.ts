/**
 * Swift TempURLs (the tempurl middleware): `temp_url_sig` = hex HMAC of
 * "<METHOD>\n<expires>\n<path>" with the account's temp-url key; SHA-256 by default, SHA-1 for
 * older clusters.
 */
import { createHmac } from 'node:crypto';

export type TempUrlDigest = 'sha1' | 'sha256';

export interface TempUrlInput {
  method: 'GET' | 'PUT' | 'HEAD' | 'DELETE' | 'POST';
  /** the object URL (storage URL + /container/object, percent-encoded) */
  objectUrl: URL;
  /** unix seconds */
  expires: number;
  key: string;
  digest: TempUrlDigest;
}

/** The object URL with temp_url_sig and temp_url_expires. */
export function signTempUrl(input: TempUrlInput): URL {
  // why: the middleware signs the decoded PATH_INFO, not the percent-encoded form
  const path = decodeURIComponent(input.objectUrl.pathname);
  const sig = createHmac(input.digest, input.key).update(`${input.method}\n${input.expires}\n${path}`).digest('hex');
  const url = new URL(input.objectUrl);
  url.search = `temp_url_sig=${sig}&temp_url_expires=${input.expires}`;
  return url;
}
