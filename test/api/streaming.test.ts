import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const MiB = 1024 * 1024;
const SIZE = 200 * MiB;
const CHUNK = 64 * 1024;
const pattern = Buffer.alloc(CHUNK);
for (let i = 0; i < CHUNK; i++) pattern[i] = (i * 7 + (i >> 8)) & 0xff;
const byteAt = (pos: number) => pattern[pos % CHUNK]!;

function body(size: number, md5: ReturnType<typeof createHash>): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(CHUNK, size - sent);
      const chunk = n === CHUNK ? pattern : pattern.subarray(0, n);
      md5.update(chunk);
      controller.enqueue(new Uint8Array(chunk));
      sent += n;
    },
  });
}

describe('api: streaming transfers through GET/PUT /objects', () => {
  let s: ServerProcess;
  let peak = 0;
  let baseline = 0;
  let sampler: NodeJS.Timeout;
  beforeAll(async () => {
    s = await startServerProcess({ accounts: [{ id: 'local', driver: 'local', options: { root: '$DIR/data' } }] });
  });
  afterAll(async () => {
    clearInterval(sampler);
    await s?.stop();
  });

  async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(`${s.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const json = (await res.json()) as { data: T; errors?: unknown };
    expect(json.errors).toBeUndefined();
    return json.data;
  }

  it('streams 200 MiB up and down, with ranges, while the server RSS grows by less than 50 MB', async () => {
    const { createContainer: { container: createContainer } } = await gql<{ createContainer: { container: { id: string } } }>(
      'mutation { createContainer(input: { account: "local", name: "big" }) { container { id } } }',
    );
    // warm up the code paths before taking the baseline
    const warm = await fetch(`${s.url}/objects/${createContainer.id}/warm`, { method: 'PUT', body: 'warm' });
    expect(warm.status).toBe(201);
    await (await fetch(`${s.url}/objects/${((await warm.json()) as { id: string }).id}`)).text();
    baseline = s.rss();
    peak = baseline;
    sampler = setInterval(() => (peak = Math.max(peak, s.rss())), 20);

    const md5 = createHash('md5');
    const put = await fetch(`${s.url}/objects/${createContainer.id}/blob.bin`, {
      method: 'PUT',
      body: body(SIZE, md5),
      duplex: 'half',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) },
    } as RequestInit);
    expect(put.status).toBe(201);
    const uploaded = (await put.json()) as { id: string; size: number; hash: string };
    expect(uploaded.size).toBe(SIZE);
    expect(uploaded.hash).toBe(md5.digest('hex'));

    const down = await fetch(`${s.url}/objects/${uploaded.id}`);
    expect(down.status).toBe(200);
    expect(down.headers.get('content-length')).toBe(String(SIZE));
    expect(down.headers.get('etag')).toBe(`"${uploaded.hash}"`);
    const hash = createHash('md5');
    let received = 0;
    for await (const chunk of down.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      received += chunk.length;
    }
    expect(received).toBe(SIZE);
    expect(hash.digest('hex')).toBe(uploaded.hash);

    const start = 150 * MiB + 12345;
    const ranged = await fetch(`${s.url}/objects/${uploaded.id}`, { headers: { range: `bytes=${start}-${start + 999}` } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes ${start}-${start + 999}/${SIZE}`);
    const bytes = new Uint8Array(await ranged.arrayBuffer());
    expect(bytes.length).toBe(1000);
    expect([...bytes.subarray(0, 4)]).toEqual([0, 1, 2, 3].map((i) => byteAt(start + i)));
    const suffix = await fetch(`${s.url}/objects/${uploaded.id}`, { headers: { range: 'bytes=-10' } });
    expect(suffix.status).toBe(206);
    expect((await suffix.arrayBuffer()).byteLength).toBe(10);
    const beyond = await fetch(`${s.url}/objects/${uploaded.id}`, { headers: { range: `bytes=${SIZE + 5}-` } });
    expect(beyond.status).toBe(416);
    await beyond.text();

    clearInterval(sampler);
    const growth = peak - baseline;
    console.log(`streaming 200 MiB: server RSS baseline ${(baseline / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, growth ${(growth / MiB).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(50 * 1000 * 1000);
  }, 180_000);
});
