/** The helpers the bearer-token clouds share: page styles, the paging loop, rate-limit delays, string tags, balancer checks, id paths. */
import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError, MalformedResponseError, RateLimitedError } from '../../src/providers/errors.ts';
import { createConnection } from '../../src/providers/http/connection.ts';
import { balancerChecks } from '../../src/providers/rest/balancer.ts';
import { restErrorParser, retryAfterMs, scrubValues } from '../../src/providers/rest/errors.ts';
import { DIGITALOCEAN_PAGES, HETZNER_PAGES, LINODE_PAGES, VULTR_PAGES, listAll } from '../../src/providers/rest/paging.ts';
import { idPath } from '../../src/providers/rest/paths.ts';
import { tagsFromStrings, tagsToStrings } from '../../src/providers/rest/tags.ts';
import { startReplayServer } from '../helpers/replay-server.ts';

describe('rest: page styles', () => {
  it('DigitalOcean: the page of links.pages.next, else meta.total', () => {
    const q = { page: 1, per_page: 2 };
    expect(DIGITALOCEAN_PAGES.first(2)).toEqual(q);
    expect(DIGITALOCEAN_PAGES.next({ links: { pages: { next: 'https://api.digitalocean.com/v2/droplets?page=2&per_page=2' } } }, q, 2)).toEqual({ page: 2, per_page: 2 });
    expect(DIGITALOCEAN_PAGES.next({ links: {}, meta: { total: 5 } }, q, 2)).toEqual({ page: 2, per_page: 2 });
    expect(DIGITALOCEAN_PAGES.next({ links: {}, meta: { total: 2 } }, q, 2)).toBeUndefined();
  });

  it('Hetzner: meta.pagination.next_page, null on the last page', () => {
    const q = { page: 1, per_page: 50 };
    expect(HETZNER_PAGES.next({ meta: { pagination: { next_page: 2 } } }, q, 50)).toEqual({ page: 2, per_page: 50 });
    expect(HETZNER_PAGES.next({ meta: { pagination: { next_page: null } } }, q, 50)).toBeUndefined();
    expect(HETZNER_PAGES.next({ meta: { pagination: { next_page: 1 } } }, q, 50)).toBeUndefined();
  });

  it('Linode: page below pages', () => {
    expect(LINODE_PAGES.first(25)).toEqual({ page: 1, page_size: 25 });
    expect(LINODE_PAGES.next({ page: 1, pages: 3 }, { page: 1, page_size: 25 }, 25)).toEqual({ page: 2, page_size: 25 });
    expect(LINODE_PAGES.next({ page: 3, pages: 3 }, { page: 3, page_size: 25 }, 75)).toBeUndefined();
  });

  it('Vultr: the cursor in meta.links.next, empty on the last page', () => {
    expect(VULTR_PAGES.first(100)).toEqual({ per_page: 100 });
    expect(VULTR_PAGES.next({ meta: { links: { next: 'bmV4dA==' } } }, { per_page: 100 }, 100)).toEqual({ per_page: 100, cursor: 'bmV4dA==' });
    expect(VULTR_PAGES.next({ meta: { links: { next: '' } } }, { per_page: 100 }, 100)).toBeUndefined();
  });

  it('stops a server that names the same page again, and one that answers without items', async () => {
    const server = await startReplayServer([
      { method: 'GET', path: '/v2/things', body: JSON.stringify({ things: [{ id: 1 }], meta: { links: { next: 'c2FtZQ==' } } }), headers: { 'content-type': 'application/json' } },
      { method: 'GET', path: '/v2/other', body: JSON.stringify({ items: [] }), headers: { 'content-type': 'application/json' } },
    ]);
    const conn = createConnection({ provider: 'test', baseUrl: `${server.url}/v2`, retry: { retries: 0 } });
    try {
      const err = await listAll(conn, { provider: 'test', path: 'things', itemsKey: 'things', style: VULTR_PAGES, pageSize: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MalformedResponseError);
      expect(String(err)).toContain('repeats an earlier one');
      expect(server.requests).toHaveLength(2);
      const missing = await listAll(conn, { provider: 'test', path: 'other', itemsKey: 'things', style: VULTR_PAGES, pageSize: 1 }).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(MalformedResponseError);
    } finally {
      await conn.close();
      await server.close();
    }
  });
});

describe('rest: rate limits and errors', () => {
  const now = new Date(Date.UTC(2024, 9, 1, 12, 0, 0));
  const epoch = now.getTime() / 1000;

  it('takes Retry-After first, then the reset epoch second, never a negative delay', () => {
    expect(retryAfterMs({ 'retry-after': '3', 'ratelimit-reset': String(epoch + 60) }, 'ratelimit-reset', now)).toBe(3000);
    expect(retryAfterMs({ 'retry-after': new Date(now.getTime() + 4000).toUTCString() }, undefined, now)).toBe(4000);
    expect(retryAfterMs({ 'x-ratelimit-reset': String(epoch + 8) }, 'x-ratelimit-reset', now)).toBe(8000);
    expect(retryAfterMs({ 'ratelimit-reset': String(epoch - 5) }, 'ratelimit-reset', now)).toBe(0);
    expect(retryAfterMs({ 'ratelimit-reset': 'soon' }, 'ratelimit-reset', now)).toBeUndefined();
    expect(retryAfterMs({}, 'ratelimit-reset', now)).toBeUndefined();
  });

  it('maps 429 to RateLimitedError, conflict codes to ConflictError, and leaves the rest to the default mapping', () => {
    const parse = restErrorParser({ provider: 'hetzner', resetHeader: 'ratelimit-reset', conflictCodes: ['locked'], now: () => now });
    const limited = parse({ status: 429, headers: { 'ratelimit-reset': String(epoch + 2) }, bodyText: '{"error":{"code":"rate_limit_exceeded","message":"slow down"}}', operation: 'GET /servers' });
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(2000);
    expect(limited!.message).toBe('[hetzner] GET /servers 429 rate_limit_exceeded: slow down');
    expect(parse({ status: 423, headers: {}, bodyText: '{"error":{"code":"locked","message":"server is locked"}}', operation: 'x' })).toBeInstanceOf(ConflictError);
    expect(parse({ status: 500, headers: {}, bodyText: '{"error":{"code":"server_error"}}', operation: 'x' })).toBeUndefined();
  });

  it('maps inputErrors statuses to InvalidInputError, or ConflictError when the message says so', () => {
    const parse = restErrorParser({ provider: 'digitalocean-dns', inputErrors: { statuses: [422], conflict: /already exists/i }, now: () => now });
    const body = (message: string) => JSON.stringify({ id: 'unprocessable_entity', message });
    const invalid = parse({ status: 422, headers: {}, bodyText: body('Ttl must be at least 30.'), operation: 'POST /v2/domains/{name}/records' });
    expect(invalid).toBeInstanceOf(InvalidInputError);
    expect(invalid).toMatchObject({ status: 422, message: '[digitalocean-dns] POST /v2/domains/{name}/records 422 unprocessable_entity: Ttl must be at least 30.' });
    expect(parse({ status: 422, headers: {}, bodyText: body('Name already exists'), operation: 'x' })).toBeInstanceOf(ConflictError);
    expect(parse({ status: 400, headers: {}, bodyText: body('bad'), operation: 'x' })).toBeUndefined();
  });

  it('scrubs a value, its JSON-escaped form and its long pieces', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    const err = scrubValues(new Error(`echo ${JSON.stringify({ k: key })} and MIIEvQIBADANBgkqhkiG9w0BAQEFAASC`), [key]);
    expect(err.message).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
  });
});

describe('rest: string tags', () => {
  it('reads key:value and bare tags, splitting at the first colon', () => {
    expect(tagsFromStrings(['env:prod', 'web', 'url:http://x', ':odd'])).toEqual({ env: 'prod', web: '', url: 'http://x' });
  });

  it('writes pairs and checks the provider syntax', () => {
    const rule = { provider: 'p', pattern: /^[a-z:]+$/, maxLength: 10, describe: 'lower case' };
    expect(tagsToStrings({ env: 'prod', web: '' }, rule)).toEqual(['env:prod', 'web']);
    expect(tagsToStrings(undefined, rule)).toEqual([]);
    expect(() => tagsToStrings({ 'a:b': 'c' }, rule)).toThrow(InvalidInputError);
    expect(() => tagsToStrings({ env: 'PROD' }, rule)).toThrow(InvalidInputError);
    expect(() => tagsToStrings({ environment: 'production' }, rule)).toThrow(InvalidInputError);
  });
});

describe('rest: balancer checks and id paths', () => {
  const checks = balancerChecks({ provider: 'cloud', vendor: 'Cloud', algorithms: { ROUND_ROBIN: 'rr', LEAST_CONNECTIONS: 'lc' }, protocols: ['http', 'tcp'], exKeys: ['region'], exOf: 'a Cloud balancer' });
  const field = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidInputError);
      return { field: (err as InvalidInputError).field, message: (err as Error).message };
    }
    throw new Error('expected an InvalidInputError');
  };

  it('checks ports, algorithms, protocols and ex keys, naming the field', () => {
    expect(checks.algorithms).toEqual(['ROUND_ROBIN', 'LEAST_CONNECTIONS']);
    expect(checks.checkPort(443, 'port')).toBe(443);
    for (const bad of [0, 65536, 1.5, '80']) expect(field(() => checks.checkPort(bad, 'members[0].port'))).toEqual({ field: 'members[0].port', message: '[cloud] members[0].port must be an integer from 1 to 65535' });
    expect(checks.checkAlgorithm('LEAST_CONNECTIONS')).toBe('lc');
    expect(field(() => checks.checkAlgorithm('SOURCE_IP'))).toEqual({ field: 'algorithm', message: '[cloud] algorithm SOURCE_IP is not supported by Cloud (supported: ROUND_ROBIN, LEAST_CONNECTIONS)' });
    expect(checks.checkProtocol('HTTP')).toBe('http');
    expect(field(() => checks.checkProtocol('udp', 'ex.backendProtocol'))).toEqual({ field: 'ex.backendProtocol', message: '[cloud] ex.backendProtocol must be one of http, tcp' });
    expect(() => checks.checkExKeys({ region: 'r1' })).not.toThrow();
    expect(field(() => checks.checkExKeys({ region: 'r1', size: 2 }))).toEqual({ field: 'ex.size', message: '[cloud] ex.size is not a Cloud balancer option (known: region)' });
  });

  it('encodes an id for a path and refuses an empty or overlong one as field id', () => {
    expect(idPath('a/b c', 'cloud', 'a droplet')).toBe('a%2Fb%20c');
    for (const bad of ['', '  ', 'x'.repeat(65)]) expect(field(() => idPath(bad, 'cloud', 'a droplet'))).toEqual({ field: 'id', message: '[cloud] id must be a droplet id' });
  });
});
