/**
 * HTTP Digest access authentication (RFC 7616): MD5, SHA-256 and SHA-512-256, each also as
 * `-sess`; qop `auth` (and `auth-int` for bodies held in memory); userhash; RFC 2069 challenges
 * without qop. The first request goes out without credentials and the 401's challenge is answered
 * once; later requests reuse that challenge preemptively with a growing nonce count, so a steady
 * stream of requests costs no 401 round trips. A `stale=true` 401 is answered with the new nonce
 * without counting as refused credentials (UnauthorizedVerdict 'stale'). One signer per connection:
 * the challenge it keeps belongs to that connection's origin. `Authentication-Info: nextnonce` is
 * not read (the signer never sees successful responses); the server's next stale 401 moves it on.
 *
 * https://www.rfc-editor.org/rfc/rfc7616
 */
import { createHash, randomBytes } from 'node:crypto';
import { AuthenticationError } from '../../errors.ts';
import type { HttpRequest, Signer, UnauthorizedResponse, UnauthorizedVerdict } from '../types.ts';

/** A username and its password. */
export interface DigestCredentials {
  username: string;
  password: string;
}

/** One `Digest` challenge of a WWW-Authenticate header. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque: string | undefined;
  /** upper-case, e.g. `SHA-256-SESS`; `MD5` when the challenge names none */
  algorithm: string;
  /** whether the challenge named the algorithm (a response echoes it only then) */
  algorithmGiven: boolean;
  /** offered qop values, lower-case; empty for an RFC 2069 challenge */
  qop: string[];
  stale: boolean;
  userhash: boolean;
}

/** Inputs of one Authorization header. */
export interface DigestInput {
  method: string;
  /** the request-target as sent: path and query */
  uri: string;
  cnonce: string;
  /** the nonce count, from 1 */
  nc: number;
  /** the request body, for qop=auth-int */
  body?: string | Uint8Array | null | undefined;
}

/** Test seams. */
export interface DigestSignerOptions {
  /** client nonce source; default 16 random bytes as hex */
  cnonce?: () => string;
  /** used as the provider of AuthenticationErrors */
  provider?: string;
}

/** The signer, plus what it holds for tests and diagnostics (never the password). */
export interface DigestSigner extends Signer {
  /** the challenge being answered preemptively, and the nonce count last sent for it */
  readonly current: { challenge: DigestChallenge; nc: number } | undefined;
}

/** Supported algorithms, strongest first; `-sess` ranks with its base. */
const HASHES: Readonly<Record<string, string>> = { 'SHA-512-256': 'sha512-256', 'SHA-256': 'sha256', MD5: 'md5' };
const RANK = Object.keys(HASHES);

export function digestSigner(credentials: () => DigestCredentials, opts: DigestSignerOptions = {}): DigestSigner {
  const newCnonce = opts.cnonce ?? (() => randomBytes(16).toString('hex'));
  let state: { challenge: DigestChallenge; cnonce: string; nc: number } | undefined;
  return {
    get current() {
      return state ? { challenge: state.challenge, nc: state.nc } : undefined;
    },
    async sign(req: HttpRequest): Promise<HttpRequest> {
      // why: without a challenge there is nothing to answer; the 401 brings one
      if (!state) return req;
      if (isAsyncIterable(req.body) && chooseQop(state.challenge) === 'auth-int') {
        throw new AuthenticationError('Digest qop=auth-int needs the request body in memory; a streamed body cannot be hashed first', { provider: opts.provider });
      }
      // why: the count is taken synchronously, so concurrent requests never send the same nc
      state.nc += 1;
      const value = digestAuthorization(state.challenge, credentials(), {
        method: req.method,
        uri: `${req.url.pathname}${req.url.search}`,
        cnonce: state.cnonce,
        nc: state.nc,
        body: isAsyncIterable(req.body) ? undefined : req.body,
      });
      return { ...req, headers: { ...req.headers, authorization: value } };
    },
    onUnauthorized(res?: UnauthorizedResponse): UnauthorizedVerdict {
      const challenge = pickChallenge(parseDigestChallenges(res?.headers['www-authenticate'] ?? ''));
      // why: no Digest challenge we can answer means retrying cannot help
      if (!challenge) return 'fail';
      const answered = state !== undefined;
      state = { challenge, cnonce: newCnonce(), nc: 0 };
      return answered && challenge.stale ? 'stale' : 'retry';
    },
  };
}

/** Every `Digest` challenge in a WWW-Authenticate value (other schemes skipped, repeated headers joined by commas). */
export function parseDigestChallenges(header: string): DigestChallenge[] {
  const out: DigestChallenge[] = [];
  for (const { scheme, params } of parseChallenges(header)) {
    if (scheme.toLowerCase() !== 'digest') continue;
    const { realm, nonce } = params;
    if (realm === undefined || nonce === undefined) continue;
    out.push({
      realm,
      nonce,
      opaque: params.opaque,
      algorithm: (params.algorithm ?? 'MD5').toUpperCase(),
      algorithmGiven: params.algorithm !== undefined,
      qop: (params.qop ?? '').split(',').map((q) => q.trim().toLowerCase()).filter(Boolean),
      stale: (params.stale ?? '').toLowerCase() === 'true',
      userhash: (params.userhash ?? '').toLowerCase() === 'true',
    });
  }
  return out;
}

/** The strongest challenge with a supported algorithm and qop, or undefined. */
export function pickChallenge(challenges: readonly DigestChallenge[]): DigestChallenge | undefined {
  const usable = challenges.filter((c) => hashOf(c.algorithm) !== undefined && (c.qop.length === 0 || c.qop.includes('auth') || c.qop.includes('auth-int')));
  return usable.sort((a, b) => RANK.indexOf(baseAlgorithm(a.algorithm)) - RANK.indexOf(baseAlgorithm(b.algorithm)))[0];
}

/** The `response` value (RFC 7616 section 3.4.1). */
export function digestResponse(challenge: DigestChallenge, creds: DigestCredentials, input: DigestInput, qop: string | undefined): string {
  const hash = hashOf(challenge.algorithm);
  if (!hash) throw new AuthenticationError(`Digest algorithm ${challenge.algorithm} is not supported`);
  const H = (data: string | Uint8Array) => createHash(hash).update(data).digest('hex');
  let ha1 = H(`${creds.username}:${challenge.realm}:${creds.password}`);
  // RFC 7616 section 3.4.2: the -sess variants fold the nonces into A1
  if (challenge.algorithm.endsWith('-SESS')) ha1 = H(`${ha1}:${challenge.nonce}:${input.cnonce}`);
  const a2 = qop === 'auth-int' ? `${input.method}:${input.uri}:${H(input.body ?? '')}` : `${input.method}:${input.uri}`;
  const ha2 = H(a2);
  if (qop === undefined) return H(`${ha1}:${challenge.nonce}:${ha2}`);
  return H(`${ha1}:${challenge.nonce}:${formatNc(input.nc)}:${input.cnonce}:${qop}:${ha2}`);
}

/** The Authorization header value answering `challenge` (RFC 7616 section 3.4). */
export function digestAuthorization(challenge: DigestChallenge, creds: DigestCredentials, input: DigestInput): string {
  const qop = chooseQop(challenge);
  const hash = hashOf(challenge.algorithm);
  const parts: string[] = [];
  if (challenge.userhash && hash) {
    parts.push(`username=${quote(createHash(hash).update(`${creds.username}:${challenge.realm}`).digest('hex'))}`);
  } else if (/^[\x20-\x7e]*$/.test(creds.username)) {
    parts.push(`username=${quote(creds.username)}`);
  } else {
    // RFC 7616 section 3.4.4: a username outside ASCII goes as an RFC 5987 extended value
    parts.push(`username*=UTF-8''${encodeRfc5987(creds.username)}`);
  }
  parts.push(`realm=${quote(challenge.realm)}`, `uri=${quote(input.uri)}`);
  if (challenge.algorithmGiven) parts.push(`algorithm=${challenge.algorithm}`);
  parts.push(`nonce=${quote(challenge.nonce)}`);
  if (qop) parts.push(`nc=${formatNc(input.nc)}`, `cnonce=${quote(input.cnonce)}`, `qop=${qop}`);
  parts.push(`response=${quote(digestResponse(challenge, creds, input, qop))}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (challenge.userhash) parts.push('userhash=true');
  return `Digest ${parts.join(', ')}`;
}

// --- Internal helpers ---

function baseAlgorithm(algorithm: string): string {
  return algorithm.replace(/-SESS$/, '');
}

function hashOf(algorithm: string): string | undefined {
  return HASHES[baseAlgorithm(algorithm)];
}

/** `auth` when offered, else `auth-int`; none for an RFC 2069 challenge. */
function chooseQop(challenge: DigestChallenge): 'auth' | 'auth-int' | undefined {
  if (challenge.qop.length === 0) return undefined;
  return challenge.qop.includes('auth') ? 'auth' : 'auth-int';
}

function formatNc(nc: number): string {
  return nc.toString(16).padStart(8, '0');
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function isAsyncIterable(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * RFC 9110 section 11.6.1 challenges: `scheme param=value, param="quoted", Other ...`. A token
 * followed by `=` is a parameter of the current challenge; any other token starts a new one.
 */
function parseChallenges(header: string): { scheme: string; params: Record<string, string> }[] {
  const out: { scheme: string; params: Record<string, string> }[] = [];
  let current: { scheme: string; params: Record<string, string> } | undefined;
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < header.length && chars.test(header[i]!)) i++;
  };
  while (i < header.length) {
    skip(/[\s,]/);
    const start = i;
    while (i < header.length && TCHAR.test(header[i]!)) i++;
    const token = header.slice(start, i);
    if (!token) {
      i++;
      continue;
    }
    skip(/[ \t]/);
    if (header[i] === '=' && current) {
      i++;
      skip(/[ \t]/);
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < header.length) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const from = i;
        while (i < header.length && header[i] !== ',' && !/\s/.test(header[i]!)) i++;
        value = header.slice(from, i);
      }
      current.params[token.toLowerCase()] = value;
    } else {
      current = { scheme: token, params: {} };
      out.push(current);
    }
  }
  return out;
}
