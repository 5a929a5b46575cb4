/**
 * Bearer tokens (RFC 6750): `Authorization: Bearer <token>`. The token comes from a function so a
 * static API token (DigitalOcean, Hetzner, Linode, Vultr) and a refreshed OAuth token share it;
 * `onUnauthorized` lets a refreshing source drop a token the server refused.
 *
 * https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
import type { HttpRequest, Signer } from '../types.ts';

/** Where the token comes from: a static value, or a cache that can be told to refresh. */
export interface TokenSource {
  token(now: Date): Promise<string> | string;
  /** the server answered 401: forget the cached token so the next call fetches a new one */
  invalidate?(): void | Promise<void>;
}

export function bearerSigner(source: TokenSource): Signer {
  return {
    async sign(req: HttpRequest, ctx: { now: Date }): Promise<HttpRequest> {
      const token = await source.token(ctx.now);
      return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
    },
    ...(source.invalidate ? { onUnauthorized: () => source.invalidate!() } : {}),
  };
}

/** A token that never changes (an API token from the config). */
export function staticToken(token: string): TokenSource {
  return { token: () => token };
}
