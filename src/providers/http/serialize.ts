/**
 * Serialize stage: RequestOptions -> HttpRequest (URL, query, headers, body). No I/O.
 */
import { InvalidInputError } from '../errors.ts';
import type { RequestOptions } from './connection.ts';
import type { HttpRequest } from './types.ts';

export type QueryValue = string | number | boolean | undefined | null | string[];

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** GET/HEAD/PUT/DELETE/OPTIONS are idempotent; POST/PATCH (and anything else) are not. */
export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method.toUpperCase());
}

/** RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - . _ ~`. */
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `application/x-www-form-urlencoded` with RFC 3986 encoding (spaces as `%20`), in key order given. */
export function encodeForm(form: Record<string, string>): string {
  return Object.entries(form)
    .map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`)
    .join('&');
}

/** Query string (no `?`): null/undefined skipped, arrays repeat the key, RFC 3986 encoding. */
export function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v]) parts.push(`${encodeRfc3986(k)}=${encodeRfc3986(String(item))}`);
  }
  return parts.join('&');
}

/**
 * Resolves `path` against the base URL: a relative path is appended to the base path with
 * exactly one `/` between them, and may carry its own `?query` (kept verbatim, e.g. `?uploads`);
 * an absolute URL (pagination links) must have the base URL's origin, because the signer's
 * credentials must never go to a host the account did not name. Path segments must arrive
 * percent-encoded; `.`/`..` segments are refused rather than silently resolved.
 */
export function buildUrl(base: URL, path: string | undefined, query: Record<string, QueryValue> | undefined, operation: string): URL {
  let url: URL;
  if (path && /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    url = new URL(path);
    if (url.origin !== base.origin) {
      throw new InvalidInputError(`${operation}: refusing to send a request to ${url.origin}; this connection only talks to ${base.origin}`, { field: 'path' });
    }
    url.hash = '';
  } else {
    const raw = path ?? '';
    const q = raw.indexOf('?');
    const relative = q === -1 ? raw : raw.slice(0, q);
    const ownQuery = q === -1 ? '' : raw.slice(q + 1);
    const basePath = base.pathname.replace(/\/+$/, '');
    const rest = relative.replace(/^\/+/, '');
    const joined = rest === '' ? basePath || '/' : `${basePath}/${rest}`;
    if (joined.split('/').some((seg) => /^(\.|%2e){1,2}$/i.test(seg))) {
      throw new InvalidInputError(`${operation}: path has a '.' or '..' segment; encode it as part of a name instead`, { field: 'path' });
    }
    url = new URL(base.origin);
    url.pathname = joined;
    url.search = ownQuery;
  }
  const extra = encodeQuery(query);
  if (extra) url.search = url.search ? `${url.search.slice(1)}&${extra}` : extra;
  return url;
}

/** Builds the unsigned request. Header names come out lower-case. */
export function serializeRequest(base: URL, opts: RequestOptions, userAgent: string): HttpRequest {
  const method = (opts.method ?? 'GET').toUpperCase();
  const url = buildUrl(base, opts.path, opts.query, opts.operation);
  const headers: Record<string, string> = { 'user-agent': userAgent };
  const responseType = opts.responseType ?? 'json';
  if (responseType === 'json') headers.accept = 'application/json';
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;

  const given = [opts.body !== undefined, opts.json !== undefined, opts.form !== undefined].filter(Boolean).length;
  if (given > 1) throw new InvalidInputError(`${opts.operation}: pass only one of body, json and form`);
  let body: HttpRequest['body'] = null;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] ??= 'application/json';
  } else if (opts.form !== undefined) {
    body = encodeForm(opts.form);
    headers['content-type'] ??= 'application/x-www-form-urlencoded; charset=utf-8';
  } else if (opts.body !== undefined) {
    body = opts.body;
  }
  // why: signers that cover Content-Length (Azure SharedKey) need it before undici computes it
  if (typeof body === 'string') headers['content-length'] ??= String(Buffer.byteLength(body));
  else if (body instanceof Uint8Array) headers['content-length'] ??= String(body.byteLength);
  return { method, url, headers, body };
}

/** True for bodies that are streamed (and so can be sent only once). */
export function isStreamBody(body: HttpRequest['body']): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && !(body instanceof Uint8Array) && Symbol.asyncIterator in body;
}

/** A shallow copy a signer may mutate without touching the prepared request. */
export function copyRequest(req: HttpRequest): HttpRequest {
  return { method: req.method, url: new URL(req.url), headers: { ...req.headers }, body: req.body ?? null };
}
