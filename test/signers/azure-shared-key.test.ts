/**
 * Azure Shared Key: each stage against the examples in Microsoft's "Authorize with Shared Key"
 * page (canonicalized resource and StringToSign), the HMAC against an independent implementation
 * (the openssl CLI, as the emulator notes' azcurl.sh does), and the service SAS layout. The
 * signatures themselves are verified by a real service in test/providers/azure-blob.test.ts
 * (Azurite checks both Shared Key and SAS). Microsoft publishes no key with a resulting
 * signature, so there is no end-to-end vector to compare against.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  canonicalizedHeaders,
  canonicalizedResource,
  hmacSha256Base64,
  serviceSasQuery,
  serviceSasStringToSign,
  sharedKeyStringToSign,
  azureSharedKeySigner,
} from '../../src/providers/http/signers/azure-shared-key.ts';

const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

describe('signers: azure shared key', () => {
  it('canonicalizes the resource as the documented examples do', () => {
    // "Shared Key format for 2009-09-19 and later", Constructing the canonicalized resource string
    expect(canonicalizedResource(new URL('https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=metadata'), 'myaccount')).toBe(
      '/myaccount/mycontainer\ncomp:metadata\nrestype:container',
    );
    expect(
      canonicalizedResource(
        new URL('https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=list&include=snapshots&include=metadata&include=uncommittedblobs'),
        'myaccount',
      ),
    ).toBe('/myaccount/mycontainer\ncomp:list\ninclude:metadata,snapshots,uncommittedblobs\nrestype:container');
    // the service itself (List Containers): the path is "/"
    expect(canonicalizedResource(new URL('https://myaccount.blob.core.windows.net/?comp=list'), 'myaccount')).toBe('/myaccount/\ncomp:list');
    // emulator (path-style) URLs name the account twice
    expect(canonicalizedResource(new URL('http://127.0.0.1:10000/devstoreaccount1/mycontainer/a%20b.txt'), 'devstoreaccount1')).toBe(
      '/devstoreaccount1/devstoreaccount1/mycontainer/a%20b.txt',
    );
    // query values are decoded and names lower-cased
    expect(canonicalizedResource(new URL('https://a.blob.core.windows.net/c?Prefix=d%2Fe&comp=list'), 'a')).toBe('/a/c\ncomp:list\nprefix:d/e');
  });

  it('builds the documented StringToSign for Get Container Metadata', () => {
    // the page's example: GET, no standard headers, two x-ms- headers, the resource with timeout
    const req = {
      method: 'GET',
      url: new URL('http://127.0.0.1:10000/myaccount/mycontainer?restype=container&comp=metadata&timeout=20'),
      headers: { 'x-ms-version': '2009-09-19', 'x-ms-date': 'Sun, 11 Oct 2009 21:49:13 GMT' },
    };
    expect(sharedKeyStringToSign(req, 'myaccount')).toBe(
      'GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n/myaccount/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20',
    );
  });

  it('puts the standard headers in their slots, with Content-Length empty when zero', () => {
    const base = { method: 'put', url: new URL('https://a.blob.core.windows.net/c/b') };
    const headers = {
      'Content-Type': 'text/plain',
      'content-md5': 'Q2hlY2sgSW50ZWdyaXR5IQ==',
      'content-length': '11',
      range: 'bytes=0-9',
      'if-match': '"0x1"',
      'x-ms-blob-type': 'BlockBlob',
      'X-Ms-Meta-Colour': '  two   words ',
      accept: 'application/xml',
    };
    expect(sharedKeyStringToSign({ ...base, headers }, 'a')).toBe(
      'PUT\n\n\n11\nQ2hlY2sgSW50ZWdyaXR5IQ==\ntext/plain\n\n\n"0x1"\n\n\nbytes=0-9\nx-ms-blob-type:BlockBlob\nx-ms-meta-colour:two words\n/a/c/b',
    );
    expect(sharedKeyStringToSign({ ...base, headers: { 'content-length': '0' } }, 'a')).toBe('PUT\n\n\n\n\n\n\n\n\n\n\n\n/a/c/b');
    expect(canonicalizedHeaders({ 'x-ms-version': 'v', 'x-ms-date': 'd', 'x-ms-blob-type': 'BlockBlob' })).toBe('x-ms-blob-type:BlockBlob\nx-ms-date:d\nx-ms-version:v\n');
  });

  it('computes the HMAC as openssl does', () => {
    const text = 'GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n/myaccount/myaccount/mycontainer\ncomp:metadata';
    const hexKey = Buffer.from(KEY, 'base64').toString('hex');
    const viaOpenssl = execFileSync('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${hexKey}`, '-binary'], { input: text }).toString('base64');
    expect(hmacSha256Base64(KEY, text)).toBe(viaOpenssl);
  });

  it('signs with x-ms-date from the clock, a default x-ms-version, and SharedKey <account>:<signature>', async () => {
    const signer = azureSharedKeySigner(() => ({ accountName: 'devstoreaccount1', accountKey: KEY }));
    const now = new Date('2026-03-01T12:00:00Z');
    const req = { method: 'GET', url: new URL('http://127.0.0.1:10000/devstoreaccount1?comp=list'), headers: { 'user-agent': 'skygraph' } };
    const signed = await signer.sign(req, { now });
    expect(signed.headers['x-ms-date']).toBe('Sun, 01 Mar 2026 12:00:00 GMT');
    expect(signed.headers['x-ms-version']).toBe('2021-08-06');
    const expected = hmacSha256Base64(KEY, sharedKeyStringToSign(signed, 'devstoreaccount1'));
    expect(signed.headers.authorization).toBe(`SharedKey devstoreaccount1:${expected}`);
    expect(req.headers).toEqual({ 'user-agent': 'skygraph' });
  });

  it('refuses a key that is not base64 instead of signing with garbage', () => {
    let caught: unknown;
    try {
      hmacSha256Base64('not base64!', 'x');
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'INVALID_INPUT', field: 'credentials.accountKey' });
  });
});

describe('signers: azure service SAS', () => {
  const input = {
    accountName: 'myaccount',
    container: 'pictures',
    blob: 'profile.jpg',
    permissions: 'r',
    start: new Date('2026-02-09T00:00:00Z'),
    expiry: new Date('2026-02-10T00:00:00.500Z'),
  };

  it('lays out the 2020-12-06+ StringToSign: sixteen lines in the documented order', () => {
    const text = serviceSasStringToSign(input);
    expect(text.split('\n')).toEqual([
      'r',
      '2026-02-09T00:00:00Z',
      '2026-02-10T00:00:00Z',
      '/blob/myaccount/pictures/profile.jpg',
      '',
      '',
      'https,http',
      '2021-08-06',
      'b',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
    ]);
    const { blob: _blob, ...containerOnly } = input;
    expect(serviceSasStringToSign(containerOnly).split('\n')[3]).toBe('/blob/myaccount/pictures');
    expect(serviceSasStringToSign(containerOnly).split('\n')[8]).toBe('c');
  });

  it('gives the query parameters with the signature over that string', () => {
    const query = serviceSasQuery({ ...input, accountKey: KEY, protocol: 'https' });
    expect([...query.keys()]).toEqual(['sv', 'st', 'se', 'sr', 'sp', 'spr', 'sig']);
    expect(query.get('se')).toBe('2026-02-10T00:00:00Z');
    expect(query.get('spr')).toBe('https');
    expect(query.get('sig')).toBe(hmacSha256Base64(KEY, serviceSasStringToSign({ ...input, protocol: 'https' })));
  });
});
