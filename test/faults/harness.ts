/**
 * The fault harness: one fault server per remote driver in FAULT_DRIVERS, skygraph started
 * with an account per driver (buildApp + start, the real HTTP server), and one query that lists
 * from all of them at once. Retries are kept fast through DriverContext.http, not by changing
 * the production defaults.
 */
import { validateConfig } from '../../src/config/index.ts';
import { buildApp, type App } from '../../src/server.ts';
import { createLogger } from '../../src/logger.ts';
import type { ConnectionDefaults } from '../../src/providers/http/connection.ts';
import { FAULT_DRIVERS, type FaultDriver, type ListField } from './drivers.ts';
import { startFaultServer, type FaultKind, type FaultServer } from './fault-server.ts';

/** Fast retries and a small read limit for tests: three attempts, delays of a few ms. */
export const TEST_HTTP: ConnectionDefaults = { retry: { retries: 2, baseDelayMs: 2, maxDelayMs: 20 }, maxResponseBytes: 256 * 1024 };

export interface Failure {
  account: string;
  code: string;
  message: string;
}

export interface QueryAnswer {
  status: number;
  ms: number;
  /** failures listed in the connections, by list field */
  failures: Failure[];
  /** top-level errors */
  errors: { message: string; extensions?: Record<string, unknown> }[];
  /** items returned (must stay 0: every upstream is failing) */
  items: number;
}

export interface FaultHarness {
  app: App;
  url: string;
  drivers: readonly FaultDriver[];
  servers: Map<string, FaultServer>;
  setFault(kind: FaultKind | 'random'): void;
  /** one query over the list fields of the named drivers (default: all of them) */
  query(only?: readonly string[]): Promise<QueryAnswer>;
  stop(): Promise<void>;
}

export interface FaultHarnessOptions {
  /** every account's deadline */
  timeoutMs: number;
  drivers?: readonly FaultDriver[];
  http?: ConnectionDefaults;
  /** see FaultServerOptions */
  hangMs?: number;
  timeoutShare?: number;
}

export async function startFaultHarness(opts: FaultHarnessOptions): Promise<FaultHarness> {
  const drivers = opts.drivers ?? FAULT_DRIVERS;
  const servers = new Map<string, FaultServer>();
  let app: App | undefined;
  try {
    for (const d of drivers) servers.set(d.name, await startFaultServer(d.format, { hangMs: opts.hangMs, timeoutShare: opts.timeoutShare, pass: d.pass }));
    // why: cacheTtlMs 0: every query must reach the fault server, not a listing cached before the fault changed
    const accounts = drivers.map((d) => ({ id: d.name, ...d.account(servers.get(d.name)!.url), timeoutMs: opts.timeoutMs, cacheTtlMs: 0 }));
    const config = await validateConfig({ accounts, server: { limits: { rateLimit: false } } }, '<fault matrix>', {});
    app = await buildApp(config, { logger: createLogger('silent'), http: opts.http ?? TEST_HTTP });
    const url = await app.start(0, '127.0.0.1');
    const started = app;
    return {
      app: started,
      url,
      drivers,
      servers,
      setFault(kind) {
        for (const s of servers.values()) s.fault = kind;
      },
      async query(only) {
        const query = queryFor(only ? drivers.filter((d) => only.includes(d.name)) : drivers);
        const t0 = performance.now();
        const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
        const body = (await res.json()) as {
          data?: Record<string, { totalCount: number; failures: Failure[] }> | null;
          errors?: QueryAnswer['errors'];
        };
        const lists = Object.values(body.data ?? {});
        return {
          status: res.status,
          ms: performance.now() - t0,
          failures: lists.flatMap((l) => l.failures),
          errors: body.errors ?? [],
          items: lists.reduce((n, l) => n + l.totalCount, 0),
        };
      },
      async stop() {
        // why: servers first; an undici pool waits for requests in flight (a `timeout` fault) before it closes
        await Promise.all([...servers.values()].map((s) => s.close()));
        await started.stop();
      },
    };
  } catch (err) {
    await Promise.all([...servers.values()].map((s) => s.close()));
    await app?.stop().catch(() => undefined);
    throw err;
  }
}

// --- Internal helpers ---

function queryFor(drivers: readonly FaultDriver[]): string {
  const fields = new Map<ListField, string[]>();
  for (const d of drivers) fields.set(d.list, [...(fields.get(d.list) ?? []), d.name]);
  const lists = [...fields].map(([field, ids]) => `${field}(filter: { accounts: ${JSON.stringify(ids)} }, first: 5) { totalCount failures { account code message } }`);
  return `{ ${lists.join(' ')} }`;
}
