/**
 * Who is calling: the one token check every entry point shares (HTTP GraphQL, SSE, graphql-ws,
 * /objects, /metrics). Tokens are compared as SHA-256 digests with timingSafeEqual, against every
 * configured token without stopping early, so neither a token's length nor its position leaks.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SCOPES, type Scope, type TokenConfig } from '../config/server.ts';

/** The caller of one request. */
export interface Principal {
  /** the token's configured name (`anonymous` when no tokens are configured) */
  name: string;
  scope: Scope;
}

export interface Authenticator {
  /** true when no tokens are configured: everyone is the `anonymous` principal with every scope */
  readonly open: boolean;
  /** the caller of an `Authorization: Bearer <token>` value; undefined when missing or wrong */
  authenticate(authorization: string | null | undefined): Principal | undefined;
}

export const ANONYMOUS: Principal = Object.freeze({ name: 'anonymous', scope: 'deploy' });

export function createAuthenticator(tokens: readonly TokenConfig[]): Authenticator {
  const known = tokens.map((t) => ({ digest: digest(t.token), principal: Object.freeze({ name: t.name, scope: t.scope }) }));
  const open = known.length === 0;
  return {
    open,
    authenticate(authorization) {
      if (open) return ANONYMOUS;
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
      // why: hash even a missing token so a request without one costs the same as a wrong one
      const given = digest(m?.[1] ?? '');
      let found: Principal | undefined;
      for (const k of known) {
        if (timingSafeEqual(given, k.digest) && m) found = k.principal;
      }
      return found;
    },
  };
}

/** True when `principal` may do what `needed` allows (deploy > write > read). */
export function hasScope(principal: Principal | undefined, needed: Scope): boolean {
  return principal !== undefined && SCOPES.indexOf(principal.scope) >= SCOPES.indexOf(needed);
}

// --- Internal helpers ---

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
