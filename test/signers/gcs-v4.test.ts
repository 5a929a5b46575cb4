/**
 * Cloud Storage V4 signed URLs against Google's published conformance vectors
 * (googleapis/conformance-tests storage/v1/v4_signatures.json, in fixtures/gcs/v4-signing; see its
 * README for which), signed with the inactive dummy service account those vectors were made with:
 * every stage (canonical request, string to sign, URL) is compared.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signV4Url, type UrlStyle } from '../../src/providers/google/gcs/signed-url.ts';
import { REPO_ROOT } from '../helpers/replay-server.ts';

interface Vector {
  description: string;
  bucket: string;
  object?: string;
  method: string;
  expiration: number;
  timestamp: string;
  expectedUrl: string;
  expectedCanonicalRequest: string;
  expectedStringToSign: string;
  headers?: Record<string, string>;
  queryParameters?: Record<string, string>;
  scheme: string;
  urlStyle?: 'PATH_STYLE' | 'VIRTUAL_HOSTED_STYLE' | 'BUCKET_BOUND_HOSTNAME';
  bucketBoundHostname?: string;
  hostname?: string;
}

const dir = resolve(REPO_ROOT, 'fixtures/gcs/v4-signing');
const vectors = (JSON.parse(readFileSync(resolve(dir, 'v4-signatures.json'), 'utf8')) as { signingV4Tests: Vector[] }).signingV4Tests;
const account = JSON.parse(readFileSync(resolve(dir, 'service-account.json'), 'utf8')) as { client_email: string; private_key: string };
const key = createPrivateKey(account.private_key);
const STYLES: Record<string, UrlStyle> = { PATH_STYLE: 'path', VIRTUAL_HOSTED_STYLE: 'virtual-hosted', BUCKET_BOUND_HOSTNAME: 'bucket-bound' };

describe('signer: GCS V4 (GOOG4-RSA-SHA256)', () => {
  it('has the published vectors', () => {
    expect(vectors.length).toBe(21);
  });

  for (const v of vectors) {
    it(v.description, () => {
      const host = v.urlStyle === 'BUCKET_BOUND_HOSTNAME' ? v.bucketBoundHostname! : (v.hostname ?? 'storage.googleapis.com');
      const signed = signV4Url({
        method: v.method,
        bucket: v.bucket,
        object: v.object,
        expiresInSeconds: v.expiration,
        now: new Date(v.timestamp),
        clientEmail: account.client_email,
        sign: (data) => sign('sha256', Buffer.from(data), key),
        origin: `${v.scheme}://${host}`,
        urlStyle: STYLES[v.urlStyle ?? 'PATH_STYLE'],
        headers: v.headers,
        queryParameters: v.queryParameters,
      });
      expect(signed.canonicalRequest).toBe(v.expectedCanonicalRequest);
      expect(signed.stringToSign).toBe(v.expectedStringToSign);
      expect(signed.url).toBe(v.expectedUrl);
    });
  }
});
