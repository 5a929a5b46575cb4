/**
 * S3 error responses -> typed errors. S3 answers `<Error><Code>…</Code><Message>…</Message>` with
 * the HTTP status; HEAD answers carry no body, so the status alone decides there.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 */
import { STATUS_CODES } from 'node:http';
import {
  AuthenticationError,
  ContainerAlreadyExistsError,
  ContainerNotEmptyError,
  InvalidInputError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
  type SkygraphError,
} from '../../errors.ts';
import type { ErrorResponseInfo } from '../../http/connection.ts';
import { extractErrorDetails, statusError } from '../../http/map-errors.ts';
import { bodySnippet } from '../../http/parsers/context.ts';
import { parseRetryAfter } from '../../http/retry.ts';

const PROVIDER = 's3';
const MESSAGE_CHARS = 300;

const NOT_FOUND = new Set(['NoSuchKey', 'NoSuchBucket', 'NoSuchUpload', 'NotFound', 'NoSuchVersion']);
const AUTH = new Set([
  'AccessDenied',
  'AccountProblem',
  'AllAccessDisabled',
  'ExpiredToken',
  'InvalidAccessKeyId',
  'InvalidSecurity',
  'InvalidToken',
  'RequestTimeTooSkewed',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
]);
const THROTTLED = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequests']);
/** codes that blame the caller's input, and the argument they name */
const INVALID: Record<string, string | undefined> = {
  InvalidRange: 'range',
  InvalidBucketName: 'container',
  KeyTooLongError: 'name',
  MetadataTooLarge: 'metadata',
  EntityTooLarge: 'body',
  EntityTooSmall: 'body',
  IncompleteBody: 'body',
  InvalidDigest: 'body',
  BadDigest: 'body',
  InvalidArgument: undefined,
  InvalidRequest: undefined,
};

/** `parseError` for the connection: always returns an error, so S3 codes win over the status. */
export function parseS3Error(info: ErrorResponseInfo): SkygraphError {
  const details = extractErrorDetails(info);
  const code = details.code ?? info.headers['x-amz-error-code'];
  const requestId = info.requestId ?? details.requestId;
  const text = details.message ?? info.headers['x-amz-error-message'] ?? STATUS_CODES[info.status] ?? 'unexpected status';
  const message = `${info.operation} ${info.status}${code ? ` ${code}` : ''}: ${bodySnippet(text, [], MESSAGE_CHARS)}`;
  const opts = { provider: PROVIDER, status: info.status, requestId };

  if (code && NOT_FOUND.has(code)) return new NotFoundError(message, opts);
  if (code && AUTH.has(code)) return new AuthenticationError(message, opts);
  if (code && THROTTLED.has(code)) {
    return new RateLimitedError(message, { ...opts, retryAfterMs: parseRetryAfter(info.headers['retry-after'], new Date()) });
  }
  if (code === 'BucketAlreadyOwnedByYou' || code === 'BucketAlreadyExists') return new ContainerAlreadyExistsError(message, opts);
  if (code === 'BucketNotEmpty') return new ContainerNotEmptyError(message, opts);
  if (code !== undefined && code in INVALID) return new InvalidInputError(message, { ...opts, field: INVALID[code] });
  const region = info.headers['x-amz-bucket-region'];
  if (info.status === 301 || code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed') {
    const where = region ? ` The bucket is in region ${region}; add that region to the account.` : '';
    return new ProviderError(`${message}${where}`, opts);
  }
  if (code === undefined) {
    if (info.status === 404) return new NotFoundError(message, opts);
    if (info.status === 401 || info.status === 403) return new AuthenticationError(message, opts);
    if (info.status === 416) return new InvalidInputError(message, { ...opts, field: 'range' });
    if (info.status === 429) {
      return new RateLimitedError(message, { ...opts, retryAfterMs: parseRetryAfter(info.headers['retry-after'], new Date()) });
    }
  }
  // why: a 503 that is not SlowDown (above) is the service saying it cannot serve now, as elsewhere
  return statusError(message, opts);
}
