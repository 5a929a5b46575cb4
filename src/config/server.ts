/**
 * The `server:` part of the config: who may call (named tokens with scopes), which browser
 * origins may, the address clients use (publicUrl), request limits and the open endpoints.
 * Problems name the field (`server.tokens[1].scope`); no token or key value is ever echoed.
 */

/** What a token may do; each scope includes the ones before it. */
export type Scope = 'read' | 'write' | 'deploy';
export const SCOPES: readonly Scope[] = ['read', 'write', 'deploy'];

/** One named API token. */
export interface TokenConfig {
  /** shown in audit lines and metrics; never the token itself */
  name: string;
  token: string;
  scope: Scope;
}

/** Who may reach an auxiliary endpoint: anyone, any valid token, or nobody (404). */
export type EndpointAccess = 'public' | 'token' | 'off';

/** Request limits; each GraphQL one is enforced by graphql-armor before execution. */
export interface LimitsConfig {
  /** deepest field nesting of an operation */
  depth: number;
  aliases: number;
  directives: number;
  /** lexical tokens of a document (checked while parsing) */
  tokens: number;
  /** graphql-armor cost: 2 per object field, 1 per scalar, times 1.5 per level */
  cost: number;
  /** largest non-multipart GraphQL request body (bytes) */
  bodyBytes: number;
  /** per-token request budget: `requests` per `perSeconds`, as a token bucket; undefined = unlimited */
  rateLimit?: { requests: number; perSeconds: number } | undefined;
}

/** OpenTelemetry tracing (src/tracing.ts); off unless an OTLP endpoint is set here or in OTEL_EXPORTER_OTLP_*. */
export interface TracingConfig {
  /** the OTLP/HTTP traces URL (`http://127.0.0.1:4318/v1/traces`), used as is */
  otlpEndpoint?: string | undefined;
  /** service.name on every span (default $OTEL_SERVICE_NAME, else skygraph) */
  serviceName?: string | undefined;
  /** share of new traces kept, 0-1 (default 1); an incoming traceparent's sampled flag decides for its trace */
  sampleRatio: number;
}

export interface ServerConfig {
  /** max size of one GraphQL multipart upload (bytes) */
  uploadMaxBytes: number;
  /** API tokens; none means open, and then only on a loopback address */
  tokens: TokenConfig[];
  /**
   * The base URL clients reach skygraph at (`https://skygraph.example.com`), used for signed
   * URLs and as the browser origin that counts as "same origin". Default: the listen address.
   */
  publicUrl?: string | undefined;
  /** cross-origin browser callers allowed (exact origins, `https://dash.example.com`) */
  cors: { origins: string[] };
  metrics: EndpointAccess;
  healthz: EndpointAccess;
  limits: LimitsConfig;
  /** HMAC key for skygraph's own signed transfer URLs; random per process when absent */
  urlSigningKey?: string | undefined;
  tracing: TracingConfig;
}

export const DEFAULT_UPLOAD_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_LIMITS: LimitsConfig = {
  depth: 15,
  aliases: 30,
  directives: 50,
  tokens: 2000,
  cost: 250_000,
  bodyBytes: 1024 * 1024,
  rateLimit: { requests: 1200, perSeconds: 60 },
};
export const MIN_TOKEN_LENGTH = 16;

const SERVER_FIELDS = ['uploadMaxBytes', 'tokens', 'publicUrl', 'cors', 'metrics', 'healthz', 'limits', 'urlSigningKey', 'tracing'];
const TRACING_FIELDS = ['otlpEndpoint', 'serviceName', 'sampleRatio'];
const LIMIT_FIELDS = ['depth', 'aliases', 'directives', 'tokens', 'cost', 'bodyBytes', 'rateLimit'] as const;
const ACCESS: readonly EndpointAccess[] = ['public', 'token', 'off'];

export function validateServer(raw: unknown, problems: string[]): ServerConfig {
  const server: ServerConfig = {
    uploadMaxBytes: DEFAULT_UPLOAD_MAX_BYTES,
    tokens: [],
    cors: { origins: [] },
    metrics: 'token',
    healthz: 'public',
    limits: { ...DEFAULT_LIMITS },
    tracing: { sampleRatio: 1 },
  };
  if (raw === undefined) return server;
  if (!isObject(raw)) {
    problems.push('field "server" must be a mapping');
    return server;
  }
  for (const key of Object.keys(raw)) {
    if (key === 'apiToken') problems.push('field "server.apiToken" was replaced by "server.tokens": a list of { name, token, scope: read | write | deploy }');
    else if (!SERVER_FIELDS.includes(key)) problems.push(`field "server.${key}" is not known (expected: ${SERVER_FIELDS.join(', ')})`);
  }
  const max = positiveInt(raw.uploadMaxBytes, DEFAULT_UPLOAD_MAX_BYTES);
  if (max === undefined) problems.push('field "server.uploadMaxBytes" must be a positive integer (bytes)');
  else server.uploadMaxBytes = max;

  if (raw.urlSigningKey !== undefined) {
    if (typeof raw.urlSigningKey !== 'string' || raw.urlSigningKey.length < MIN_TOKEN_LENGTH) {
      problems.push(`field "server.urlSigningKey" must be a string of at least ${MIN_TOKEN_LENGTH} characters`);
    } else server.urlSigningKey = raw.urlSigningKey;
  }
  server.tokens = validateTokens(raw.tokens, problems);

  if (raw.publicUrl !== undefined) {
    const problem = typeof raw.publicUrl === 'string' ? checkBaseUrl(raw.publicUrl) : 'must be a URL';
    if (problem) problems.push(`field "server.publicUrl" ${problem}`);
    else server.publicUrl = (raw.publicUrl as string).replace(/\/+$/, '');
  }

  if (raw.cors !== undefined) {
    const origins = isObject(raw.cors) ? raw.cors.origins : undefined;
    if (!isObject(raw.cors) || Object.keys(raw.cors).some((k) => k !== 'origins') || !Array.isArray(origins)) {
      problems.push('field "server.cors" must be { origins: [https://app.example.com, ...] }');
    } else {
      for (const [i, o] of origins.entries()) {
        const problem = typeof o === 'string' ? checkOrigin(o) : 'must be a string';
        if (problem) problems.push(`field "server.cors.origins[${i}]" ${problem}`);
        else server.cors.origins.push(o as string);
      }
    }
  }

  for (const key of ['metrics', 'healthz'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !ACCESS.includes(v as EndpointAccess)) problems.push(`field "server.${key}" must be one of: ${ACCESS.join(', ')}`);
    else server[key] = v as EndpointAccess;
  }

  if (raw.limits !== undefined) {
    if (!isObject(raw.limits)) problems.push('field "server.limits" must be a mapping');
    else server.limits = validateLimits(raw.limits, problems);
  }
  if (raw.tracing !== undefined) server.tracing = validateTracing(raw.tracing, problems);
  return server;
}

/** Loopback addresses: the only ones an open (token-less) skygraph listens on. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || h.startsWith('127.') || h === '::ffff:127.0.0.1' || h.endsWith('.localhost');
}

// --- Internal helpers ---

function validateTokens(raw: unknown, problems: string[]): TokenConfig[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problems.push('field "server.tokens" must be a list of { name, token, scope }');
    return [];
  }
  const tokens: TokenConfig[] = [];
  const names = new Set<string>();
  const values = new Set<string>();
  for (const [i, entry] of raw.entries()) {
    const at = `field "server.tokens[${i}]`;
    if (!isObject(entry)) {
      problems.push(`${at}" must be a mapping { name, token, scope }`);
      continue;
    }
    const before = problems.length;
    for (const key of Object.keys(entry)) if (!['name', 'token', 'scope'].includes(key)) problems.push(`${at}.${key}" is not known (expected: name, token, scope)`);
    const { name, token, scope } = entry;
    if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) {
      problems.push(`${at}.name" must be 1-63 letters, digits, ".", "_" or "-"`);
    } else if (names.has(name)) problems.push(`${at}.name" repeats the name "${name}"`);
    if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
      problems.push(`${at}.token" must be a string of at least ${MIN_TOKEN_LENGTH} characters`);
    } else if (values.has(token)) problems.push(`${at}.token" is the same as an earlier token's; give each caller its own`);
    if (typeof scope !== 'string' || !SCOPES.includes(scope as Scope)) problems.push(`${at}.scope" must be one of: ${SCOPES.join(', ')}`);
    if (problems.length > before) continue;
    names.add(name as string);
    values.add(token as string);
    tokens.push({ name: name as string, token: token as string, scope: scope as Scope });
  }
  return tokens;
}

function validateLimits(raw: Record<string, unknown>, problems: string[]): LimitsConfig {
  const limits: LimitsConfig = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(raw)) {
    if (!(LIMIT_FIELDS as readonly string[]).includes(key)) problems.push(`field "server.limits.${key}" is not known (expected: ${LIMIT_FIELDS.join(', ')})`);
  }
  for (const key of ['depth', 'aliases', 'directives', 'tokens', 'cost', 'bodyBytes'] as const) {
    const v = positiveInt(raw[key], DEFAULT_LIMITS[key]);
    if (v === undefined) problems.push(`field "server.limits.${key}" must be a positive integer`);
    else limits[key] = v;
  }
  const rate = raw.rateLimit;
  if (rate === false) limits.rateLimit = undefined;
  else if (rate !== undefined) {
    const requests = isObject(rate) ? positiveInt(rate.requests, 0) : undefined;
    const perSeconds = isObject(rate) ? positiveInt(rate.perSeconds, 0) : undefined;
    if (!isObject(rate) || !requests || !perSeconds || Object.keys(rate).some((k) => k !== 'requests' && k !== 'perSeconds')) {
      problems.push('field "server.limits.rateLimit" must be { requests: N, perSeconds: S } with positive integers, or false');
    } else limits.rateLimit = { requests, perSeconds };
  }
  return limits;
}

function validateTracing(raw: unknown, problems: string[]): TracingConfig {
  const tracing: TracingConfig = { sampleRatio: 1 };
  if (!isObject(raw)) {
    problems.push('field "server.tracing" must be a mapping { otlpEndpoint, serviceName, sampleRatio }');
    return tracing;
  }
  for (const key of Object.keys(raw)) if (!TRACING_FIELDS.includes(key)) problems.push(`field "server.tracing.${key}" is not known (expected: ${TRACING_FIELDS.join(', ')})`);
  const { otlpEndpoint, serviceName, sampleRatio } = raw;
  // why: an empty value (from `${OTEL_ENDPOINT:-}`) means "not configured here"
  if (otlpEndpoint !== undefined && otlpEndpoint !== '') {
    const problem = typeof otlpEndpoint === 'string' ? checkEndpoint(otlpEndpoint) : 'must be a URL';
    if (problem) problems.push(`field "server.tracing.otlpEndpoint" ${problem}`);
    else tracing.otlpEndpoint = otlpEndpoint as string;
  }
  if (serviceName !== undefined) {
    if (typeof serviceName !== 'string' || serviceName.trim() === '') problems.push('field "server.tracing.serviceName" must be a non-empty string');
    else tracing.serviceName = serviceName;
  }
  if (sampleRatio !== undefined) {
    if (typeof sampleRatio !== 'number' || !(sampleRatio >= 0 && sampleRatio <= 1)) problems.push('field "server.tracing.sampleRatio" must be a number from 0 to 1');
    else tracing.sampleRatio = sampleRatio;
  }
  return tracing;
}

function checkEndpoint(value: string): string | undefined {
  if (!URL.canParse(value)) return 'must be an absolute URL (http://collector:4318/v1/traces)';
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use http or https';
  if (url.username || url.password) return 'must not carry credentials (use OTEL_EXPORTER_OTLP_HEADERS)';
  return undefined;
}

function checkBaseUrl(value: string): string | undefined {
  if (!URL.canParse(value)) return 'must be an absolute URL (https://host[:port][/path])';
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https (or http)';
  if (url.username || url.password) return 'must not carry credentials';
  if (url.search || url.hash) return 'must not have a query or fragment';
  return undefined;
}

function checkOrigin(value: string): string | undefined {
  if (!URL.canParse(value)) return 'must be an origin (https://host[:port])';
  const url = new URL(value);
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== value) return 'must be an origin exactly as browsers send it (https://host[:port], no path or trailing slash)';
  return undefined;
}

function positiveInt(v: unknown, fallback: number): number | undefined {
  if (v === undefined) return fallback;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
