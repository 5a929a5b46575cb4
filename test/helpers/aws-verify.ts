/**
 * Server-side check of AWS SigV4 header-form signatures, for the recorded-response servers
 * (EC2, ELB, S3) that must refuse requests a real endpoint would refuse.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  UNSIGNED_PAYLOAD,
  canonicalRequest,
  credentialScope,
  signature,
  signingKey,
  stringToSign,
} from '../../src/providers/http/signers/aws-v4.ts';

/** A received request, as the server saw it. */
export interface SignedRequestToVerify {
  method: string;
  /** the path as received (still percent-encoded), without the query */
  path: string;
  query: URLSearchParams;
  /** header names lower-case (as node gives them); repeated headers as arrays */
  headers: Record<string, string | readonly string[] | undefined>;
  /** hex SHA-256 of the received body */
  bodySha256Hex: string;
}

export type AwsVerifyResult = { ok: true; accessKeyId: string } | { ok: false; reason: string };

/** Extra checks beyond the signature. */
export interface AwsVerifyOptions {
  /** refuse other regions */
  region?: string | undefined;
  /** refuse other signing names */
  service?: string | undefined;
  /** allowed clock skew; AWS allows 15 minutes */
  maxSkewSeconds?: number | undefined;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;._-]+),\s*Signature=([0-9a-f]{64})$/;

/**
 * Verifies a header-form SigV4 request. `now`, when given, also checks the clock skew.
 * Reasons never contain the secret or the expected signature.
 */
export function verifyAwsV4(
  request: SignedRequestToVerify,
  lookupSecret: (accessKeyId: string) => string | undefined,
  now?: Date,
  opts: AwsVerifyOptions = {},
): AwsVerifyResult {
  const authorization = single(request.headers['authorization']);
  if (authorization === undefined) return fail('missing Authorization header');
  const m = AUTH.exec(authorization.trim());
  if (!m) return fail('malformed Authorization header');
  const [, accessKeyId, dateStamp, region, service, signedList, givenSignature] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];

  if (opts.region !== undefined && region !== opts.region) return fail(`credential scope region ${region} is not ${opts.region}`);
  if (opts.service !== undefined && service !== opts.service) return fail(`credential scope service ${service} is not ${opts.service}`);

  const secret = lookupSecret(accessKeyId);
  if (secret === undefined) return fail('unknown access key id');

  const amzDate = single(request.headers['x-amz-date']);
  if (amzDate === undefined || !/^\d{8}T\d{6}Z$/.test(amzDate)) return fail('missing or malformed X-Amz-Date');
  if (amzDate.slice(0, 8) !== dateStamp) return fail('credential scope date does not match X-Amz-Date');
  if (now) {
    const at = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13)}`);
    const skew = Math.abs(now.getTime() - at) / 1000;
    if (skew > (opts.maxSkewSeconds ?? 900)) return fail('request time too skewed');
  }

  const contentSha = single(request.headers['x-amz-content-sha256']);
  if (service === 's3' && contentSha === undefined) return fail('missing x-amz-content-sha256');

  const signed = signedList.split(';');
  const sorted = [...signed].sort();
  if (signed.some((name, i) => name !== sorted[i])) return fail('SignedHeaders is not sorted');
  if (!signed.includes('host')) return fail('host is not signed');
  if (!signed.includes('x-amz-date')) return fail('x-amz-date is not signed');
  const headers: Record<string, string | readonly string[]> = {};
  for (const name of signed) {
    const value = request.headers[name];
    if (value === undefined) return fail(`signed header ${name} is missing`);
    headers[name] = value;
  }

  if (contentSha !== undefined && contentSha !== UNSIGNED_PAYLOAD && contentSha !== request.bodySha256Hex) {
    return fail('x-amz-content-sha256 does not match the body');
  }
  const payloadHash = contentSha ?? request.bodySha256Hex;

  const creq = canonicalRequest({
    method: request.method,
    path: request.path,
    query: request.query,
    headers,
    signedHeaders: signed,
    payloadHash,
    service,
  });
  const scope = credentialScope(dateStamp, region, service);
  const expected = signature(signingKey(secret, dateStamp, region, service), stringToSign(creq, amzDate, scope));
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(givenSignature))) return fail('signature mismatch');
  return { ok: true, accessKeyId };
}

/** {@link verifyAwsV4} for a node:http request whose body was read into `body`. */
export function verifyNodeRequest(
  req: IncomingMessage,
  body: Uint8Array,
  lookupSecret: (accessKeyId: string) => string | undefined,
  now?: Date,
  opts?: AwsVerifyOptions,
): AwsVerifyResult {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  return verifyAwsV4(
    {
      method: req.method ?? 'GET',
      path: q === -1 ? target : target.slice(0, q),
      query: new URLSearchParams(q === -1 ? '' : target.slice(q + 1)),
      headers: req.headersDistinct,
      bodySha256Hex: createHash('sha256').update(body).digest('hex'),
    },
    lookupSecret,
    now,
    opts,
  );
}

// --- Internal helpers ---

function single(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

function fail(reason: string): AwsVerifyResult {
  return { ok: false, reason };
}
