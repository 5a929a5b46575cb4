/**
 * Google service-account auth on its own, as a later Cloud DNS driver would use it:
 * googleTokenSource(account, { scopes }) against the token endpoint stand-in, which verifies the
 * RS256 assertion with the public key and its claims.
 */
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthenticationError, MalformedResponseError } from '../../src/providers/errors.ts';
import { googleTokenSource, GOOGLE_SCOPES, type GoogleTokenSource } from '../../src/providers/google/auth.ts';
import { bearerSigner } from '../../src/providers/http/signers/bearer.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { installTokenEndpoint, testServiceAccount, type TokenEndpoint } from '../helpers/gce-server/token.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';

describe('google auth: service-account token source', () => {
  let replay: ReplayServer;
  let endpoint: TokenEndpoint;
  let source: GoogleTokenSource;
  let json: string;
  let keyLines: string[];

  beforeEach(async () => {
    replay = await startReplayServer();
    const sa = testServiceAccount(`${replay.url}/token`);
    json = sa.json;
    keyLines = sa.privateKeyPem.split('\n').slice(2, 6);
    endpoint = installTokenEndpoint(replay, { publicKey: sa.publicKey, scope: GOOGLE_SCOPES.dns });
    source = googleTokenSource(testDriverContext({ driver: 'dns', credentials: { serviceAccountJson: json } }).account, {
      provider: 'google-dns',
      scopes: [GOOGLE_SCOPES.dns],
      retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 2 },
      env: {},
    });
  });

  afterEach(async () => {
    await source.close();
    await replay.close();
    expect(replay.failures).toEqual([]);
  });

  it('asks for the scopes it was given and shares one request between concurrent callers', async () => {
    const now = new Date();
    const tokens = await Promise.all([source.token(now), source.token(now), source.token(now)]);
    expect(new Set(tokens).size).toBe(1);
    expect(endpoint.issued).toBe(1);
    expect(endpoint.grants[0]!.scope).toBe('https://www.googleapis.com/auth/ndev.clouddns.readwrite');
    expect(endpoint.authorized(`Bearer ${tokens[0]!}`)).toBe(true);
  });

  it('drops its token on invalidate, which the bearer signer calls on a 401', async () => {
    const signer = bearerSigner(source);
    const req = { method: 'GET', url: new URL('https://dns.googleapis.com/dns/v1/projects/p/managedZones'), headers: {} };
    const first = (await signer.sign(req, { now: new Date() })).headers.authorization;
    await signer.onUnauthorized!();
    const second = (await signer.sign(req, { now: new Date() })).headers.authorization;
    expect(first).toMatch(/^Bearer ya29\./);
    expect(second).not.toBe(first);
    expect(endpoint.issued).toBe(2);
  });

  it('retries a token endpoint that answers 503, and reports a malformed answer without the token', async () => {
    replay.reset();
    let calls = 0;
    replay.route({
      method: 'POST',
      path: '/token',
      body: () => (++calls === 1 ? { status: 503, body: 'busy' } : { status: 200, headers: { 'content-type': 'application/json' }, body: '{"access_token":"ya29.half-a-token","token_type":"Bearer"}' }),
    });
    const err = await expectTypedError(Promise.resolve(source.token(new Date())), MalformedResponseError);
    expect(err.message).toBe('[google-dns] POST oauth2/token answered without access_token and expires_in');
    expect(calls).toBe(2);
  });

  it('never exposes the private key through its credentials', async () => {
    const creds = await source.credentials();
    expect(creds).toMatchObject({ source: 'credentials.serviceAccountJson', projectId: 'skygraph-test', clientEmail: 'skygraph-ci@skygraph-test.iam.gserviceaccount.com' });
    expect(creds.signRsaSha256!('data').length).toBe(256);
    for (const text of [JSON.stringify(creds), inspect(creds, { depth: 5 }), inspect(source, { depth: 5 })]) {
      for (const line of keyLines) expect(text).not.toContain(line);
    }
  });

  it('answers AuthenticationError naming the field for a broken key, without quoting it', async () => {
    const broken = json.replace('"type":"service_account"', '"type":"service_account",');
    const bad = googleTokenSource(testDriverContext({ driver: 'dns', credentials: { serviceAccountJson: broken } }).account, { provider: 'google-dns', scopes: [GOOGLE_SCOPES.dns], env: {} });
    const err = await expectTypedError(Promise.resolve(bad.token(new Date())), AuthenticationError);
    expect(err.message).toBe('[google-dns] credentials.serviceAccountJson is not valid JSON');
    expect(err.cause).toBeUndefined();
    for (const line of keyLines) expect(`${err.message}${err.stack}`).not.toContain(line);
    expect(endpoint.issued).toBe(0);
  });
});
