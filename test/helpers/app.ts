/** Starts skygraph in-process on a free port for API tests, and talks to it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateConfig } from '../../src/config/index.ts';
import { buildApp, type App, type AppOptions } from '../../src/server.ts';
import { createLogger } from '../../src/logger.ts';

export interface GraphQLResult<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface TestApp {
  app: App;
  url: string;
  dataDir: string;
  /** POST through the real listening server */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResult<T>>;
  /** POST through yoga.fetch, in-process */
  fetchGql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResult<T>>;
  calls(account: string, operation?: string): number;
  stop(): Promise<void>;
}

export async function startTestApp(raw: Record<string, unknown>, opts: AppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'skygraph-test-'));
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let url: string;
  try {
    const config = await validateConfig(raw, '<test>', { ...process.env, SKYGRAPH_DATA: dataDir, TEST_DATA: dataDir });
    app = await buildApp(config, { logger: createLogger('silent'), ...opts });
    url = await app.start(0, '127.0.0.1');
  } catch (err) {
    // why: a config a test means to be refused must not leave its data dir behind
    await app?.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const started = app;
  const post = async (f: typeof fetch, target: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await f(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphQLResult<never>;
  };
  return {
    app: started,
    url,
    dataDir,
    gql: (q, v, h) => post(fetch, `${url}/graphql`, q, v, h),
    fetchGql: (q, v) => post(started.yoga.fetch as typeof fetch, 'http://localhost/graphql', q, v),
    calls: (account, operation) =>
      operation ? started.runtime.upstreamCalls.get({ account, operation }) : started.runtime.upstreamCalls.sum({ account }),
    async stop() {
      await started.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The embedded default, with the local storage root under the test's own temp dir. */
export function defaultTestConfig(extra: Record<string, unknown>[] = []): Record<string, unknown> {
  return {
    accounts: [
      { id: 'sandbox', driver: 'sandbox', options: { transitionMs: 50 } },
      { id: 'local', driver: 'local', options: { root: '${TEST_DATA}' } },
      ...extra,
    ],
  };
}

/** Calls `fn` every 25 ms until `ok` holds or `ms` pass; answers the last value either way (the test asserts on it). */
export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}
