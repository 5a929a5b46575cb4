/**
 * CloudSigma API 1.0 plumbing: `key value` plain-text bodies both ways (the kv parser's strict
 * `space` dialect, formatKv for requests), HTTP Basic auth, errors scrubbed of the password and of
 * the VNC password a create sends.
 *
 * http://www.cloudsigma.com/legacy/cloudsigma-api-1-0/
 */
import { MalformedResponseError } from '../../errors.ts';
import type { ParseContext } from '../../http/parsers/context.ts';
import { formatKv, parseKvRecordsResponse, type KvPairs } from '../../http/parsers/kv.ts';
import { scrubError } from '../../http/redact.ts';
import type { DriverContext } from '../../types.ts';
import { cloudSigmaConnection, cloudSigmaWaits, type CloudSigmaDeps, type CloudSigmaRegion, type CloudSigmaWaits } from '../common.ts';

export const DRIVER_NAME = 'cloudsigma';
export const DEFAULT_REGION = 'zrh';

/** The two API 1.0 endpoints (section 2 of the 1.0 manual). */
export const CLOUDSIGMA_REGIONS: Readonly<Record<string, CloudSigmaRegion>> = {
  zrh: { name: 'Zurich, Switzerland', country: 'CH', endpoint: 'https://api.zrh.cloudsigma.com/' },
  lvs: { name: 'Las Vegas, United States', country: 'US', endpoint: 'https://api.lvs.cloudsigma.com/' },
};

/** One record of a 1.0 answer, repeated keys keeping their last value. */
export type KvRecord = Record<string, string>;

export interface Cs1Api extends CloudSigmaWaits {
  logger: DriverContext['logger'];
  /** GET: the answer's records */
  get(operation: string, path: string): Promise<KvRecord[]>;
  /** POST with an optional key/value body: the answer's records (none for 204) */
  post(operation: string, path: string, body?: KvPairs, opts?: { secrets?: string[] }): Promise<KvRecord[]>;
  close(): Promise<void>;
}

export function createCs1Api(ctx: DriverContext, deps: CloudSigmaDeps = {}): Cs1Api {
  const conn = cloudSigmaConnection(ctx, deps, { provider: DRIVER_NAME, regions: CLOUDSIGMA_REGIONS });
  const call = async (operation: string, path: string, method: 'GET' | 'POST', body: KvPairs | undefined, extraSecrets: string[]) => {
    try {
      const res = await conn.open().request<string>({
        operation,
        method,
        path,
        headers: { accept: 'text/plain', ...(body ? { 'content-type': 'text/plain; charset=utf-8' } : {}) },
        body: body ? formatKv(body) : undefined,
        responseType: 'text',
        expect: [200, 201, 202, 204],
        // why: every 1.0 change is a POST; only reads may be retried blindly
        idempotent: method === 'GET',
      });
      return parseRecords(res.body, { provider: DRIVER_NAME, operation, status: res.status, requestId: res.requestId });
    } catch (err) {
      // why: the connection only knows the Authorization header; bodies are text/plain, so their secrets are named here
      throw scrubError(err, [ctx.account.credentials.password ?? '', ...extraSecrets].filter((s) => s.length >= 4));
    }
  };
  return {
    ...cloudSigmaWaits(ctx, deps),
    logger: ctx.logger,
    get: (operation, path) => call(operation, path, 'GET', undefined, []),
    post: (operation, path, body, opts) => call(operation, path, 'POST', body, opts?.secrets ?? []),
    close: conn.close,
  };
}

// --- Internal helpers ---

/**
 * An answer's records. Every line of an API 1.0 answer ends with a line break, so a body that
 * stops inside a line was cut off (a plain-text body has no closing bracket to miss); an empty
 * body is a list without records (an account without servers).
 */
function parseRecords(text: string, ctx: ParseContext): KvRecord[] {
  const records = parseKvRecordsResponse(text, ctx, { separator: 'space' });
  if (text !== '' && !text.endsWith('\n')) {
    throw new MalformedResponseError(`${ctx.operation} ${ctx.status}: the key/value answer breaks off inside a line (${text.length} chars)`, {
      provider: ctx.provider,
      status: ctx.status,
      requestId: ctx.requestId,
    });
  }
  return records.map((pairs) => Object.fromEntries(pairs));
}
