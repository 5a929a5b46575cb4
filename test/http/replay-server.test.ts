import { afterEach, describe, expect, it } from 'vitest';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('test helper: replay-server', () => {
  it('answers routes in order, honours times, and records every request', async () => {
    server = await startReplayServer([
      { method: 'GET', path: '/a', status: 503, body: 'busy', times: 1 },
      { method: 'GET', path: /^\/a$/, headers: { 'x-amz-request-id': 'R1' }, body: '{"ok":true}' },
    ]);
    const first = await fetch(`${server.url}/a?x=1`);
    expect(first.status).toBe(503);
    const second = await fetch(`${server.url}/a`);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-amz-request-id')).toBe('R1');
    expect(await second.json()).toEqual({ ok: true });
    expect(server.requests.map((r) => [r.method, r.path, r.query.get('x')])).toEqual([
      ['GET', '/a', '1'],
      ['GET', '/a', null],
    ]);
    expect(server.failures).toEqual([]);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('unmatched requests get 501 and a failure line', async () => {
    server = await startReplayServer([{ method: 'GET', path: '/known' }]);
    const res = await fetch(`${server.url}/unknown?marker=2`, { method: 'DELETE' });
    expect(res.status).toBe(501);
    expect(await res.text()).toContain('DELETE /unknown?marker=2: no recorded route');
    expect(server.failures).toEqual(['DELETE /unknown?marker=2: no recorded route']);
  });

  it('match predicates see the parsed form; failed checks answer 400 and are recorded', async () => {
    server = await startReplayServer([
      {
        method: 'POST',
        path: '/',
        match: (r) => r.form.get('Action') === 'DescribeRegions',
        check: (r) => {
          if (!r.headers.authorization) throw new Error('missing Authorization');
        },
        body: (r) => ({ status: 200, headers: { 'content-type': 'text/xml' }, body: `<r>${r.form.get('Version')}</r>` }),
      },
    ]);
    const post = (headers: Record<string, string>) =>
      fetch(server!.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: 'Action=DescribeRegions&Version=2016-11-15' });
    const bad = await post({});
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('check failed: missing Authorization');
    const good = await post({ authorization: 'x' });
    expect(await good.text()).toBe('<r>2016-11-15</r>');
    expect(good.headers.get('content-type')).toBe('text/xml');
    expect(server.failures).toEqual(['POST /: check failed: missing Authorization']);
    expect(server.requests[1]?.form.get('Version')).toBe('2016-11-15');
  });

  it('serves fixture files and refuses paths outside fixtures/', async () => {
    server = await startReplayServer([
      { method: 'GET', path: '/', file: 'http/replay-sample.xml' },
      { method: 'GET', path: '/escape', file: '../package.json' },
    ]);
    const res = await fetch(`${server.url}/`);
    expect(res.headers.get('content-type')).toBe('application/xml');
    expect(await res.text()).toContain('<Name>only-bucket</Name>');
    const escape = await fetch(`${server.url}/escape`);
    expect(escape.status).toBe(500);
    expect(server.failures).toEqual([expect.stringContaining('fixture outside fixtures/')]);
  });

  it('route() adds routes; reset() restores the initial routes and counters', async () => {
    server = await startReplayServer([{ method: 'GET', path: '/once', times: 1, body: 'one' }]);
    server.route({ method: 'PUT', path: '/added', status: 201 });
    expect((await fetch(`${server.url}/once`)).status).toBe(200);
    expect((await fetch(`${server.url}/once`)).status).toBe(501);
    expect((await fetch(`${server.url}/added`, { method: 'PUT', body: 'x' })).status).toBe(201);
    expect(server.requests[2]?.body.toString()).toBe('x');
    server.reset();
    expect(server.requests).toEqual([]);
    expect(server.failures).toEqual([]);
    expect((await fetch(`${server.url}/once`)).status).toBe(200);
    expect((await fetch(`${server.url}/added`, { method: 'PUT' })).status).toBe(501);
  });
});
