/**
 * The sandbox provider's account options, their validation, and the simulated failures.
 */
import { isIP } from 'node:net';
import {
  AuthenticationError,
  ConflictError,
  ConnectionFailedError,
  InvalidInputError,
  MalformedResponseError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
  SkygraphError,
  TimeoutError,
  UnsupportedError,
  type ErrorCode,
} from '../errors.ts';

export const DRIVER_NAME = 'sandbox';

/** Options read from `account.options`. */
export interface SandboxOptions {
  /** every call waits this long (ms) before answering; default 0 */
  latencyMs: number;
  /** every call fails with the typed error of this code; default none */
  fail: ErrorCode | undefined;
  /** how many nodes to seed, ids `node-1`...; default 4 */
  nodes: number;
  /** how long transitional states (pending, rebooting, stopping, ...) last (ms); default 1500 */
  transitionMs: number;
  /** when set, nodes created later report this as their only public IP */
  nodeAddress: string | undefined;
  /** false starts with no nodes, volumes, key pairs, balancers or DNS zones; default true */
  seed: boolean;
}

const DEFAULTS: SandboxOptions = {
  latencyMs: 0,
  fail: undefined,
  nodes: 4,
  transitionMs: 1500,
  nodeAddress: undefined,
  seed: true,
};

const MAX_NODES = 10_000;

const FAILURES: Record<ErrorCode, (message: string) => SkygraphError> = {
  AUTHENTICATION_FAILED: (m) => new AuthenticationError(m, { provider: DRIVER_NAME, status: 401 }),
  NOT_FOUND: (m) => new NotFoundError(m, { provider: DRIVER_NAME, status: 404 }),
  RATE_LIMITED: (m) => new RateLimitedError(m, { provider: DRIVER_NAME, status: 429, retryAfterMs: 1000 }),
  PROVIDER_ERROR: (m) => new ProviderError(m, { provider: DRIVER_NAME, status: 500 }),
  TIMEOUT: (m) => new TimeoutError(m, { provider: DRIVER_NAME }),
  UNSUPPORTED: (m) => new UnsupportedError(m, { provider: DRIVER_NAME }),
  INVALID_INPUT: (m) => new InvalidInputError(m, { provider: DRIVER_NAME, status: 400 }),
  CONFLICT: (m) => new ConflictError(m, { provider: DRIVER_NAME, status: 409 }),
  MALFORMED_RESPONSE: (m) => new MalformedResponseError(m, { provider: DRIVER_NAME }),
  CONNECTION_FAILED: (m) => new ConnectionFailedError(m, { provider: DRIVER_NAME }),
  // why: errors.ts has no class for UNAVAILABLE; the base class carries the code
  UNAVAILABLE: (m) => new SkygraphError('UNAVAILABLE', m, { provider: DRIVER_NAME, status: 503, retryable: true }),
};

/** Every code `options.fail` accepts. */
export const FAIL_CODES = Object.keys(FAILURES) as ErrorCode[];

/** The error a `fail: code` account throws on every call. */
export function simulatedFailure(code: ErrorCode): SkygraphError {
  return FAILURES[code](`simulated failure (fail: ${code})`);
}

/** Problems with `options`, each naming the field and never echoing its value. */
export function validateSandboxOptions(options: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const nonNegativeInt = (key: string, max: number) => {
    const v = options[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
      problems.push(`options.${key} must be a non-negative integer (at most ${max})`);
    }
  };
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(DEFAULTS, key)) problems.push(`options.${key} is not a sandbox option`);
  }
  nonNegativeInt('latencyMs', 600_000);
  nonNegativeInt('nodes', MAX_NODES);
  nonNegativeInt('transitionMs', 86_400_000);
  const fail = options['fail'];
  if (fail !== undefined && !(typeof fail === 'string' && (FAIL_CODES as string[]).includes(fail))) {
    problems.push(`options.fail must be one of ${FAIL_CODES.join(', ')}`);
  }
  const nodeAddress = options['nodeAddress'];
  if (nodeAddress !== undefined && !(typeof nodeAddress === 'string' && isIP(nodeAddress) !== 0)) {
    problems.push('options.nodeAddress must be an IPv4 or IPv6 address');
  }
  if (options['seed'] !== undefined && typeof options['seed'] !== 'boolean') {
    problems.push('options.seed must be a boolean');
  }
  return problems;
}

/** Validated options with defaults; throws InvalidInputError listing every problem. */
export function parseSandboxOptions(options: Record<string, unknown>): SandboxOptions {
  const problems = validateSandboxOptions(options);
  if (problems.length > 0) {
    throw new InvalidInputError(`invalid account options: ${problems.join('; ')}`, {
      provider: DRIVER_NAME,
      field: 'options',
    });
  }
  return { ...DEFAULTS, ...(options as Partial<SandboxOptions>) };
}
