/**
 * Paging over several lists in sorted runs (paginateLists) answers exactly what sorting the
 * merged list answers (paginate), for every cursor, direction and filter; long work gives the
 * event loop turns; a paced page still sends its lookups upstream as one DataLoader batch.
 */
import DataLoader from 'dataloader';
import { describe, expect, it } from 'vitest';
import { paginate, paginateLists, type Ordering, type PageArgs } from '../../src/resolvers/paginate.ts';
import { createPacedLists, EDGES_PER_TURN } from '../../src/resolvers/pace.ts';

interface Item {
  id: string;
  name: string;
  size: number | null;
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

function lists(rand: () => number, count: number, length: () => number): Item[][] {
  return Array.from({ length: count }, (_, l) =>
    Array.from({ length: length() }, (_, i) => ({
      id: `l${l}-${i}`,
      name: `n${Math.floor(rand() * 50)}`,
      size: rand() < 0.2 ? null : Math.floor(rand() * 100),
    })),
  );
}

const orderings: Ordering<Item>[] = [
  { tag: 'id', key: (i) => [i.id] },
  { tag: 'name', key: (i) => [i.name, i.id] },
  { tag: 'size-desc', key: (i) => [i.size, i.id], descending: [true] },
];

describe('paginate: sorted runs', () => {
  it('pages several lists exactly as sorting their concatenation does', async () => {
    const rand = random(7);
    for (let round = 0; round < 30; round++) {
      // some lists past the run size (2,048), so they are sorted in several runs and merged
      const input = lists(rand, 1 + Math.floor(rand() * 4), () => (rand() < 0.15 ? 2048 + Math.floor(rand() * 3000) : Math.floor(rand() * 60)));
      const flat = input.flat();
      const ordering = orderings[round % orderings.length]!;
      const match = round % 2 ? (i: Item) => i.size === null || i.size > 30 : undefined;
      const kept = match ? flat.filter(match) : flat;
      const whole = paginate(kept, ordering, { first: 1000 });
      const cursors = [null, ...whole.edges.filter((_, i) => i % 97 === 3).map((e) => e.cursor)];
      for (const after of cursors) {
        for (const before of [null, cursors.at(-1) ?? null]) {
          const cases: PageArgs[] = [{ first: 1 + Math.floor(rand() * 300), after, before }, { last: 1 + Math.floor(rand() * 300), after, before }, { after, before }];
          for (const args of cases) {
            expect(await paginateLists(input, ordering, args, match), JSON.stringify({ round, args })).toEqual(paginate(kept, ordering, args));
          }
        }
      }
    }
  });

  it('refuses bad arguments as paginate does', async () => {
    const input = [[{ id: 'a', name: 'a', size: 1 }]];
    await expect(paginateLists(input, orderings[0]!, { first: 1001 })).rejects.toThrow('argument "first" must be between 1 and 1000');
    await expect(paginateLists(input, orderings[0]!, { first: 1, last: 1 })).rejects.toThrow('cannot be used together');
    await expect(paginateLists(input, orderings[0]!, { after: 'not-a-cursor' })).rejects.toThrow('argument "after" is not a cursor');
    const other = paginate(input[0]!, orderings[1]!, {}).edges[0]!.cursor;
    await expect(paginateLists(input, orderings[0]!, { after: other })).rejects.toThrow('not a cursor of this list and order');
  });

  it('gives the event loop turns while sorting a large list, and sorts a list it has sorted before at no cost', async () => {
    const big = lists(random(3), 1, () => 20_000)[0]!;
    let turns = 0;
    let counting = true;
    const tick = () => {
      if (!counting) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    await paginateLists([big], orderings[1]!, { first: 10 });
    counting = false;
    expect(turns).toBeGreaterThanOrEqual(5);

    let keys = 0;
    const counted: Ordering<Item> = { tag: 'name', key: (i) => (keys++, [i.name, i.id]) };
    await paginateLists([big], counted, { first: 10, after: null });
    // why: the runs sorted for tag "name" above are remembered for this list
    expect(keys).toBe(0);
  });
});

describe('pace: a page completed in chunks', () => {
  it('hands items out a chunk per turn, and holds DataLoader batches until the last chunk is out', async () => {
    const pace = createPacedLists();
    const batches: number[][] = [];
    const loader = new DataLoader<number, number>(async (keys) => (batches.push([...keys]), keys.map((k) => k * 2)), { batchScheduleFn: pace.schedule });
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const paced = pace.paced(items);
    expect(paced.slice(0, EDGES_PER_TURN)).toEqual(items.slice(0, EDGES_PER_TURN));
    const turnsSeen: number[] = [];
    let turn = 0;
    const tick = () => {
      turn++;
      if (turn < 50) setImmediate(tick);
    };
    setImmediate(tick);
    // each item "resolves" a field that loads by its key, as a node's image does
    const values = await Promise.all(
      paced.map(async (p) => {
        const item = await p;
        turnsSeen.push(turn);
        return loader.load(item);
      }),
    );
    expect(values).toEqual(items.map((i) => i * 2));
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(1000);
    expect(new Set(turnsSeen).size).toBeGreaterThanOrEqual(1000 / EDGES_PER_TURN);
    // a short list is not paced, and batches go out as DataLoader would once nothing is paced
    expect(pace.paced([1, 2, 3])).toEqual([1, 2, 3]);
    expect(await loader.load(5000)).toBe(10_000);
    expect(batches).toHaveLength(2);
  });
});
