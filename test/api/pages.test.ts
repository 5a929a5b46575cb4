/**
 * The pages skygraph serves over plain HTTP (the browser suite, test/api/browser.test.ts, runs
 * them): what they may load, that they need no token while the API still does, and `viewer`.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const READ = 'pages-read-token-0123456789';
const WRITE = 'pages-write-token-0123456789';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    accounts: [{ id: 'demo', driver: 'sandbox' }],
    server: {
      tokens: [
        { name: 'wall', token: READ, scope: 'read' },
        { name: 'ops', token: WRITE, scope: 'write' },
      ],
    },
  });
});
afterAll(() => t.stop());

/** The status of a GET with `path` sent exactly as written (fetch and URL would resolve `..`). */
function statusOf(path: string): Promise<number> {
  const { hostname, port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    request({ host: hostname, port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('pages: /dashboard', () => {
  it('redirects to the folder and serves the page with a strict CSP, no token needed', async () => {
    const redirect = await fetch(`${t.url}/dashboard`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('dashboard/');

    const page = await fetch(`${t.url}/dashboard/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).toContain('src="app.js"');
    // no CDN: nothing in the page names another host
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);

    const script = await fetch(`${t.url}/dashboard/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('nodeChanged');
    const client = await fetch(`${t.url}/dashboard/vendor/graphql-ws.js`);
    expect(client.status).toBe(200);
    expect(await client.text()).toContain('graphqlWs');
  });

  it('serves only its own files, to GET only', async () => {
    for (const path of ['/dashboard/../package.json', '/dashboard/%2e%2e/package.json', '/dashboard/index.html', '/dashboard/vendor/', '/graphiql/../src/server.ts', '/graphiql/nope.js']) {
      expect(await statusOf(path), path).toBe(404);
    }
    expect((await fetch(`${t.url}/dashboard/`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(405);
  });

  it('keeps the API behind the token and the origin policy', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ viewer { name scope } }' }) });
    expect((await post({})).status).toBe(401);
    expect(await (await post({ authorization: `Bearer ${READ}` })).json()).toEqual({ data: { viewer: { name: 'wall', scope: 'READ' } } });
    expect(await (await post({ authorization: `Bearer ${WRITE}` })).json()).toEqual({ data: { viewer: { name: 'ops', scope: 'WRITE' } } });
    expect((await post({ authorization: `Bearer ${READ}`, origin: 'https://evil.example' })).status).toBe(403);
    expect((await fetch(`${t.url}/dashboard/`, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
  });
});

describe('pages: GraphiQL', () => {
  it('serves its page without a token, asking for one, and its assets from the package', async () => {
    const page = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('var tokenRequired = true;');
    expect(html).toContain('src="graphiql/graphiql.js?v=');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);

    const plain = await fetch(`${t.url}/graphiql/graphiql.css`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(plain.headers.get('content-encoding')).toBeNull();
    const css = await plain.text();
    expect(css.length).toBeGreaterThan(100_000);
    expect(css).not.toMatch(/url\((['"]?)https?:/);

    const zipped = await rawRequest(t.url, { path: '/graphiql/graphiql.js', headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['cache-control']).toContain('immutable');
    for (const worker of ['editor', 'json', 'graphql']) expect((await fetch(`${t.url}/graphiql/${worker}.worker.js`)).status).toBe(200);
  });

  it('says no token is needed when none is configured', async () => {
    const open = await startTestApp({ accounts: [{ id: 'demo', driver: 'sandbox' }] });
    try {
      const html = await (await fetch(`${open.url}/graphql`, { headers: { accept: 'text/html' } })).text();
      expect(html).toContain('var tokenRequired = false;');
    } finally {
      await open.stop();
    }
  });
});
