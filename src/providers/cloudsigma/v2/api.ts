/**
 * CloudSigma API 2.0 plumbing: the regional endpoints, one connection per (account, location)
 * with HTTP Basic auth, JSON requests whose errors are scrubbed of the account password, and the
 * API's error body (`[{"error_type", "error_message", "error_point"}]`) mapped to typed errors.
 *
 * https://cloudsigma-docs.readthedocs.io/en/latest/general.html
 * https://cloudsigma-docs.readthedocs.io/en/latest/errors.html
 */
import {
  AuthenticationError,
  ConflictError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
  type SkygraphError,
} from '../../errors.ts';
import type { ErrorResponseInfo, RequestOptions } from '../../http/connection.ts';
import { statusError } from '../../http/map-errors.ts';
import { bodySnippet } from '../../http/parsers/context.ts';
import { scrubError } from '../../http/redact.ts';
import { parseRetryAfter } from '../../http/retry.ts';
import type { DriverContext } from '../../types.ts';
import { cloudSigmaConnection, cloudSigmaWaits, type CloudSigmaDeps, type CloudSigmaRegion, type CloudSigmaWaits } from '../common.ts';

export const DRIVER_NAME = 'cloudsigma2';
export const DEFAULT_REGION = 'zrh';

/** https://cloudsigma-docs.readthedocs.io/en/latest/general.html#api-endpoint (lvs: the reference's version example) */
export const CLOUDSIGMA2_REGIONS: Readonly<Record<string, CloudSigmaRegion>> = {
  crk: { name: 'Clark, Philippines', country: 'PH', endpoint: 'https://crk.cloudsigma.com/api/2.0/' },
  dub: { name: 'Dublin, Ireland', country: 'IE', endpoint: 'https://ec.servecentric.com/api/2.0/' },
  fra: { name: 'Frankfurt, Germany', country: 'DE', endpoint: 'https://fra.cloudsigma.com/api/2.0/' },
  gva: { name: 'Geneva, Switzerland', country: 'CH', endpoint: 'https://gva.cloudsigma.com/api/2.0/' },
  hnl: { name: 'Honolulu, United States', country: 'US', endpoint: 'https://hnl.cloudsigma.com/api/2.0/' },
  lla: { name: 'Boden, Sweden', country: 'SE', endpoint: 'https://cloud.hydro66.com/api/2.0/' },
  lvs: { name: 'Las Vegas, United States', country: 'US', endpoint: 'https://lvs.cloudsigma.com/api/2.0/' },
  mel: { name: 'Melbourne, Australia', country: 'AU', endpoint: 'https://mel.cloudsigma.com/api/2.0/' },
  mnl: { name: 'Manila, Philippines', country: 'PH', endpoint: 'https://mnl.cloudsigma.com/api/2.0/' },
  mnl2: { name: 'Manila-2, Philippines', country: 'PH', endpoint: 'https://mnl2.cloudsigma.com/api/2.0/' },
  per: { name: 'Perth, Australia', country: 'AU', endpoint: 'https://per.cloudsigma.com/api/2.0/' },
  ruh: { name: 'Riyadh, Saudi Arabia', country: 'SA', endpoint: 'https://ruh.cloudsigma.com/api/2.0/' },
  sjc: { name: 'San Jose, United States', country: 'US', endpoint: 'https://sjc.cloudsigma.com/api/2.0/' },
  tyo: { name: 'Tokyo, Japan', country: 'JP', endpoint: 'https://tyo.cloudsigma.com/api/2.0/' },
  wdc: { name: 'Washington DC, United States', country: 'US', endpoint: 'https://wdc.cloudsigma.com/api/2.0/' },
  zrh: { name: 'Zurich, Switzerland', country: 'CH', endpoint: 'https://zrh.cloudsigma.com/api/2.0/' },
};

export type Json = Record<string, unknown>;

/** One call: RequestOptions without the connection's own fields. */
export type Cs2Request = Omit<RequestOptions, 'operation'>;

/** What the 2.0 driver files share for one (account, location). */
export interface Cs2Api extends CloudSigmaWaits {
  /** a JSON call; the parsed body (undefined for 204) */
  request<T = unknown>(operation: string, opts?: Cs2Request): Promise<T>;
  close(): Promise<void>;
}

export function createCs2Api(ctx: DriverContext, deps: CloudSigmaDeps = {}): Cs2Api {
  const password = () => ctx.account.credentials.password ?? '';
  const conn = cloudSigmaConnection(ctx, deps, { provider: DRIVER_NAME, regions: CLOUDSIGMA2_REGIONS, parseError: parseCloudSigma2Error });
  return {
    ...cloudSigmaWaits(ctx, deps),
    async request<T>(operation: string, opts: Cs2Request = {}): Promise<T> {
      try {
        const res = await conn.open().request<T>({ operation, ...opts });
        return res.body;
      } catch (err) {
        // why: the connection scrubs the Authorization header; an upstream body could still echo the plain password
        throw scrubError(err, [password()].filter((p) => p.length >= 4));
      }
    },
    close: conn.close,
  };
}

/** CloudSigma's error list -> typed errors; undefined (default mapping) for bodies that are not one. */
export function parseCloudSigma2Error(info: ErrorResponseInfo): SkygraphError | undefined {
  const first = firstError(info.bodyText);
  if (!first) return undefined;
  const type = typeof first.error_type === 'string' ? first.error_type : 'error';
  const point = typeof first.error_point === 'string' && first.error_point ? ` (${first.error_point})` : '';
  const text = typeof first.error_message === 'string' ? first.error_message : 'no message';
  const message = `${info.operation} ${info.status} ${type}: ${bodySnippet(text, [], 300)}${point}`;
  const opts = { provider: DRIVER_NAME, status: info.status, requestId: info.requestId };
  const { status } = info;
  if (status === 401) return new AuthenticationError(message, opts);
  if (status === 404 || type === 'notexist') return new NotFoundError(message, opts);
  // why: CloudSigma answers a start/stop/delete in the wrong server state with 403 "permission"
  if (status === 403 && /\bstate\b/i.test(text)) return new ConflictError(message, opts);
  if (status === 403) return new AuthenticationError(message, opts);
  if (status === 429) return new RateLimitedError(message, { ...opts, retryAfterMs: parseRetryAfter(info.headers['retry-after'], new Date()) });
  if (type === 'concurrency') return new ProviderError(message, { ...opts, retryable: true });
  if (status === 409) return new ConflictError(message, opts);
  return statusError(message, opts);
}

// --- Internal helpers ---

function firstError(text: string): Json | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const first: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first || typeof first !== 'object' || Array.isArray(first)) return undefined;
  const o = first as Json;
  return 'error_type' in o || 'error_message' in o ? o : undefined;
}
