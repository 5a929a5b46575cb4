import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { GRAPHIQL_QUERY } from '../../src/server.ts';
import { defaultTestConfig, startTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(defaultTestConfig());
});
afterAll(() => t.stop());

describe('api: GraphiQL', () => {
  it('serves GraphiQL to a browser, opening with a query that runs as is', async () => {
    const page = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<title>skygraph</title>');
    expect(html).toContain('nodeChanged');

    const r = await t.gql<{ accounts: { id: string }[]; nodes: { totalCount: number; failures: unknown[] } }>(GRAPHIQL_QUERY);
    expect(r.errors).toBeUndefined();
    expect(r.data!.accounts.map((a) => a.id)).toEqual(['sandbox', 'local']);
    expect(r.data!.nodes.totalCount).toBeGreaterThan(0);
    expect(r.data!.nodes.failures).toEqual([]);
    const subscription = /^# (subscription \{.*\})$/m.exec(GRAPHIQL_QUERY)?.[1];
    expect(subscription).toBeDefined();
    expect(validate(schema, parse(subscription!))).toEqual([]);
  });
});
