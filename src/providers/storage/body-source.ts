/**
 * Pull-based reading of an upload body, shared by the streaming storage drivers (s3, azure-blob,
 * gcs, swift): bounded reads (a chunk is split when it is larger than asked for), a look ahead of
 * at most one of the caller's chunks to learn where the body ends, the MD5 and byte count of
 * everything read, an optional announced size, and a record of the caller's own failure so the
 * driver can rethrow it unchanged after cleaning up. Nothing is held but the caller's current
 * chunk; what a driver buffers beyond that is its own choice (readChunks, fillBuffer).
 */
import { createHash } from 'node:crypto';
import { InvalidInputError } from '../errors.ts';

/** Reads an upload body at most `max` bytes at a time. */
export interface BodySource {
  /** the next bytes (1..max of them), or null at the end of the body */
  read(max: number): Promise<Uint8Array | null>;
  /** true when the body has no more bytes (reads ahead one of the caller's chunks to know) */
  atEnd(): Promise<boolean>;
  /** bytes taken from the caller's iterable so far (a chunk read ahead included) */
  readonly total: number;
  /**
   * hex MD5 of every byte taken; final once the body has ended. null when the source was made
   * with `md5: false`.
   */
  md5(): string | null;
  /** what the caller's iterable threw, when it did */
  readonly failure: { cause: unknown } | undefined;
  /** stops the caller's iterable early (after a failure elsewhere) */
  cancel(): Promise<void>;
}

/** How a body source reads. */
export interface BodySourceOptions {
  /** the driver name, the `[provider]` prefix of its errors */
  provider: string;
  /** fail unless the body is exactly this many bytes */
  expectedSize?: number | undefined;
  /** hash what is read (default true); MD5 costs about 3 s per GiB of this process's CPU */
  md5?: boolean;
}

/** Bytes read as they came, not copied: `length` bytes in `chunks`. */
export interface Chunks {
  chunks: Uint8Array[];
  length: number;
}

/**
 * Wraps `body`. A chunk that is not a Uint8Array fails with InvalidInputError (field `body`); with
 * `expectedSize` set, reading past it, or ending before it, fails with InvalidInputError (field
 * `size`).
 */
export function bodySource(body: AsyncIterable<Uint8Array>, opts: BodySourceOptions): BodySource {
  const { provider, expectedSize } = opts;
  const iterator = body[Symbol.asyncIterator]();
  const hash = opts.md5 === false ? null : createHash('md5');
  let pending: Uint8Array | null = null;
  let done = false;
  let total = 0;
  let failure: { cause: unknown } | undefined;
  let digest: string | undefined;

  const pull = async (): Promise<Uint8Array | null> => {
    for (;;) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = await iterator.next();
      } catch (err) {
        failure = { cause: err };
        throw err;
      }
      if (step.done) {
        done = true;
        if (expectedSize !== undefined && total !== expectedSize) throw sizeMismatch(total, expectedSize, provider);
        return null;
      }
      const chunk: unknown = step.value;
      if (!(chunk instanceof Uint8Array)) throw new InvalidInputError('the upload body must yield Uint8Array chunks', { provider, field: 'body' });
      if (chunk.byteLength === 0) continue;
      total += chunk.byteLength;
      if (expectedSize !== undefined && total > expectedSize) throw sizeMismatch(total, expectedSize, provider);
      hash?.update(chunk);
      return chunk;
    }
  };

  return {
    async read(max) {
      if (pending === null) {
        if (done) return null;
        pending = await pull();
        if (pending === null) return null;
      }
      if (pending.byteLength <= max) {
        const chunk = pending;
        pending = null;
        return chunk;
      }
      const head = pending.subarray(0, max);
      pending = pending.subarray(max);
      return head;
    },
    async atEnd() {
      if (pending !== null) return false;
      if (done) return true;
      pending = await pull();
      return pending === null;
    },
    get total() {
      return total;
    },
    md5: () => (hash === null ? null : (digest ??= hash.digest('hex'))),
    get failure() {
      return failure;
    },
    async cancel() {
      if (done) return;
      done = true;
      pending = null;
      await Promise.resolve(iterator.return?.()).catch(() => undefined);
    },
  };
}

/** A source that first replays `prefix` (bytes already read from `rest`), then reads on from `rest`. */
export function prefixedSource(prefix: Uint8Array[], rest: Pick<BodySource, 'read'>): Pick<BodySource, 'read'> {
  return {
    async read(max) {
      const first = prefix[0];
      if (first === undefined) return rest.read(max);
      if (first.byteLength <= max) {
        prefix.shift();
        return first;
      }
      prefix[0] = first.subarray(max);
      return first.subarray(0, max);
    },
  };
}

/** The next `max` bytes as read, uncopied (fewer only at the end of the body). */
export async function readChunks(source: Pick<BodySource, 'read'>, max: number): Promise<Chunks> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  while (length < max) {
    const chunk = await source.read(max - length);
    if (chunk === null) break;
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  return { chunks, length };
}

/** Fills `buffer` from `source`; returns how many bytes it holds (fewer only at the end of the body). */
export async function fillBuffer(source: Pick<BodySource, 'read'>, buffer: Buffer): Promise<number> {
  let length = 0;
  while (length < buffer.length) {
    const chunk = await source.read(buffer.length - length);
    if (chunk === null) break;
    buffer.set(chunk, length);
    length += chunk.byteLength;
  }
  return length;
}

/** The error for a body that is not the size the caller announced. */
export function sizeMismatch(actual: number, expected: number, provider: string): InvalidInputError {
  const what = actual > expected ? `more than ${expected} bytes` : `${actual} bytes`;
  return new InvalidInputError(`the body was ${what}, but size said ${expected}`, { provider, field: 'size' });
}
