/**
 * Long-lived services beside the runtime: the live-state hub (shared pollers, pubsub, leases).
 * Mutations report what they changed here so subscribers hear of it at once, without waiting
 * for the next poll.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Runtime } from './runtime.ts';
import { createLiveHub } from './live/hub.ts';
import { inProcessPubSub } from './live/pubsub-memory.ts';
import { localLeases } from './live/leases-local.ts';
import { redisPubSub } from './live/pubsub-redis.ts';
import { redisLeases } from './live/leases-redis.ts';
import { balancerResource, nodeResource } from './live/resources.ts';
import type { LiveHub, LiveKind } from './live/types.ts';
import { createHealthBook, type HealthBook } from './live/health.ts';
import type { Service } from './providers/types.ts';
import { createDeploymentManager } from './deploy/manager.ts';
import type { DeploymentManager } from './deploy/types.ts';

export interface MutationEvent {
  resource: LiveKind;
  kind: 'CREATED' | 'UPDATED' | 'DELETED';
  accountId: string;
  region: string | null;
  id: string;
  item: unknown;
  previousState: string | null;
  state: string | null;
}

export interface Services {
  live: LiveHub;
  /** every account's health, from request calls and live polls alike */
  health: HealthBook;
  deployments: DeploymentManager;
  /** region of each deployment's node, for Deployment.node */
  deploymentRegions: Map<string, string | null>;
  /** called after each successful node or balancer mutation */
  mutated(event: MutationEvent): void;
  close(): Promise<void>;
}

export interface ServicesOptions {
  /** `redis://` URL to share events and poll leases between replicas; in-process without it */
  pubsub?: string | undefined;
  replicaId?: string;
  boostIntervalMs?: number;
  /** how often a deployment polls its node's state (ms) */
  deployPollMs?: number;
}

const SERVICE_OF: Record<LiveKind, Service> = { node: 'COMPUTE', loadBalancer: 'LOADBALANCER' };

export function createServices(runtime: Runtime, opts: ServicesOptions = {}): Services {
  const url = opts.pubsub;
  const health = createHealthBook(() => new Date(), (accountId, h) => {
    if (!h.ok) runtime.logger.warn('account failing', { account: accountId, failures: h.consecutiveFailures, code: h.lastError?.code });
    else runtime.logger.info('account recovered', { account: accountId });
  });
  const live = createLiveHub({
    healthBook: health,
    pubsub: url ? redisPubSub(url, { logger: runtime.logger }) : inProcessPubSub(),
    leases: url ? redisLeases(url, { logger: runtime.logger }) : localLeases(),
    replicaId: opts.replicaId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    logger: runtime.logger,
    boostIntervalMs: opts.boostIntervalMs,
    intervalMs: (accountId) => runtime.accounts.get(accountId)?.config.pollIntervalMs ?? 5000,
    targets: (accountId, kind) => {
      const account = runtime.accounts.get(accountId);
      if (!account?.definition.services.includes(SERVICE_OF[kind])) return [];
      return account.regions.map((region) => ({ region }));
    },
    // why: what a poll lists is the freshest there is; requests read it from the result cache
    list: (accountId, region, kind) => {
      const account = runtime.account(accountId);
      const { cache } = runtime;
      const since = cache.generation(accountId);
      // why: under the account's deadline like any call, so a hanging upstream cannot stall the poller
      return account.withDeadline(kind === 'node' ? 'poll nodes' : 'poll loadBalancers', async () => {
        if (kind === 'node') {
          const nodes = await account.compute(region).listNodes();
          cache.put(accountId, region, 'listNodes', null, nodes, since);
          return nodes.map(nodeResource);
        }
        const driver = account.loadBalancer(region);
        const balancers = await driver.listBalancers();
        cache.put(accountId, region, 'listBalancers', null, balancers, since);
        return Promise.all(
          balancers.map(async (b) => {
            const members = await driver.listMembers(b.id);
            cache.put(accountId, region, 'listMembers', b.id, members, since);
            return balancerResource(b, members);
          }),
        );
      });
    },
  });
  const gauges = [
    ['skygraph_live_subscribers', 'Live subscriptions open on this replica', 'subscribers'],
    ['skygraph_live_listeners', 'Event channels this replica listens on (pubsub subscriptions made)', 'listeners'],
    ['skygraph_live_pollers', 'Shared pollers running on this replica, one per (account, region, kind)', 'pollers'],
    ['skygraph_live_leases_held', 'Pollers whose lease this replica holds, so it is the one that polls', 'leasesHeld'],
  ] as const;
  for (const [name, help, stat] of gauges) runtime.metrics.gauge(name, help, () => live.stats()[stat]);
  const deployments = createDeploymentManager({ logger: runtime.logger, pollMs: opts.deployPollMs });
  return {
    live,
    health,
    deployments,
    deploymentRegions: new Map(),
    mutated(event) {
      live.publishMutation(event).catch((err: unknown) =>
        runtime.logger.warn('could not publish a mutation event', { account: event.accountId, error: err instanceof Error ? err.message : String(err) }),
      );
    },
    async close() {
      await deployments.close();
      await live.close();
    },
  };
}
