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

/** Auth scheme. Pure and deterministic given ctx.now; re-run on every retry. */
export interface Signer {
  sign(req: HttpRequest, ctx: { now: Date }): Promise<HttpRequest>;
  /** called once on a 401 before the request is re-signed and retried once (token-based auth drops its cached token here) */
  onUnauthorized?(): void | Promise<void>;
}
