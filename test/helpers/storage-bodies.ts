/**
 * Upload bodies and call counts for the storage driver tests (s3, azure-blob): deterministic
 * bytes produced chunk by chunk (and hashed as produced), the MD5 of a download, and how often
 * each upstream operation was called.
 */
import { createHash } from 'node:crypto';
import type { TestDriverContext } from './driver-context.ts';

/** How patternBytes produces: chunks of `chunk` bytes; throws `error` once `failAfter` bytes are out. */
export interface PatternOptions {
  chunk?: number;
  failAfter?: number;
  error?: Error;
}

/**
 * `size` deterministic bytes (chunk i filled with i % 251) in chunks of `opts.chunk` (default
 * `defaultChunk`), hashed as produced; throws after `failAfter` bytes when set.
 */
export function patternBytes(size: number, defaultChunk: number, opts: PatternOptions = {}) {
  const hash = createHash('md5');
  const chunkSize = opts.chunk ?? defaultChunk;
  let produced = 0;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let sent = 0; sent < size; ) {
      if (opts.failAfter !== undefined && sent >= opts.failAfter) throw opts.error ?? new Error('body broke');
      const n = Math.min(chunkSize, size - sent);
      const chunk = Buffer.alloc(n, (sent / chunkSize) % 251);
      hash.update(chunk);
      sent += n;
      produced = sent;
      await Promise.resolve();
      yield chunk;
    }
  }
  return { chunks, md5: () => hash.digest('hex'), produced: () => produced };
}

/** The MD5 and size of everything `body` yields. */
export async function md5Of(body: AsyncIterable<Uint8Array>): Promise<{ md5: string; size: number }> {
  const hash = createHash('md5');
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { md5: hash.digest('hex'), size };
}

/** How often each of `operations` went upstream since the context's last resetCalls(). */
export function calls(ctx: TestDriverContext, ...operations: string[]): Record<string, number> {
  return Object.fromEntries(operations.map((op) => [op, ctx.calls.get(op) ?? 0]));
}
