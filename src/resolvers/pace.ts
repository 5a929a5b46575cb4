/**
 * Turns of the event loop inside long work: building a large answer (scoping a 10,000-item
 * listing, sorting it, completing a page of 1,000 edges) in one go would hold every other request
 * (/healthz, small queries) until it ends; a pacer lets the loop run in between, every so much work.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

export interface Pacer {
  /** counts `units` of work done; a promise of the next turn of the event loop once enough were done since the last */
  step(units?: number): Promise<void> | undefined;
}

/** Units of work (items mapped, sorted or filtered) between turns: a few ms at most. */
export const PACE_UNITS = 2048;

export function pacer(every = PACE_UNITS): Pacer {
  let done = 0;
  return {
    step(units = 1) {
      done += units;
      if (done < every) return undefined;
      done = 0;
      return nextTurn();
    },
  };
}

/** Edges of a page completed per turn of the event loop. */
export const EDGES_PER_TURN = 200;

/**
 * One request's paced lists and the DataLoader batches that wait for them. A page of 1,000
 * edges is handed to GraphQL EDGES_PER_TURN at a time, a turn of the event loop apart, so its
 * completion (resolvers, then serialisation of what they built) never holds the loop for long;
 * the loaders' batches wait until every paced list of the request is out, so the lookups of the
 * whole page still go upstream as one batch (one getImages for 1,000 nodes, not one per chunk).
 */
export interface PacedLists {
  /** the items, those past the first EDGES_PER_TURN as promises released a turn apart, a chunk at a time */
  paced<T>(items: readonly T[]): readonly (T | Promise<T>)[];
  /** a DataLoader batchScheduleFn: dispatches as DataLoader would, or once the paced lists are out */
  schedule(dispatch: () => void): void;
}

export function createPacedLists(every = EDGES_PER_TURN): PacedLists {
  let releasing = 0;
  let waiting: (() => void)[] = [];
  const flush = () => {
    const batches = waiting;
    waiting = [];
    for (const dispatch of batches) dispatch();
  };
  return {
    paced<T>(items: readonly T[]) {
      if (items.length <= every) return items;
      releasing++;
      const out: (T | Promise<T>)[] = items.slice(0, every);
      let turn: Promise<void> = Promise.resolve();
      for (let i = every; i < items.length; i += every) {
        turn = turn.then(() => nextTurn());
        const released = turn;
        for (const item of items.slice(i, i + every)) out.push(released.then(() => item));
      }
      // why: a turn after the last chunk, so the lookups its resolvers started are in the batches
      void turn.then(() => nextTurn()).then(() => {
        if (--releasing === 0) flush();
      });
      return out;
    },
    schedule(dispatch) {
      if (releasing > 0) waiting.push(dispatch);
      // DataLoader's own schedule: after the promise jobs of this tick
      else void Promise.resolve().then(() => process.nextTick(dispatch));
    },
  };
}
