/**
 * The `route53` provider: Amazon Route 53 hosted zones and record sets (REST XML API
 * 2013-04-01, SigV4 with signing name `route53` in us-east-1; the service is global).
 *
 * ```yaml
 * accounts:
 *   - id: aws-dns
 *     driver: route53
 *     credentials: { accessKeyId: ${AWS_ACCESS_KEY_ID}, secretAccessKey: ${AWS_SECRET_ACCESS_KEY} }
 *     # or no credentials: the environment, then options.profile / AWS_PROFILE in ~/.aws
 * ```
 */
import { ConflictError, InvalidInputError, RateLimitedError, type SkygraphError } from '../../errors.ts';
import { createConnection, type Connection, type ErrorResponseInfo, type RetryOptions } from '../../http/connection.ts';
import { decodeXmlEntities } from '../../http/parsers/xml.ts';
import { awsV4Signer, type AwsCredentials } from '../../http/signers/aws-v4.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { resolveAwsCredentials } from '../credentials.ts';
import { parseAwsError } from '../errors.ts';
import { DRIVER_NAME, route53DnsDriver } from './dns.ts';

export { DRIVER_NAME, ROUTE53_RECORD_TYPES } from './dns.ts';

export const ROUTE53_ENDPOINT = 'https://route53.amazonaws.com';
/** why: Route 53 is global; its SigV4 scope is always us-east-1 (aws partition) */
const SIGNING_REGION = 'us-east-1';

/** Test seams. */
export interface Route53Deps {
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** ResourceRecordSets asked per page (default 300, Route 53's most) */
  recordPageSize?: number;
  /** hosted zones asked per page (default 100, Route 53's most) */
  zonePageSize?: number;
}

export function createRoute53Provider(deps: Route53Deps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'Amazon Route 53',
    services: ['DNS'],
    regional: false,
    validate: validateRoute53Account,
    create: (ctx) => createRoute53Instance(ctx, deps),
  };
}

export const route53Provider: ProviderDefinition = createRoute53Provider();

/** One account's driver; `ctx.account.endpoint` overrides https://route53.amazonaws.com. */
export function createRoute53Instance(ctx: DriverContext, deps: Route53Deps = {}): ProviderInstance {
  let credentials: Promise<AwsCredentials> | undefined;
  const getCredentials = (): Promise<AwsCredentials> =>
    (credentials ??= resolveAwsCredentials(ctx.account, deps.env, deps.home).then(
      (resolved) => resolved.credentials,
      (err: unknown) => {
        // why: a fixed profile file or environment should work on the next call without a restart
        credentials = undefined;
        throw err;
      },
    ));
  let conn: Connection | undefined;
  const open = async () =>
    (conn ??= createConnection({
      provider: DRIVER_NAME,
      baseUrl: ctx.account.endpoint ?? ROUTE53_ENDPOINT,
      signer: awsV4Signer({ service: 'route53', region: SIGNING_REGION, credentials: getCredentials }),
      recordCall: ctx.recordCall,
      parseError: parseRoute53Error,
      requestIdHeaders: ['x-amzn-requestid', 'x-amz-request-id'],
      retry: deps.retry,
      sleep: deps.sleep,
      now: ctx.now,
      defaults: ctx.http,
    }));
  return {
    dns: route53DnsDriver(open, { recordPageSize: deps.recordPageSize ?? 300, zonePageSize: deps.zonePageSize ?? 100 }),
    close: async () => {
      await conn?.close();
    },
  };
}

export function validateRoute53Account(account: AccountConfig): string[] {
  const problems: string[] = [];
  if (account.endpoint !== undefined && !(URL.canParse(account.endpoint) && /^https?:$/.test(new URL(account.endpoint).protocol))) {
    problems.push('endpoint must be an absolute http(s) URL');
  }
  if (account.regions.length) problems.push('regions: route53 is global and takes no regions');
  for (const k of Object.keys(account.credentials)) {
    if (!['accessKeyId', 'secretAccessKey', 'sessionToken', 'profile'].includes(k)) problems.push(`credentials.${k} is not a route53 credential (accessKeyId, secretAccessKey, sessionToken, profile)`);
  }
  for (const k of Object.keys(account.options)) if (k !== 'profile') problems.push(`options.${k} is not a route53 option (it takes only profile)`);
  return problems;
}

/**
 * Route 53 errors: the AWS `<ErrorResponse>` shape (NoSuchHostedZone, Throttling...), plus
 * `<InvalidChangeBatch><Messages><Message>` for a batch it refused. A batch refused because a
 * record set exists, or no longer holds what was read, is a ConflictError (someone changed the
 * rrset in between); PriorRequestNotComplete is a RateLimitedError (retried).
 *
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html#API_ChangeResourceRecordSets_Errors
 */
export function parseRoute53Error(info: ErrorResponseInfo): SkygraphError | undefined {
  const opts = { provider: DRIVER_NAME, status: info.status, requestId: info.requestId };
  const batch = /<InvalidChangeBatch\b[\s\S]*?<\/InvalidChangeBatch>/.exec(info.bodyText)?.[0];
  const aws = parseAwsError(info, DRIVER_NAME);
  const code = /<Code>([^<]*)<\/Code>/.exec(info.bodyText)?.[1];
  if (batch !== undefined || code === 'InvalidChangeBatch') {
    const messages = [...(batch ?? info.bodyText).matchAll(/<Message>([^<]*)<\/Message>/g)].map((m) => decodeXmlEntities(m[1]!).trim());
    const message = `${info.operation} ${info.status} InvalidChangeBatch: ${messages.join('; ').slice(0, 300)}`;
    if (messages.some((m) => /already exists|not found|values provided do not match|was not found/i.test(m))) return new ConflictError(message, opts);
    return new InvalidInputError(message, opts);
  }
  if (code === 'PriorRequestNotComplete') return new RateLimitedError(aws?.message.replace(/^\[[^\]]+\] /, '') ?? `${info.operation} ${info.status} PriorRequestNotComplete`, opts);
  if (code === 'HostedZoneNotEmpty') return new ConflictError(aws!.message.replace(/^\[[^\]]+\] /, ''), opts);
  return aws;
}
