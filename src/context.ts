/** What every resolver gets: the shared runtime plus this request's loaders and failures. */
import type { Runtime } from './runtime.ts';
import { createLoaders, type Loaders } from './loaders/index.ts';
import type { SkygraphError } from './providers/errors.ts';
import type { Transfers } from './http/transfers.ts';
import type { Services } from './services.ts';
import type { Principal } from './http/auth.ts';
import { createPacedLists, type PacedLists } from './resolvers/pace.ts';

/** One provider that failed during a fan-out; returned in `failures` and in top-level errors. */
export interface ProviderFailure {
  account: string;
  provider: string;
  region: string | null;
  code: string;
  message: string;
  retryable: boolean;
  /** the response path of the field that saw it (aliases and list indexes included) */
  path: readonly (string | number)[];
  error?: SkygraphError;
}

export interface Context {
  runtime: Runtime;
  services: Services;
  loaders: Loaders;
  failures: ProviderFailure[];
  transfers: Transfers;
  /** base URL clients reach us at (server.publicUrl, else the listen address), for the URLs we hand out; never the Host header */
  origin: string;
  /** who is calling (the bearer token's name and scope) */
  principal?: Principal | undefined;
  /** long lists handed to GraphQL a chunk per turn of the event loop, with the loaders' batches waiting for them */
  pace: PacedLists;
}

export function createContext(runtime: Runtime, services: Services, transfers: Transfers, origin: string, principal?: Principal): Context {
  const pace = createPacedLists();
  return { runtime, services, loaders: createLoaders(runtime, { batchScheduleFn: pace.schedule }), failures: [], transfers, origin, principal, pace };
}

/**
 * Starts a fresh unit of work on a long-lived context: each live event of a subscription is
 * resolved with new loaders (reading the shared result cache, which polls keep fresh) and no
 * failures left over from the previous event.
 */
export function freshContext(ctx: Context): Context {
  ctx.pace = createPacedLists();
  ctx.loaders = createLoaders(ctx.runtime, { batchScheduleFn: ctx.pace.schedule });
  ctx.failures = [];
  return ctx;
}
