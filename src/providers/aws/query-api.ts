/**
 * The AWS Query protocol as EC2 and Elastic Load Balancing speak it: form-encoded POSTs with
 * `Action` and `Version`, SigV4-signed, XML answers, token pages. Each API supplies its service,
 * version, list element and how it names its page token; the rest is shared here.
 *
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html
 */
import { MalformedResponseError } from '../errors.ts';
import { createConnection, type Connection, type RetryOptions } from '../http/connection.ts';
import { awsV4Signer, type AwsCredentials } from '../http/signers/aws-v4.ts';
import type { DriverContext } from '../types.ts';
import { resolveAwsCredentials } from './credentials.ts';
import { parseAwsError } from './errors.ts';

/** Form parameters of one call, already flattened (`InstanceId.1`, `Listeners.member.1.Protocol`). */
export type QueryParams = Record<string, string>;
/** A parsed XML element: strings, nested elements, and list elements as arrays. */
export type XmlObject = Record<string, unknown>;

/** Test seams for the connection; production uses the defaults. */
export interface QueryApiDeps {
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/** What differs between Query APIs. */
export interface QueryApiSpec {
  /** driver name: the `[provider]` prefix of errors */
  provider: string;
  /** SigV4 signing service (`ec2`, `elasticloadbalancing`) */
  service: string;
  version: string;
  /** default endpoint of a region */
  endpoint(region: string): string;
  /** the tag every list is wrapped in (`item`, `member`) */
  listElement: string;
  /** true when the payload sits in `<ActionResult>` inside `<ActionResponse>` (ELB), false when directly in it (EC2) */
  resultElement: boolean;
  /** request parameter that carries the page token (`NextToken`, `Marker`) */
  tokenParam: string;
  /** the next page's token in a page, undefined on the last one */
  nextToken(page: XmlObject): string | undefined;
}

/** One (account, region) endpoint. */
export interface QueryApi {
  readonly provider: string;
  readonly region: string;
  /** one call; resolves to the payload element (`{}` when empty) */
  call(action: string, params?: QueryParams, opts?: { idempotent?: boolean }): Promise<XmlObject>;
  /** follows the page token to the end and concatenates what `pick` takes from each page */
  paginate<T>(action: string, params: QueryParams, pick: (page: XmlObject) => T[]): Promise<T[]>;
  close(): Promise<void>;
}

export const DEFAULT_REGION = 'us-east-1';
/** a runaway token loop stops here (10,000 pages of 1,000 is 10 million resources) */
const MAX_PAGES = 10_000;

export function createQueryApi(ctx: DriverContext, spec: QueryApiSpec, deps: QueryApiDeps = {}): QueryApi {
  const { provider } = spec;
  const region = ctx.region ?? DEFAULT_REGION;
  const xmlArrays = [spec.listElement];
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
    baseUrl: ctx.account.endpoint ?? spec.endpoint(region),
    signer: awsV4Signer({ service: spec.service, region, credentials: getCredentials }),
    recordCall: ctx.recordCall,
    parseError: (info) => parseAwsError(info, provider),
    requestIdHeaders: ['x-amzn-requestid', 'x-amz-request-id'],
    retry: deps.retry,
    sleep: deps.sleep,
    now: ctx.now,
    defaults: ctx.http,
  });

  const call = async (action: string, params: QueryParams = {}, opts: { idempotent?: boolean } = {}): Promise<XmlObject> => {
    const res = await connection.request<XmlObject | undefined>({
      operation: action,
      method: 'POST',
      path: '/',
      form: { Action: action, Version: spec.version, ...params },
      // why: Describe* calls are reads; mutating calls say themselves whether a retry is safe
      idempotent: opts.idempotent ?? action.startsWith('Describe'),
      responseType: 'xml',
      xmlArrays,
    });
    const malformed = (what: string) =>
      new MalformedResponseError(`${action}: ${what}`, { provider, status: res.status, requestId: res.requestId });
    const root = res.body?.[`${action}Response`];
    if (root === '' && !spec.resultElement) return {};
    if (root === undefined || root === null || typeof root !== 'object') throw malformed(`the response has no ${action}Response element`);
    if (!spec.resultElement) return root as XmlObject;
    const result = (root as XmlObject)[`${action}Result`];
    if (result === undefined || result === '') return {};
    if (result === null || typeof result !== 'object' || Array.isArray(result)) throw malformed(`${action}Result is not an element`);
    return result as XmlObject;
  };

  return {
    provider,
    region,
    call,
    async paginate<T>(action: string, params: QueryParams, pick: (page: XmlObject) => T[]): Promise<T[]> {
      const out: T[] = [];
      const seen = new Set<string>();
      let token: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const body = await call(action, token === undefined ? params : { ...params, [spec.tokenParam]: token });
        for (const item of pick(body)) out.push(item);
        token = spec.nextToken(body);
        if (token === undefined) return out;
        if (seen.has(token)) throw new MalformedResponseError(`${action}: the service sent the same ${spec.tokenParam} twice`, { provider });
        seen.add(token);
      }
      throw new MalformedResponseError(`${action}: more than ${MAX_PAGES} pages`, { provider });
    },
    close: () => connection.close(),
  };
}

/** A non-empty string, else undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
