/** Wire-level request shape shared by the connection layer and the signers. */

/**
 * One outgoing HTTP request, after serialisation and before sending. Signers receive it and
 * return a (new) signed copy; header names are lower-case.
 */
export interface HttpRequest {
  method: string;
  /** absolute URL, query included */
  url: URL;
  headers: Record<string, string>;
  /** async iterables are streamed as they are; signers must not consume them */
  body?: string | Uint8Array | AsyncIterable<Uint8Array> | null;
}

/** The 401 a signer is shown: its status and headers (lower-case names; `www-authenticate` holds the challenges). */
export interface UnauthorizedResponse {
  status: number;
  headers: Record<string, string>;
}

/**
 * What the connection does after `onUnauthorized`: `retry` re-signs and retries once (the default
 * when the signer returns nothing); `stale` re-signs and retries without spending that one retry,
 * because the credentials were accepted but a server nonce expired (at most MAX_STALE_RETRIES per
 * request); `fail` gives up at once with the AuthenticationError.
 */
export type UnauthorizedVerdict = 'retry' | 'stale' | 'fail';

/** Auth scheme. Pure and deterministic given ctx.now; re-run on every retry. */
export interface Signer {
  sign(req: HttpRequest, ctx: { now: Date }): Promise<HttpRequest>;
  /**
   * Called on a 401 before the request is re-signed and retried (token-based auth drops its cached
   * token here; challenge-response auth such as Digest reads `res.headers['www-authenticate']`).
   * Streamed bodies are never retried.
   */
  onUnauthorized?(res?: UnauthorizedResponse): void | UnauthorizedVerdict | Promise<void | UnauthorizedVerdict>;
}
