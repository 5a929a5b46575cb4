/**
 * Typed errors every driver throws. Messages carry a `[provider]` prefix and never a
 * credential: errors end up in GraphQL responses and logs.
 */

/** Stable codes, surfaced as `extensions.code` and ProviderFailure.code (the ErrorCode enum). */
export const ERROR_CODES = [
  'AUTHENTICATION_FAILED',
  'NOT_FOUND',
  'RATE_LIMITED',
  'PROVIDER_ERROR',
  'TIMEOUT',
  'UNSUPPORTED',
  'INVALID_INPUT',
  'CONFLICT',
  'MALFORMED_RESPONSE',
  'CONNECTION_FAILED',
  'UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface SkygraphErrorOptions {
  provider?: string | undefined;
  status?: number | undefined;
  requestId?: string | undefined;
  retryable?: boolean | undefined;
  cause?: unknown;
}

export class SkygraphError extends Error {
  readonly code: ErrorCode;
  readonly provider: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, opts: SkygraphErrorOptions = {}) {
    super(opts.provider ? `[${opts.provider}] ${message}` : message, opts.cause ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.provider = opts.provider;
    this.status = opts.status;
    this.requestId = opts.requestId;
    this.retryable = opts.retryable ?? false;
  }
}

export class AuthenticationError extends SkygraphError {
  constructor(message: string, opts: SkygraphErrorOptions = {}) {
    super('AUTHENTICATION_FAILED', message, opts);
  }
}

export class NotFoundError extends SkygraphError {
  constructor(message: string, opts: SkygraphErrorOptions = {}) {
    super('NOT_FOUND', message, opts);
  }
}

export class RateLimitedError extends SkygraphError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, opts: SkygraphErrorOptions & { retryAfterMs?: number | undefined } = {}) {
    super('RATE_LIMITED', message, { ...opts, retryable: true });
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** Any other upstream failure, with the HTTP status and provider request id when there is one. */
export class ProviderError extends SkygraphError {
  constructor(message: string, opts: SkygraphErrorOptions = {}) {
    super('PROVIDER_ERROR', message, opts);
  }
}

export class MalformedResponseError extends SkygraphError {
  constructor(message: string, opts: SkygraphErrorOptions = {}) {
    super('MALFORMED_RESPONSE', message, opts);
  }
}

export class ConnectionFailedError extends SkygraphError {
  /** retryable unless opts say otherwise (an untrusted server certificate stays untrusted) */
  constructor(message: string, opts: SkygraphErrorOptions = {}) {
    super('CONNECTION_FAILED', message, { ...opts, retryable: opts.retryable ?? true });
  }
}

/** The provider says it cannot serve now (HTTP 503); worth retrying later. */
export class UnavailableError extends SkygraphError {
  constructor(message: string, opts: SkygraphErrorOptions = {}) {
    super('UNAVAILABLE', message, { ...opts, retryable: true });
  }
}

export class TimeoutError extends SkygraphError {
  constructor(message: string, opts: SkygraphErrorOptions = {}) {
    super('TIMEOUT', message, { ...opts, retryable: true });
  }
}

/** The driver cannot do this operation; it is not declared in its capabilities. */
export class UnsupportedError extends SkygraphError {
  /** the Account.capabilities value that is missing, when there is one */
  readonly capability: string | undefined;
  constructor(message: string, opts: SkygraphErrorOptions & { capability?: string | undefined } = {}) {
    super('UNSUPPORTED', message, opts);
    this.capability = opts.capability;
  }
}

/** Bad input from the caller: names the argument or field at fault. */
export class InvalidInputError extends SkygraphError {
  readonly field: string | undefined;
  constructor(message: string, opts: SkygraphErrorOptions & { field?: string } = {}) {
    super('INVALID_INPUT', message, opts);
    this.field = opts.field;
  }
}

/** The target exists already, or is not empty. */
export class ConflictError extends SkygraphError {
  constructor(message: string, opts: SkygraphErrorOptions = {}) {
    super('CONFLICT', message, opts);
  }
}

export class ContainerNotEmptyError extends ConflictError {}
export class ContainerAlreadyExistsError extends ConflictError {}

/** Wraps anything thrown into a SkygraphError, keeping typed ones as they are. */
export function toSkygraphError(err: unknown, provider?: string): SkygraphError {
  if (err instanceof SkygraphError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ProviderError(message, { provider, cause: err });
}
