/** Parse stage: reads a response body according to the requested ResponseType. */
import { setImmediate as nextLoopTurn } from 'node:timers/promises';
import { MalformedResponseError } from '../errors.ts';
import type { ResponseType } from './connection.ts';
import type { ParseContext } from './parsers/context.ts';
import { parseJsonResponse } from './parsers/json.ts';
import { parseKvRecordsResponse, parseKvResponse, type KvSeparator } from './parsers/kv.ts';
import { parseXmlResponse } from './parsers/xml.ts';
import type { RawResponse } from './send.ts';

/** why: an error body is only mined for a message; a proxy's 50 MB HTML page is not read whole */
export const ERROR_BODY_LIMIT = 64 * 1024;

export async function readBody(
  res: RawResponse,
  type: ResponseType,
  ctx: ParseContext & { xmlArrays?: readonly string[] | undefined; kvSeparator?: KvSeparator | undefined; maxBytes?: number | undefined },
): Promise<unknown> {
  if (type === 'stream') return res.body;
  if (type === 'none') {
    await res.body.dump();
    await settle();
    return undefined;
  }
  const text = ctx.maxBytes === undefined ? await res.body.text() : await readLimited(res, ctx.maxBytes, ctx);
  await settle();
  switch (type) {
    case 'text':
      return text;
    case 'json':
      return parseJsonResponse(text, ctx);
    case 'xml':
      return parseXmlResponse(text, ctx);
    case 'kv':
      return parseKvResponse(text, ctx, { separator: ctx.kvSeparator });
    case 'kv-records':
      return parseKvRecordsResponse(text, ctx, { separator: ctx.kvSeparator });
  }
}

/**
 * why: undici hands a kept-alive socket back to its pool one event-loop turn after the response
 * ends; a caller that sends its next request sooner makes the Pool open a second socket (a second
 * TLS handshake). Waiting that turn here keeps sequential calls on one socket.
 */
export function settle(): Promise<void> {
  return nextLoopTurn();
}

/**
 * Reads a whole body as UTF-8 (a leading BOM dropped, as undici's text() does), refusing one
 * that says or turns out to be longer than `limit` bytes before it is all in memory.
 */
export async function readLimited(res: RawResponse, limit: number, ctx: ParseContext): Promise<string> {
  const tooLong = () => {
    res.body.destroy();
    return new MalformedResponseError(`${ctx.operation} ${ctx.status}: the response body is over the ${limit}-byte limit`, {
      provider: ctx.provider,
      status: ctx.status,
      requestId: ctx.requestId,
    });
  };
  if (Number(res.headers['content-length'] ?? 0) > limit) throw tooLong();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLong();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks, size).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Reads at most `limit` bytes as UTF-8 and discards the rest (closing the socket if it is long). */
export async function readCapped(body: RawResponse['body'], limit = ERROR_BODY_LIMIT): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) break;
  }
  await settle();
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}
