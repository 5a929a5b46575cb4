/**
 * Shared pieces of the live-engine tests: a mutable "world" the lister reads (the engine's input,
 * counted per call), event collectors and a bounded wait.
 */
import type { ListedResource, LiveEvent, LiveKind, LiveSubscription } from '../../src/live/types.ts';

export interface ListCall {
  accountId: string;
  region: string | null;
  kind: LiveKind;
  at: number;
}

/** Resources per (account, region, kind) that tests change between polls; the lister counts its calls. */
export function createWorld() {
  const resources = new Map<string, Map<string, ListedResource>>();
  const calls: ListCall[] = [];
  let failure: Error | null = null;
  const slot = (accountId: string, region: string | null, kind: LiveKind) => {
    const k = `${accountId}|${region}|${kind}`;
    let m = resources.get(k);
    if (!m) resources.set(k, (m = new Map()));
    return m;
  };
  return {
    calls,
    set(accountId: string, region: string | null, kind: LiveKind, r: ListedResource) {
      slot(accountId, region, kind).set(r.id, r);
    },
    remove(accountId: string, region: string | null, kind: LiveKind, id: string) {
      slot(accountId, region, kind).delete(id);
    },
    failWith(err: Error | null) {
      failure = err;
    },
    /** a Lister over this world; pass `log` to give a hub its own call log (every call also lands in `calls`) */
    lister(log: ListCall[] = calls) {
      return async (accountId: string, region: string | null, kind: LiveKind): Promise<ListedResource[]> => {
        log.push({ accountId, region, kind, at: Date.now() });
        if (log !== calls) calls.push({ accountId, region, kind, at: Date.now() });
        if (failure) throw failure;
        return [...slot(accountId, region, kind).values()].map((r) => ({ ...r }));
      };
    },
  };
}

export function node(id: string, state: string, extra: Record<string, unknown> = {}): ListedResource {
  return { id, state, item: { id, name: `n-${id}`, state, createdAt: new Date('2024-05-01T10:00:00.000Z'), ...extra } };
}

/** Drains a subscription into an array in the background. */
export function collect(sub: LiveSubscription): { events: LiveEvent[]; done: Promise<void> } {
  const events: LiveEvent[] = [];
  const done = (async () => {
    for await (const e of sub) events.push(e);
  })();
  return { events, done };
}

/** Polls `check` every 10 ms; fails after `timeoutMs` (a generous bound, never an assertion on speed). */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Gaps between consecutive calls, in ms. */
export function gaps(calls: readonly ListCall[]): number[] {
  return calls.slice(1).map((c, i) => c.at - (calls[i] as ListCall).at);
}

export function summary(events: readonly LiveEvent[]): string[] {
  return events.map((e) => `${e.kind} ${e.id} ${e.previousState}->${e.state} ${e.source}`);
}
