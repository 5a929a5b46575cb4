import { describe, expect, it } from 'vitest';
import { basicAuthorization, basicSigner } from '../../src/providers/http/signers/basic.ts';
import { bearerSigner, staticToken } from '../../src/providers/http/signers/bearer.ts';
import type { HttpRequest } from '../../src/providers/http/types.ts';

const req = (): HttpRequest => ({ method: 'GET', url: new URL('https://api.example.com/2.0/servers/'), headers: { accept: 'application/json' } });
const now = new Date('2026-01-01T00:00:00Z');

describe('signers: basic', () => {
  it('matches the RFC 7617 examples', () => {
    // RFC 7617 section 2: Aladdin / open sesame
    expect(basicAuthorization({ username: 'Aladdin', password: 'open sesame' })).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
    // RFC 7617 section 2.1: test / 123£ with charset UTF-8
    expect(basicAuthorization({ username: 'test', password: '123\u00a3' })).toBe('Basic dGVzdDoxMjPCow==');
  });

  it('signs every request from the current credentials and keeps the other headers', async () => {
    let password = 'first';
    const signer = basicSigner(() => ({ username: 'user@example.com', password }));
    const a = await signer.sign(req(), { now });
    password = 'second';
    const b = await signer.sign(req(), { now });
    expect(a.headers.accept).toBe('application/json');
    expect(Buffer.from(a.headers.authorization!.slice(6), 'base64').toString()).toBe('user@example.com:first');
    expect(Buffer.from(b.headers.authorization!.slice(6), 'base64').toString()).toBe('user@example.com:second');
  });

  it('refuses a username with a colon instead of sending a header the server would split wrongly', () => {
    expect(() => basicAuthorization({ username: 'a:b', password: 'x' })).toThrow(/must not contain ":"/);
  });
});

describe('signers: bearer', () => {
  it('sends the static token', async () => {
    const signed = await bearerSigner(staticToken('dop_v1_abc')).sign(req(), { now });
    expect(signed.headers.authorization).toBe('Bearer dop_v1_abc');
    expect(bearerSigner(staticToken('t')).onUnauthorized).toBeUndefined();
  });

  it('asks a refreshing source on every request and lets it drop a refused token', async () => {
    let n = 0;
    const seen: Date[] = [];
    const signer = bearerSigner({
      token: (at) => {
        seen.push(at);
        return `token-${n}`;
      },
      invalidate: () => {
        n++;
      },
    });
    expect((await signer.sign(req(), { now })).headers.authorization).toBe('Bearer token-0');
    await signer.onUnauthorized!();
    expect((await signer.sign(req(), { now })).headers.authorization).toBe('Bearer token-1');
    expect(seen).toEqual([now, now]);
  });
});
