/**
 * CloudSigma API 1.0 plumbing: `key value` plain-text bodies both ways (the kv parser's strict
 * `space` dialect, formatKv for requests), HTTP Basic auth, errors scrubbed of the password and of
 * the VNC password a create sends.
 *
 * http://www.cloudsigma.com/legacy/cloudsigma-api-1-0/
 */
import { createConnection, type Connection } from '../../http/connection.ts';
import { formatKv, type KvPairs } from '../../http/parsers/kv.ts';
import { scrubError } from '../../http/redact.ts';
import { basicSigner } from '../../http/signers/basic.ts';
import type { DriverContext } from '../../types.ts';
import { baseUrl, basicCredentials, defaultSleep, type CloudSigmaDeps, type CloudSigmaRegion } from '../common.ts';

export const DRIVER_NAME = 'cloudsigma';
export const DEFAULT_REGION = 'zrh';

/** The two API 1.0 endpoints (section 2 of the 1.0 manual). */
export const CLOUDSIGMA_REGIONS: Readonly<Record<string, CloudSigmaRegion>> = {
  zrh: { name: 'Zurich, Switzerland', country: 'CH', endpoint: 'https://api.zrh.cloudsigma.com/' },
  lvs: { name: 'Las Vegas, United States', country: 'US', endpoint: 'https://api.lvs.cloudsigma.com/' },
};

/** One record of a 1.0 answer, repeated keys keeping their last value. */
export type KvRecord = Record<string, string>;

export interface Cs1Api {
  region: string | undefined;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  pollIntervalMs: number;
  waitTimeoutMs: number;
  logger: DriverContext['logger'];
  /** GET: the answer's records */
  get(operation: string, path: string): Promise<KvRecord[]>;
  /** POST with an optional key/value body: the answer's records (none for 204) */
  post(operation: string, path: string, body?: KvPairs, opts?: { secrets?: string[] }): Promise<KvRecord[]>;
  close(): Promise<void>;
}

export function createCs1Api(ctx: DriverContext, deps: CloudSigmaDeps = {}): Cs1Api {
  let conn: Connection | undefined;
  const open = () =>
    (conn ??= createConnection({
      provider: DRIVER_NAME,
      baseUrl: baseUrl(ctx, CLOUDSIGMA_REGIONS, DRIVER_NAME),
      signer: basicSigner(basicCredentials(ctx.account)),
      recordCall: ctx.recordCall,
      now: ctx.now,
      retry: deps.retry,
      sleep: deps.sleep,
      defaults: ctx.http,
    }));
  const call = async (operation: string, path: string, method: 'GET' | 'POST', body: KvPairs | undefined, extraSecrets: string[]) => {
    try {
      const res = await open().request<KvPairs[]>({
        operation,
        method,
        path,
        headers: { accept: 'text/plain', ...(body ? { 'content-type': 'text/plain; charset=utf-8' } : {}) },
        body: body ? formatKv(body) : undefined,
        responseType: 'kv-records',
        kvSeparator: 'space',
        expect: [200, 201, 202, 204],
        // why: every 1.0 change is a POST; only reads may be retried blindly
        idempotent: method === 'GET',
      });
      return res.body.map((pairs) => Object.fromEntries(pairs));
    } catch (err) {
      // why: the connection only knows the Authorization header; bodies are text/plain, so their secrets are named here
      throw scrubError(err, [ctx.account.credentials.password ?? '', ...extraSecrets].filter((s) => s.length >= 4));
    }
  };
  return {
    region: ctx.region,
    now: ctx.now,
    sleep: deps.sleep ?? defaultSleep,
    pollIntervalMs: deps.pollIntervalMs ?? 2000,
    waitTimeoutMs: deps.waitTimeoutMs ?? 600_000,
    logger: ctx.logger,
    get: (operation, path) => call(operation, path, 'GET', undefined, []),
    post: (operation, path, body, opts) => call(operation, path, 'POST', body, opts?.secrets ?? []),
    close: async () => {
      await conn?.close();
    },
  };
}
