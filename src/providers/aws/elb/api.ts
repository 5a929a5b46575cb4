/**
 * The Elastic Load Balancing Query API, as both of its versions speak it: form-encoded POSTs
 * with `Action` and `Version`, SigV4-signed for `elasticloadbalancing`, XML answers whose lists
 * are `<member>` elements and whose pages end with a `NextMarker`. Classic ELB (2012-06-01,
 * driver `elb`) and ELBv2 (2015-12-01, driver `alb`) share this file.
 *
 * https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/Welcome.html
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/Welcome.html
 */
import { MalformedResponseError } from '../../errors.ts';
import { createConnection, type Connection, type RetryOptions } from '../../http/connection.ts';
import { xmlList } from '../../http/parsers/xml.ts';
import { awsV4Signer, type AwsCredentials } from '../../http/signers/aws-v4.ts';
import type { AccountConfig, DriverContext } from '../../types.ts';
import { resolveAwsCredentials } from '../credentials.ts';
import { parseAwsError } from '../errors.ts';

export const SIGNING_SERVICE = 'elasticloadbalancing';
export const DEFAULT_REGION = 'us-east-1';
/** why: both ELB APIs wrap every list in <member>, and nothing else uses that tag name */
const XML_ARRAYS = ['member'] as const;
/** the largest page both APIs allow */
export const PAGE_SIZE = '400';
/** a runaway Marker loop stops here */
const MAX_PAGES = 10_000;

/** Form parameters of one call, already flattened (`Listeners.member.1.Protocol`). */
export type QueryParams = Record<string, string>;
/** A parsed XML element: strings, nested elements, and `<member>` lists as arrays. */
export type XmlObject = Record<string, unknown>;

/** Test seams for the connection; production uses the defaults. */
export interface ElbApiDeps {
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/** Which API: the driver name (error prefix) and the API version sent with every call. */
export interface ElbApiOptions {
  provider: string;
  version: string;
}

/** One (account, region) endpoint of one ELB API version. */
export interface ElbApi {
  readonly provider: string;
  readonly region: string;
  /** one call; resolves to the content of the `<ActionResult>` element (`{}` when empty) */
  call(action: string, params?: QueryParams, opts?: { idempotent?: boolean }): Promise<XmlObject>;
  /** follows Marker/NextMarker to the end and concatenates what `pick` takes from each page */
  paginate<T>(action: string, params: QueryParams, pick: (result: XmlObject) => T[]): Promise<T[]>;
  close(): Promise<void>;
}

export function createElbApi(ctx: DriverContext, api: ElbApiOptions, deps: ElbApiDeps = {}): ElbApi {
  const { provider, version } = api;
  const region = ctx.region ?? DEFAULT_REGION;
  let credentials: Promise<AwsCredentials> | undefined;
  const getCredentials = (): Promise<AwsCredentials> => {
    credentials ??= resolveAwsCredentials(ctx.account, deps.env, deps.home).then(
      (resolved) => resolved.credentials,
      (err: unknown) => {
        // why: a fixed profile file or environment should work on the next call without a restart
        credentials = undefined;
        throw err;
      },
    );
    return credentials;
  };
  const connection: Connection = createConnection({
    provider,
    baseUrl: ctx.account.endpoint ?? `https://elasticloadbalancing.${region}.amazonaws.com/`,
    signer: awsV4Signer({ service: SIGNING_SERVICE, region, credentials: getCredentials }),
    recordCall: ctx.recordCall,
    parseError: (info) => parseAwsError(info, provider),
    requestIdHeaders: ['x-amzn-requestid', 'x-amz-request-id'],
    retry: deps.retry,
    sleep: deps.sleep,
    now: ctx.now,
  });

  const call = async (action: string, params: QueryParams = {}, opts: { idempotent?: boolean } = {}): Promise<XmlObject> => {
    const res = await connection.request<XmlObject | undefined>({
      operation: action,
      method: 'POST',
      path: '/',
      form: { Action: action, Version: version, ...params },
      // why: Describe* calls are reads; mutating calls say themselves whether a retry is safe
      idempotent: opts.idempotent ?? action.startsWith('Describe'),
      responseType: 'xml',
      xmlArrays: XML_ARRAYS,
    });
    const root = res.body?.[`${action}Response`];
    if (root === undefined || root === null || typeof root !== 'object') {
      throw new MalformedResponseError(`${action}: the response has no ${action}Response element`, {
        provider,
        status: res.status,
        requestId: res.requestId,
      });
    }
    const result = (root as XmlObject)[`${action}Result`];
    if (result === undefined || result === '') return {};
    if (result === null || typeof result !== 'object' || Array.isArray(result)) {
      throw new MalformedResponseError(`${action}: ${action}Result is not an element`, { provider, status: res.status, requestId: res.requestId });
    }
    return result as XmlObject;
  };

  return {
    provider,
    region,
    call,
    async paginate<T>(action: string, params: QueryParams, pick: (result: XmlObject) => T[]): Promise<T[]> {
      const out: T[] = [];
      const seen = new Set<string>();
      let marker: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await call(action, marker === undefined ? params : { ...params, Marker: marker });
        for (const item of pick(result)) out.push(item);
        // why: classic ELB ends with an empty <NextMarker/>, ELBv2 leaves it out
        marker = text(result.NextMarker);
        if (marker === undefined) return out;
        if (seen.has(marker)) throw new MalformedResponseError(`${action}: the service sent the same NextMarker twice`, { provider });
        seen.add(marker);
      }
      throw new MalformedResponseError(`${action}: more than ${MAX_PAGES} pages`, { provider });
    },
    close: () => connection.close(),
  };
}

/** `Name.member.1=a&Name.member.2=b` */
export function memberParams(name: string, values: readonly string[]): QueryParams {
  const out: QueryParams = {};
  values.forEach((value, i) => (out[`${name}.member.${i + 1}`] = value));
  return out;
}

/** `Name.member.1.Key=v`, one struct per list entry; undefined fields are left out */
export function structParams(name: string, structs: readonly Record<string, string | number | undefined>[]): QueryParams {
  const out: QueryParams = {};
  structs.forEach((struct, i) => {
    for (const [key, value] of Object.entries(struct)) if (value !== undefined) out[`${name}.member.${i + 1}.${key}`] = String(value);
  });
  return out;
}

/** The `<member>` entries of a list element (`<Instances><member>…`), `[]` when empty or absent. */
export function members(container: unknown): XmlObject[] {
  if (container === null || typeof container !== 'object') return [];
  return xmlList<unknown>((container as XmlObject).member).filter((m): m is XmlObject => m !== null && typeof m === 'object');
}

/** The `<member>` strings of a list of plain values (`<AvailabilityZones><member>us-east-1a`). */
export function memberStrings(container: unknown): string[] {
  if (container === null || typeof container !== 'object') return [];
  return xmlList<unknown>((container as XmlObject).member).filter((m): m is string => typeof m === 'string' && m !== '');
}

/** A non-empty string, else undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** An integer, else null. */
export function int(value: unknown): number | null {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) return null;
  return Number(value);
}

/** An ISO timestamp as a Date, else null. */
export function date(value: unknown): Date | null {
  const s = text(value);
  if (s === undefined) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Names the account options that are not lists of non-empty strings. */
export function checkStringListOptions(account: AccountConfig, names: readonly string[]): string[] {
  const problems: string[] = [];
  for (const name of names) {
    const value = account.options?.[name];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
      problems.push(`options.${name} must be a list of non-empty strings`);
    }
  }
  return problems;
}

/** A string-list option or ex parameter, checked; undefined when absent. */
export function stringList(value: unknown, field: string, invalid: (message: string, field: string) => Error): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
    throw invalid(`${field} must be a list of non-empty strings`, field);
  }
  return value as string[];
}
