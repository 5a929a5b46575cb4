/**
 * A Google OAuth 2.0 token endpoint on the replay server: checks the grant type and the RS256
 * JWT assertion (signature against the service account's public key; iss, scope, aud, iat, exp),
 * issues opaque access tokens and says whether a bearer token is one it issued and has not
 * revoked. A refused signature is answered like Google does (400 invalid_grant) without being a
 * test failure; a malformed request or wrong claims is also a failure.
 *
 * https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 */
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import type { ReplayRequest, ReplayServer } from '../replay-server.ts';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const TEST_PROJECT = 'skygraph-test';
export const TEST_CLIENT_EMAIL = 'skygraph-ci@skygraph-test.iam.gserviceaccount.com';
export const TEST_KEY_ID = '3f1b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d';

/** A freshly generated service account: its key JSON (for the driver) and public key (for the server). */
export interface TestServiceAccount {
  json: string;
  privateKeyPem: string;
  publicKey: KeyObject;
}

let shared: { privateKeyPem: string; publicKey: KeyObject } | undefined;

/** A service-account key whose token_uri is `tokenUri`; the RSA key pair is made once per test file. */
export function testServiceAccount(tokenUri: string, overrides: Record<string, unknown> = {}): TestServiceAccount {
  shared ??= (() => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
  })();
  const json = JSON.stringify({
    type: 'service_account',
    project_id: TEST_PROJECT,
    private_key_id: TEST_KEY_ID,
    private_key: shared.privateKeyPem,
    client_email: TEST_CLIENT_EMAIL,
    client_id: '113390255123456789012',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenUri,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(TEST_CLIENT_EMAIL)}`,
    universe_domain: 'googleapis.com',
    ...overrides,
  });
  return { json, privateKeyPem: shared.privateKeyPem, publicKey: shared.publicKey };
}

/** What the token endpoint saw and issued. */
export interface TokenEndpoint {
  /** `<server>/token` */
  uri: string;
  /** claims of every accepted assertion */
  grants: Record<string, unknown>[];
  /** true when `authorization` is `Bearer <a live token this endpoint issued>` */
  authorized(authorization: string | undefined): boolean;
  /** every token issued so far stops working (the next API call gets 401) */
  revokeAll(): void;
  /** how many tokens were issued */
  readonly issued: number;
  /** issues a token without a grant (for accounts configured with credentials.accessToken) */
  mint(): string;
  /** tokens' lifetime in seconds (expires_in), default 3599 */
  expiresIn: number;
}

export function installTokenEndpoint(replay: ReplayServer, opts: { publicKey: KeyObject; scope: string; clientEmail?: string }): TokenEndpoint {
  const uri = `${replay.url}/token`;
  const clientEmail = opts.clientEmail ?? TEST_CLIENT_EMAIL;
  const live = new Map<string, number>();
  const grants: Record<string, unknown>[] = [];
  let issued = 0;
  const endpoint: TokenEndpoint = {
    uri,
    grants,
    authorized(authorization) {
      const m = /^Bearer (\S+)$/.exec(authorization ?? '');
      const expires = m ? live.get(m[1]!) : undefined;
      return expires !== undefined && expires > Date.now();
    },
    revokeAll: () => live.clear(),
    mint() {
      const token = `ya29.a0-skygraph-${randomBytes(24).toString('base64url')}`;
      live.set(token, Date.now() + endpoint.expiresIn * 1000);
      return token;
    },
    get issued() {
      return issued;
    },
    expiresIn: 3599,
  };
  const oauthError = (status: number, error: string, description: string) => ({
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ error, error_description: description }),
  });

  replay.route({
    method: 'POST',
    path: '/token',
    check(req) {
      if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) throw new Error('token request must be form-encoded');
      if (req.headers.authorization) throw new Error('a token request carries no Authorization header');
      const keys = [...req.form.keys()].sort();
      if (keys.join(',') !== 'assertion,grant_type') throw new Error(`token request form must hold grant_type and assertion, got ${keys.join(',')}`);
      if (req.form.get('grant_type') !== JWT_BEARER_GRANT) throw new Error(`grant_type must be ${JWT_BEARER_GRANT}`);
    },
    body(req: ReplayRequest) {
      const parts = (req.form.get('assertion') ?? '').split('.');
      if (parts.length !== 3) return oauthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
      const [h, c, s] = parts as [string, string, string];
      const header = decode(h);
      if (header?.alg !== 'RS256' || header.typ !== 'JWT') replay.failures.push(`token: JWT header must be {"alg":"RS256","typ":"JWT"}, got ${JSON.stringify(header)}`);
      if (!verify('sha256', Buffer.from(`${h}.${c}`), opts.publicKey, Buffer.from(s, 'base64url'))) {
        return oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
      }
      const claims = decode(c) ?? {};
      const now = Math.floor(Date.now() / 1000);
      const problems: string[] = [];
      if (claims.iss !== clientEmail) problems.push('iss must be the client_email');
      if (claims.aud !== uri) problems.push('aud must be the token_uri');
      if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(opts.scope)) problems.push(`scope must include ${opts.scope}`);
      const { iat, exp } = claims;
      if (typeof iat !== 'number' || typeof exp !== 'number') problems.push('iat and exp must be numbers');
      else {
        if (Math.abs(iat - now) > 300) problems.push('iat must be now');
        if (exp <= iat || exp - iat > 3600) problems.push('exp must be at most an hour after iat');
      }
      const extra = Object.keys(claims).filter((k) => !['iss', 'scope', 'aud', 'iat', 'exp'].includes(k));
      if (extra.length) problems.push(`unexpected claims ${extra.join(', ')}`);
      if (problems.length) {
        replay.failures.push(`token: ${problems.join('; ')}`);
        return oauthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
      }
      grants.push(claims);
      issued++;
      const token = `ya29.c.skygraph-${randomBytes(24).toString('base64url')}`;
      live.set(token, Date.now() + endpoint.expiresIn * 1000);
      return {
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ access_token: token, expires_in: endpoint.expiresIn, token_type: 'Bearer' }),
      };
    },
  });
  return endpoint;
}

// --- Internal helpers ---

function decode(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
