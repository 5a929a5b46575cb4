/**
 * Object transfer outside GraphQL, streamed both ways:
 *   GET|HEAD /objects/<object id>               bytes, with Range, ETag, Content-Length
 *   PUT      /objects/<container id>/<name>     raw body of any size -> 201 + Object JSON
 * Memory stays flat: bodies are piped between the socket and the driver, never collected.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { decodeId, encodeId } from '../ids.ts';
import { InvalidInputError, SkygraphError, toSkygraphError } from '../providers/errors.ts';
import type { ByteRange } from '../providers/types.ts';
import type { Runtime } from '../runtime.ts';

const STATUS: Record<string, number> = {
  NOT_FOUND: 404,
  INVALID_INPUT: 400,
  CONFLICT: 409,
  UNSUPPORTED: 501,
  RATE_LIMITED: 503,
  TIMEOUT: 504,
  UNAVAILABLE: 503,
  AUTHENTICATION_FAILED: 502,
  PROVIDER_ERROR: 502,
  MALFORMED_RESPONSE: 502,
  CONNECTION_FAILED: 502,
};

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { code, message } }));
}

function sendSkygraphError(res: ServerResponse, err: unknown, provider?: string): void {
  const e = err instanceof SkygraphError ? err : toSkygraphError(err, provider);
  sendError(res, STATUS[e.code] ?? 500, e.code, e.message);
}

/** Parses one `bytes=` range; undefined for none (or several, which we answer with the whole body). */
export function parseRange(header: string | undefined, size: () => Promise<number>): Promise<ByteRange | undefined> | ByteRange | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const suffix = Number(b);
    return size().then((total) => ({ start: Math.max(0, total - suffix), end: total - 1 }));
  }
  const start = Number(a);
  const end = b === '' ? undefined : Number(b);
  if (end !== undefined && end < start) throw new InvalidInputError(`range ${header} is not satisfiable`);
  return { start, end };
}

export async function handleGetObject(runtime: Runtime, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  let provider: string | undefined;
  try {
    const d = decodeId(id, 'Object', 'id');
    const [container = '', name = ''] = d.parts;
    const account = runtime.account(d.account, 'id');
    provider = account.definition.name;
    const driver = account.storage(d.region);
    const range = await parseRange(req.headers.range, async () => (await driver.getObject(container, name)).size);
    if (req.method === 'HEAD') {
      const o = await driver.getObject(container, name);
      res.writeHead(200, headersFor(o, o.size));
      res.end();
      return;
    }
    let download;
    try {
      download = await driver.downloadObject(container, name, range);
    } catch (err) {
      if (range && err instanceof InvalidInputError) {
        const o = await driver.getObject(container, name);
        res.writeHead(416, { 'content-range': `bytes */${o.size}`, 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'RANGE_NOT_SATISFIABLE', message: err.message } }));
        return;
      }
      throw err;
    }
    const { object, body } = download;
    if (download.range) {
      const { start, end, total } = download.range;
      res.writeHead(206, { ...headersFor(object, end - start + 1), 'content-range': `bytes ${start}-${end}/${total}` });
    } else {
      res.writeHead(200, headersFor(object, object.size));
    }
    await pipeline(body, res).catch((err: unknown) => {
      // why: a client that goes away mid-download is not a server error
      body.destroy();
      if (!res.destroyed) res.destroy(err instanceof Error ? err : undefined);
    });
  } catch (err) {
    sendSkygraphError(res, err, provider);
  }
}

function headersFor(o: { contentType: string | null; hash: string | null; lastModified: Date | null }, length: number) {
  const h: Record<string, string> = {
    'content-type': o.contentType ?? 'application/octet-stream',
    'content-length': String(length),
    'accept-ranges': 'bytes',
  };
  if (o.hash) h.etag = `"${o.hash}"`;
  if (o.lastModified) h['last-modified'] = o.lastModified.toUTCString();
  return h;
}

/** User metadata from `x-object-meta-*` headers (the Swift/S3 convention). */
function metadataFrom(req: IncomingMessage): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.startsWith('x-object-meta-') && typeof v === 'string') meta[k.slice('x-object-meta-'.length)] = v;
  }
  return meta;
}

export async function handlePutObject(runtime: Runtime, req: IncomingMessage, res: ServerResponse, containerId: string, name: string): Promise<void> {
  let provider: string | undefined;
  try {
    const d = decodeId(containerId, 'Container', 'container');
    if (!name) throw new InvalidInputError('the object name is missing: PUT /objects/<container id>/<name>', { field: 'name' });
    const account = runtime.account(d.account, 'container');
    provider = account.definition.name;
    const length = req.headers['content-length'];
    const o = await account.storage(d.region).uploadObject(d.parts[0] ?? '', name, req, {
      contentType: req.headers['content-type'],
      metadata: metadataFrom(req),
      size: length !== undefined ? Number(length) : undefined,
    });
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: encodeId('Object', d.account, d.region, o.container, o.name),
        name: o.name,
        size: o.size,
        hash: o.hash,
        contentType: o.contentType,
      }),
    );
  } catch (err) {
    // why: drain nothing more from a failed upload; the client gets the error now
    req.resume();
    sendSkygraphError(res, err, provider);
  }
}
