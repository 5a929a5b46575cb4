/**
 * The EC2 Query API over the shared HTTP connection: form-encoded POSTs with `Action` and
 * `Version`, SigV4-signed, XML answers with every list as `<item>` elements, NextToken pages.
 *
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#api-pagination
 */
import { MalformedResponseError } from '../../errors.ts';
import { createConnection, type Connection, type RetryOptions } from '../../http/connection.ts';
import { awsV4Signer, type AwsCredentials } from '../../http/signers/aws-v4.ts';
import type { DriverContext } from '../../types.ts';
import { resolveAwsCredentials } from '../credentials.ts';
import { parseAwsError } from '../errors.ts';

export const DRIVER_NAME = 'ec2';
export const API_VERSION = '2016-11-15';
export const DEFAULT_REGION = 'us-east-1';
/** why: EC2 wraps every list in <item>, and nothing else uses that tag name */
const XML_ARRAYS = ['item'] as const;
/** a runaway NextToken loop stops here (10,000 pages of 1,000 is 10 million resources) */
const MAX_PAGES = 10_000;

/** Form parameters of one call, already flattened (`InstanceId.1`, `Filter.1.Value.1`). */
export type Ec2Params = Record<string, string>;
/** A parsed XML element: strings, nested elements, and `<item>` lists as arrays. */
export type XmlObject = Record<string, unknown>;

/** Test seams for the connection; production uses the defaults. */
export interface Ec2ApiDeps {
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/** One (account, region) endpoint. */
export interface Ec2Api {
  readonly region: string;
  /** one call; resolves to the content of the `<ActionResponse>` element */
  call(action: string, params?: Ec2Params, opts?: { idempotent?: boolean }): Promise<XmlObject>;
  /** follows NextToken to the end and concatenates what `pick` takes from each page */
  paginate<T>(action: string, params: Ec2Params, pick: (page: XmlObject) => T[]): Promise<T[]>;
  close(): Promise<void>;
}

export function createEc2Api(ctx: DriverContext, deps: Ec2ApiDeps = {}): Ec2Api {
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
    provider: DRIVER_NAME,
    baseUrl: ctx.account.endpoint ?? `https://ec2.${region}.amazonaws.com/`,
    signer: awsV4Signer({ service: 'ec2', region, credentials: getCredentials }),
    recordCall: ctx.recordCall,
    parseError: (info) => parseAwsError(info, DRIVER_NAME),
    requestIdHeaders: ['x-amzn-requestid', 'x-amz-request-id'],
    retry: deps.retry,
    sleep: deps.sleep,
    now: ctx.now,
  });

  const call = async (action: string, params: Ec2Params = {}, opts: { idempotent?: boolean } = {}): Promise<XmlObject> => {
    const res = await connection.request<XmlObject | undefined>({
      operation: action,
      method: 'POST',
      form: { Action: action, Version: API_VERSION, ...params },
      // why: Describe* calls are reads; mutating calls say themselves whether a retry is safe
      idempotent: opts.idempotent ?? action.startsWith('Describe'),
      responseType: 'xml',
      xmlArrays: XML_ARRAYS,
    });
    const root = res.body?.[`${action}Response`];
    if (root === undefined || root === null || typeof root !== 'object') {
      if (root === '') return {};
      throw new MalformedResponseError(`${action}: the response has no ${action}Response element`, {
        provider: DRIVER_NAME,
        status: res.status,
        requestId: res.requestId,
      });
    }
    return root as XmlObject;
  };

  return {
    region,
    call,
    async paginate<T>(action: string, params: Ec2Params, pick: (page: XmlObject) => T[]): Promise<T[]> {
      const out: T[] = [];
      const seen = new Set<string>();
      let token: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const body = await call(action, token === undefined ? params : { ...params, NextToken: token });
        for (const item of pick(body)) out.push(item);
        token = typeof body.nextToken === 'string' && body.nextToken !== '' ? body.nextToken : undefined;
        if (token === undefined) return out;
        if (seen.has(token)) {
          throw new MalformedResponseError(`${action}: the service sent the same NextToken twice`, { provider: DRIVER_NAME });
        }
        seen.add(token);
      }
      throw new MalformedResponseError(`${action}: more than ${MAX_PAGES} pages`, { provider: DRIVER_NAME });
    },
    close: () => connection.close(),
  };
}

/** `Name.1=a&Name.2=b` */
export function listParams(name: string, values: readonly string[]): Ec2Params {
  const out: Ec2Params = {};
  values.forEach((value, i) => (out[`${name}.${i + 1}`] = value));
  return out;
}

/** `Filter.N.Name` / `Filter.N.Value.M` */
export function filterParams(filters: readonly { name: string; values: readonly string[] }[]): Ec2Params {
  const out: Ec2Params = {};
  filters.forEach((filter, i) => {
    out[`Filter.${i + 1}.Name`] = filter.name;
    filter.values.forEach((value, j) => (out[`Filter.${i + 1}.Value.${j + 1}`] = value));
  });
  return out;
}

/** Splits `values` into chunks of at most `size`. */
export function chunk<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}
