import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { createConnection } from '../../src/providers/http/connection.ts';
import { startReplayServer } from '../helpers/replay-server.ts';
import { startRawServer } from './support.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const MiB = 1024 * 1024;

describe('http: streaming and sockets', () => {
  it('streams a 50 MiB response body: chunks arrive while the server is still blocked sending', async () => {
    const total = 50 * MiB;
    const chunk = Buffer.alloc(MiB, 0x61);
    const sent = { bytes: 0, finished: false };
    const server = await startRawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
      const pump = () => {
        while (sent.bytes < total) {
          sent.bytes += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        sent.finished = true;
        res.end();
      };
      pump();
    });
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 'test', baseUrl: server.url });
    cleanup.push(() => conn.close());

    const res = await conn.request<Readable>({ operation: 'GetObject', path: 'b/big', responseType: 'stream' });
    const iterator = res.body[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    // let the server push all it can; a client that buffered the body would let it finish
    let last = -1;
    while (sent.bytes !== last) {
      last = sent.bytes;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sent.finished).toBe(false);
    expect(sent.bytes).toBeLessThan(total / 2);

    // why: Buffers live outside the JS heap and are freed lazily; collect so what we measure is what is held
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const held = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = held();
    let received = (first.value as Buffer).length;
    let peak = 0;
    let sinceSample = 0;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      received += (next.value as Buffer).length;
      sinceSample += (next.value as Buffer).length;
      if (sinceSample >= 5 * MiB) {
        sinceSample = 0;
        peak = Math.max(peak, held() - before);
      }
    }
    expect(received).toBe(total);
    expect(sent.finished).toBe(true);
    expect(peak).toBeLessThan(20 * MiB);
  });

  it('streams a request body from an async iterable without buffering it first', async () => {
    const parts = 64;
    const part = Buffer.alloc(256 * 1024, 0x62);
    let produced = 0;
    let receivedBeforeProducerDone = false;
    let serverBytes = 0;
    const hash = createHash('sha256');
    const server = await startRawServer(async (req, res) => {
      for await (const c of req) {
        serverBytes += (c as Buffer).length;
        hash.update(c as Buffer);
        if (produced < parts) receivedBeforeProducerDone = true;
      }
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes: serverBytes }));
    });
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 'test', baseUrl: server.url });
    cleanup.push(() => conn.close());
    async function* body() {
      for (let i = 0; i < parts; i++) {
        produced++;
        yield part;
      }
    }
    const res = await conn.request<{ bytes: number }>({ operation: 'PutObject', method: 'PUT', path: 'b/k', body: body() });
    expect(res.status).toBe(201);
    expect(res.body.bytes).toBe(parts * part.length);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(Buffer.concat(Array(parts).fill(part))).digest('hex'));
    expect(receivedBeforeProducerDone).toBe(true);
  });

  it('reuses one kept-alive socket for 5 sequential requests', async () => {
    const server = await startRawServer((req, res) => {
      const status = req.url === '/missing' ? 404 : 200;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
    });
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 'test', baseUrl: server.url });
    cleanup.push(() => conn.close());
    for (let i = 0; i < 5; i++) {
      const res = await conn.request<{ path: string }>({ operation: 'Get', path: `n/${i}`, responseType: i % 2 ? 'text' : 'json' });
      expect(res.status).toBe(200);
    }
    // an error status (body read and discarded) and a drained body must not cost the socket either
    await expect(conn.request({ operation: 'Missing', path: 'missing' })).rejects.toMatchObject({ status: 404 });
    await conn.request({ operation: 'Head', method: 'HEAD', path: 'h', responseType: 'none' });
    expect(server.connections).toBe(1);
  });

  it("'none' drains, and an empty JSON body (204) is undefined", async () => {
    const server = await startReplayServer([
      { method: 'DELETE', path: '/v1/servers/s1', status: 204 },
      { method: 'POST', path: '/v1/servers/s1/action', status: 202, body: 'accepted' },
    ]);
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 'test', baseUrl: `${server.url}/v1/` });
    cleanup.push(() => conn.close());
    const del = await conn.request({ operation: 'DeleteServer', method: 'DELETE', path: '/servers/s1' });
    expect(del).toEqual({ status: 204, headers: expect.any(Object), body: undefined, requestId: undefined });
    const act = await conn.request({ operation: 'Reboot', method: 'POST', path: 'servers/s1/action', json: { reboot: { type: 'SOFT' } }, responseType: 'none' });
    expect(act.body).toBeUndefined();
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/servers/s1', '/v1/servers/s1/action']);
    expect(server.failures).toEqual([]);
  });
});
