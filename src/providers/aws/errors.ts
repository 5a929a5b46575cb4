/**
 * AWS Query/XML error bodies -> typed skygraph errors, for every AWS driver's connection
 * (`parseError`). Two shapes are read:
 *
 * - EC2: `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
 * - ELB, ALB, IAM, STS (and S3's `<Error>`): `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html
 *
 * Messages read `<operation> <status> <Code>: <upstream message>`; the upstream message is cut
 * before any echoed canonical request (SignatureDoesNotMatch bodies carry one), and the
 * connection scrubs known secrets from the final error as well.
 */
import {
  AuthenticationError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
  SkygraphError,
  type SkygraphErrorOptions,
} from '../errors.ts';
import type { ErrorResponseInfo } from '../http/connection.ts';
import { statusError } from '../http/map-errors.ts';
import { decodeXmlEntities } from '../http/parsers/xml.ts';

/** The parts of an AWS error body. */
export interface AwsErrorDetails {
  code: string;
  message: string | undefined;
  requestId: string | undefined;
  /** `Sender` or `Receiver` (ELB/ALB shape only) */
  type: string | undefined;
}

const MESSAGE_CHARS = 300;

/** Invalid or missing credentials, or not allowed to do this. */
const AUTH_CODES = new Set([
  'AuthFailure',
  'SignatureDoesNotMatch',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidToken',
  'RequestExpired',
  'UnrecognizedClientException',
  'UnauthorizedOperation',
  'AccessDenied',
  'AccessDeniedException',
  'OptInRequired',
  'Blocked',
  'PendingVerification',
]);

const THROTTLE_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'EC2ThrottledException',
  'BandwidthLimitExceeded',
  'ProvisionedThroughputExceededException',
]);

const INPUT_CODES = new Set([
  'InvalidParameter',
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'InvalidParameterDependency',
  'MissingParameter',
  'UnknownParameter',
  'ValidationError',
  'InvalidInput',
  'InvalidQueryParameter',
  'MalformedQueryString',
  'InvalidAction',
  'MissingAction',
  'InvalidCharacter',
  'InvalidPaginationToken',
  'InvalidNextToken',
  'InvalidConfigurationRequest',
  'UnsupportedOperation',
  'UnsupportedProtocol',
]);

const CONFLICT_CODES = new Set([
  'IdempotentParameterMismatch',
  'IncorrectInstanceState',
  'IncorrectState',
  'DependencyViolation',
  'ResourceInUse',
  'VolumeInUse',
  'ResourceInUseException',
  'OperationAborted',
  'ConcurrentModification',
  'BucketAlreadyExists',
  'BucketAlreadyOwnedByYou',
  'BucketNotEmpty',
]);

/** why: worth retrying, like a 503; capacity shortages are not (the same request fails again) */
const TRANSIENT_CODES = new Set(['InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable', 'ServiceUnavailableException']);

/**
 * Maps an AWS XML error response to a typed error; undefined when the body carries no AWS error
 * code (an HTML page from a proxy, an empty body), so the connection's status mapping applies.
 * `provider` is the `[provider]` prefix of the message.
 */
export function parseAwsError(info: ErrorResponseInfo, provider = 'aws'): SkygraphError | undefined {
  const details = awsErrorDetails(info.bodyText);
  if (!details) return undefined;
  const { code } = details;
  const upstream = details.message ? `: ${shorten(details.message)}` : '';
  const message = `${info.operation} ${info.status} ${code}${upstream}`;
  const opts: SkygraphErrorOptions = { provider, status: info.status, requestId: info.requestId ?? details.requestId };

  if (AUTH_CODES.has(code)) return new AuthenticationError(message, opts);
  if (THROTTLE_CODES.has(code)) return new RateLimitedError(message, opts);
  if (/NotFound(Exception)?$|^NoSuch/.test(code)) return new NotFoundError(message, opts);
  if (code.endsWith('.Malformed')) return new InvalidInputError(message, { ...opts, field: 'id' });
  if (CONFLICT_CODES.has(code) || /\.Duplicate$|^Duplicate|AlreadyExists/.test(code)) return new ConflictError(message, opts);
  if (INPUT_CODES.has(code) || (code.startsWith('Invalid') && info.status < 500)) return new InvalidInputError(message, opts);
  if (TRANSIENT_CODES.has(code)) {
    if (code.startsWith('Internal')) return new ProviderError(message, { ...opts, retryable: true });
    return new SkygraphError('UNAVAILABLE', message, { ...opts, retryable: true });
  }
  return statusError(message, { ...opts, status: info.status });
}

/** Code, message, request id and type of an AWS XML error body; undefined when it has no `<Code>`. */
export function awsErrorDetails(bodyText: string): AwsErrorDetails | undefined {
  const text = bodyText.trim();
  if (!text.startsWith('<')) return undefined;
  // why: read inside <Error> only, so a <Code> elsewhere (an S3 key, say) is never taken for the error code
  const error = /<Error>([\s\S]*?)<\/Error>/.exec(text)?.[1];
  if (error === undefined) return undefined;
  const code = tag(error, 'Code');
  if (!code || !/^[A-Za-z][\w.:-]{0,99}$/.test(code)) return undefined;
  return {
    code,
    message: tag(error, 'Message'),
    requestId: tag(text, 'RequestId') ?? tag(text, 'RequestID'),
    type: tag(error, 'Type'),
  };
}

// --- Internal helpers ---

function tag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  const value = m?.[1] === undefined ? undefined : decodeXmlEntities(m[1]).trim();
  return value ? value : undefined;
}

function shorten(message: string): string {
  // why: SignatureDoesNotMatch messages go on with the canonical request and string to sign
  const cut = message.split(/\n\s*\n|The Canonical String|The String-to-Sign/)[0] ?? message;
  const flat = cut.replace(/\s+/g, ' ').trim();
  return flat.length > MESSAGE_CHARS ? `${flat.slice(0, MESSAGE_CHARS)}…` : flat;
}
