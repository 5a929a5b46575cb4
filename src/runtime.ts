/**
 * The runtime: one provider instance per (account, region), created once at start and shared
 * by every request, plus the metrics and logger they report to. Each account has its deadline
 * (withDeadline) and its connection slots (maxConcurrency), shared by all its instances.
 */
import type {
  AccountConfig,
  ComputeDriver,
  DnsDriver,
  LoadBalancerDriver,
  ProviderDefinition,
  ProviderInstance,
  StorageDriver,
  Logger,
} from './providers/types.ts';
import { loadProvider } from './providers/registry.ts';
import { NotFoundError, TimeoutError, UnsupportedError } from './providers/errors.ts';
import { runWithDeadline } from './providers/call-scope.ts';
import { createLimiter, type ConcurrencyLimiter } from './providers/http/limiter.ts';
import { createMetrics, type Counter, type Histogram, type Metrics } from './metrics.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { createCallObserver } from './observe.ts';
import type { Tracing } from './tracing.ts';
import { createLogger } from './logger.ts';
import { createResultCache, type ResultCache } from './loaders/result-cache.ts';
import { DEFAULT_MAX_CONCURRENCY, type SkygraphConfig } from './config/index.ts';
import type { ConnectionDefaults } from './providers/http/connection.ts';

export interface AccountRuntime {
  config: AccountConfig;
  definition: ProviderDefinition;
  /** the regions to fan out over; [null] for providers without regions */
  regions: (string | null)[];
  instance(region: string | null): ProviderInstance;
  compute(region: string | null): ComputeDriver;
  storage(region: string | null): StorageDriver;
  loadBalancer(region: string | null): LoadBalancerDriver;
  dns(region: string | null): DnsDriver;
  /**
   * Runs `fn` under the account's deadline (timeoutMs): past it, the answer is a TimeoutError and
   * the upstream requests `fn` made are aborted. `detached`: bound only to its own deadline, not
   * to the enclosing call (work other callers share, such as a cached listing).
   */
  withDeadline<T>(operation: string, fn: () => Promise<T>, opts?: { detached?: boolean }): Promise<T>;
  /** the account's connection slots (maxConcurrency), shared by all its connections */
  slots: ConcurrencyLimiter;
}

export interface Runtime {
  config: SkygraphConfig;
  accounts: Map<string, AccountRuntime>;
  account(id: string, argument?: string): AccountRuntime;
  /** provider listings shared by requests for each account's cacheTtlMs */
  cache: ResultCache;
  metrics: Metrics;
  upstreamCalls: Counter;
  /** failed upstream attempts, by account, operation and error code */
  upstreamErrors: Counter;
  requestDuration: Histogram;
  logger: Logger;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  logger?: Logger;
  now?: () => Date;
  /** connection settings handed to every driver (DriverContext.http) */
  http?: ConnectionDefaults | undefined;
  /** when set, every upstream call becomes a span */
  tracing?: Tracing | undefined;
}

export async function createRuntime(config: SkygraphConfig, opts: RuntimeOptions = {}): Promise<Runtime> {
  const metrics = createMetrics();
  const upstreamCalls = metrics.counter('skygraph_upstream_calls_total', 'Calls made to provider APIs, by account and operation');
  const upstreamErrors = metrics.counter('skygraph_upstream_errors_total', 'Failed calls to provider APIs (each attempt), by account, operation and error code');
  const requestDuration = metrics.histogram('skygraph_request_duration_seconds', 'Duration of HTTP requests served, by route');
  const stopProcessMetrics = registerProcessMetrics(metrics);
  const logger = opts.logger ?? createLogger();
  const accounts = new Map<string, AccountRuntime>();
  const cache = createResultCache((id) => {
    const account = accounts.get(id);
    return account ? { ttlMs: account.config.cacheTtlMs ?? 0 } : undefined;
  });
  metrics.gauge('skygraph_result_cache_entries', 'Provider listings held in the result cache shared by requests', () => cache.size());
  metrics.gauge('skygraph_upstream_slots', 'Connection slots of each account (maxConcurrency): requests open upstream (in_use) and waiting for a slot (queued)', () =>
    [...accounts.values()].flatMap((a) => {
      const { inUse, queued } = a.slots.stats();
      return [
        { labels: { account: a.config.id, state: 'in_use' }, value: inUse },
        { labels: { account: a.config.id, state: 'queued' }, value: queued },
      ];
    }),
  );
  const instances: ProviderInstance[] = [];

  for (const config_ of config.accounts) {
    const definition = await loadProvider(config_.driver);
    if (!definition) throw new Error(`driver ${config_.driver} vanished from the registry`);
    const regions: (string | null)[] = config_.regions.length ? config_.regions : [null];
    const byRegion = new Map<string | null, ProviderInstance>();
    const observe = createCallObserver({ account: config_.id, provider: definition.name, errors: upstreamErrors, tracing: opts.tracing });
    const slots = createLimiter(config_.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY);
    // why: one set of slots for every connection of the account, whatever region or service
    // why: connections skip retry waits that would end past the account's deadline
    const http: ConnectionDefaults = { ...opts.http, observe, limiter: slots, deadlineMs: config_.timeoutMs };
    for (const region of regions) {
      const instance = definition.create({
        account: config_,
        region: region ?? undefined,
        recordCall: (operation) => upstreamCalls.inc({ account: config_.id, operation }),
        now: opts.now ?? (() => new Date()),
        logger,
        http,
      });
      byRegion.set(region, instance);
      instances.push(instance);
    }
    const instance = (region: string | null): ProviderInstance => {
      const found = byRegion.get(region);
      if (!found) throw new NotFoundError(`account "${config_.id}" has no region "${region}"`);
      return found;
    };
    const unsupported = (service: string) =>
      new UnsupportedError(`account "${config_.id}" (driver ${definition.name}) has no ${service} service`);
    accounts.set(config_.id, {
      config: config_,
      definition,
      regions,
      instance,
      compute: (region) => instance(region).compute ?? throwIt(unsupported('compute')),
      storage: (region) => instance(region).storage ?? throwIt(unsupported('storage')),
      loadBalancer: (region) => instance(region).loadBalancer ?? throwIt(unsupported('load balancer')),
      dns: (region) => instance(region).dns ?? throwIt(unsupported('DNS')),
      withDeadline: (operation, fn, o) =>
        runWithDeadline(
          {
            timeoutMs: config_.timeoutMs,
            onTimeout: () => new TimeoutError(`${operation} took longer than ${config_.timeoutMs} ms`, { provider: definition.name }),
            detached: o?.detached,
          },
          fn,
        ),
      slots,
    });
  }

  return {
    config,
    accounts,
    account(id, argument = 'account') {
      const found = accounts.get(id);
      if (!found) throw new NotFoundError(`argument "${argument}": no account "${id}" is configured`);
      return found;
    },
    cache,
    metrics,
    upstreamCalls,
    upstreamErrors,
    requestDuration,
    logger,
    async close() {
      stopProcessMetrics();
      await Promise.allSettled(instances.map((i) => i.close?.()));
    },
  };
}

function throwIt(err: Error): never {
  throw err;
}
