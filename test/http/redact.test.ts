import { describe, expect, it } from 'vitest';
import { collectSecrets, redact, redactHeaders, scrubError, SECRET_HEADERS } from '../../src/providers/http/redact.ts';

describe('http: redact', () => {
  it('replaces every occurrence, including the URL-encoded form', () => {
    expect(redact('token abc/def+1 then abc%2Fdef%2B1 and abc/def+1', ['abc/def+1'])).toBe('token [REDACTED] then [REDACTED] and [REDACTED]');
    expect(redact('nothing here', ['', 'zzz'])).toBe('nothing here');
  });

  it('masks secret headers for logging', () => {
    expect(SECRET_HEADERS).toEqual(expect.arrayContaining(['authorization', 'x-auth-token', 'x-auth-key', 'x-amz-security-token', 'x-storage-token', 'cookie']));
    expect(redactHeaders({ Authorization: 'Bearer x', 'x-auth-token': 't', 'X-Api-Key': 'k', 'content-type': 'text/plain' })).toEqual({
      Authorization: '[REDACTED]',
      'x-auth-token': '[REDACTED]',
      'X-Api-Key': '[REDACTED]',
      'content-type': 'text/plain',
    });
  });

  it('collects secrets from headers, query, userinfo, form and JSON bodies', () => {
    const auth = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7';
    const secrets = collectSecrets({
      method: 'POST',
      url: new URL('http://user:pa55word@h/x?X-Amz-Security-Token=tok123456&marker=m1&temp_url_sig=abcd1234'),
      headers: { authorization: auth, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password: 'hunter22' } } } }, token: { id: 'tkn-99999' } }),
    });
    expect(secrets).toEqual(expect.arrayContaining([auth, '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7', 'tok123456', 'abcd1234', 'pa55word', 'hunter22', 'tkn-99999']));
    // why: ordinary words of the header must survive in error messages (an access key id is an identifier)
    for (const word of ['Signature', 'Credential', 'us-east-1', 'aws4_request', 'SignedHeaders=host', 'AKIDEXAMPLE']) expect(secrets).not.toContain(word);
    expect(secrets).not.toContain('m1');
    expect(secrets).not.toContain('admin');
    expect(secrets).not.toContain('password');
    const form = collectSecrets({
      method: 'POST',
      url: new URL('http://h/'),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=X&AWSAccessKeyId=AKIAOLD1&Signature=c2lnbmF0dXJl',
    });
    expect(form).toEqual(['AKIAOLD1', 'c2lnbmF0dXJl']);
  });

  it('scrubs message and stack along the cause chain', () => {
    const inner = new Error('inner s3cr3t-value');
    const outer = new Error('outer s3cr3t-value', { cause: inner });
    scrubError(outer, ['s3cr3t-value']);
    expect(outer.message).toBe('outer [REDACTED]');
    expect(inner.message).toBe('inner [REDACTED]');
    expect(String(outer.stack) + String(inner.stack)).not.toContain('s3cr3t-value');
  });
});
