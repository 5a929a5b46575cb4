/**
 * Secret scrubbing for errors and logs. The connection never puts request headers, the query
 * string or the request body into an error; this is the second line of defence for upstream
 * bodies that echo them back.
 */
import type { HttpRequest } from './types.ts';

export const REDACTED = '[REDACTED]';

/** Header names (lower-case) whose values are always secret. */
export const SECRET_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-auth-token',
  'x-auth-key',
  'x-subject-token',
  'x-storage-token',
  'x-storage-pass',
  'x-amz-security-token',
  'x-amz-server-side-encryption-customer-key',
  'x-amz-copy-source-server-side-encryption-customer-key',
  'x-ms-encryption-key',
  'x-ms-copy-source-authorization',
  'x-api-key',
];

/** Parameter / field names treated as secret in queries, forms and JSON bodies. */
const SECRET_NAME = /auth|token|secret|passw|credential|signature|(^|[_-])sig$|api-?key|access-?key|private/i;
/** why: fragments shorter than this are ordinary words more often than secrets */
const MIN_PIECE = 16;
const MIN_SECRET = 4;

export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADERS.includes(lower) || SECRET_NAME.test(lower);
}

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Replaces every occurrence of each secret (and its URL-encoded form) with `[REDACTED]`. */
export function redact(text: string, secrets: readonly string[]): string {
  const variants = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    variants.add(s);
    const encoded = encodeURIComponent(s);
    if (encoded !== s) variants.add(encoded);
  }
  let out = text;
  for (const s of [...variants].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
  }
  return out;
}

/** A copy of `headers` fit for logging: secret header values replaced. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = isSecretHeader(k) ? REDACTED : v;
  return out;
}

/**
 * Secret values found in a (signed) request: secret header values and their long fragments
 * (`Credential=…, Signature=…`), secret-named query/form parameters, URL userinfo and
 * secret-named JSON fields.
 */
export function collectSecrets(req: HttpRequest): string[] {
  const out: string[] = [];
  const add = (value: string) => {
    if (value.length < MIN_SECRET) return;
    out.push(value);
    // why: only key-like pieces (long, with a digit); words such as Signature or a region must survive
    for (const piece of value.split(/[\s,;=:/]+/)) if (piece.length >= MIN_PIECE && /\d/.test(piece) && piece !== value) out.push(piece);
  };
  for (const [name, value] of Object.entries(req.headers)) if (isSecretHeader(name)) add(value);
  for (const [name, value] of req.url.searchParams) if (isSecretName(name)) add(value);
  if (req.url.password) add(decodeURIComponent(req.url.password));
  if (req.url.username) add(decodeURIComponent(req.url.username));
  if (typeof req.body === 'string') {
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (type.includes('x-www-form-urlencoded')) {
      for (const [name, value] of new URLSearchParams(req.body)) if (isSecretName(name)) add(value);
    } else if (type.includes('json')) {
      collectJsonSecrets(safeJson(req.body), undefined, add, 0);
    }
  }
  return out;
}

/** Scrubs message and stack of an error and its cause chain in place; returns it. */
export function scrubError<E>(err: E, secrets: readonly string[]): E {
  if (secrets.length === 0) return err;
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    current.message = redact(current.message, secrets);
    if (typeof current.stack === 'string') current.stack = redact(current.stack, secrets);
    current = current.cause;
  }
  return err;
}

// --- Internal helpers ---

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** why: a leaf is secret when its own key or its parent's key says so (`{"token": {"id": "…"}}`) */
function collectJsonSecrets(value: unknown, parentSecret: boolean | undefined, add: (v: string) => void, depth: number): void {
  if (depth > 12 || value === null || typeof value !== 'object') return;
  const entries: [string | undefined, unknown][] = Array.isArray(value)
    ? value.map((v) => [undefined, v])
    : Object.entries(value as Record<string, unknown>);
  for (const [key, child] of entries) {
    const secret = key === undefined ? Boolean(parentSecret) : isSecretName(key);
    if (typeof child === 'string') {
      if (secret || (key !== undefined && parentSecret)) add(child);
    } else {
      collectJsonSecrets(child, secret, add, depth + 1);
    }
  }
}
