/**
 * Azure Blob error responses -> typed errors. The service answers
 * `<Error><Code>…</Code><Message>…</Message></Error>` and repeats the code in `x-ms-error-code`;
 * HEAD answers carry only the header, so it wins over the body.
 *
 * https://learn.microsoft.com/rest/api/storageservices/status-and-error-codes2
 * https://learn.microsoft.com/rest/api/storageservices/blob-service-error-codes
 */
import { STATUS_CODES } from 'node:http';
import {
  AuthenticationError,
  ConflictError,
  ContainerAlreadyExistsError,
  ContainerNotEmptyError,
  InvalidInputError,
  NotFoundError,
  RateLimitedError,
  type SkygraphError,
} from '../../errors.ts';
import type { ErrorResponseInfo } from '../../http/connection.ts';
import { extractErrorDetails, statusError } from '../../http/map-errors.ts';
import { bodySnippet } from '../../http/parsers/context.ts';
import { parseRetryAfter } from '../../http/retry.ts';

export const DRIVER_NAME = 'azure-blob';
const MESSAGE_CHARS = 300;

const AUTH = new Set([
  'AuthenticationFailed',
  'AuthorizationFailure',
  'AuthorizationPermissionMismatch',
  'AuthorizationProtocolMismatch',
  'AuthorizationSourceIPMismatch',
  'AuthorizationResourceTypeMismatch',
  'AuthorizationServiceMismatch',
  'InsufficientAccountPermissions',
  'AccountIsDisabled',
  'NoAuthenticationInformation',
  'InvalidAuthenticationInfo',
]);
/** codes that blame the caller's input, and the argument they name */
const INVALID: Record<string, string | undefined> = {
  InvalidRange: 'range',
  InvalidResourceName: 'container',
  OutOfRangeInput: undefined,
  InvalidMetadata: 'metadata',
  MetadataTooLarge: 'metadata',
  EmptyMetadataKey: 'metadata',
  InvalidBlobOrBlock: 'body',
  InvalidBlockList: 'body',
  InvalidMd5: 'body',
  Md5Mismatch: 'body',
  RequestBodyTooLarge: 'body',
  InvalidHeaderValue: undefined,
  InvalidQueryParameterValue: undefined,
};

/** `parseError` for the connection: always returns an error, so Azure codes win over the status. */
export function parseAzureBlobError(info: ErrorResponseInfo): SkygraphError {
  const details = extractErrorDetails(info);
  const code = info.headers['x-ms-error-code'] ?? details.code;
  // why: Azure appends `RequestId:… Time:…` lines to every message; the request id is kept apart
  const text = (details.message ?? STATUS_CODES[info.status] ?? 'unexpected status').split('\n')[0]!.trim();
  const message = `${info.operation} ${info.status}${code ? ` ${code}` : ''}: ${bodySnippet(text, [], MESSAGE_CHARS)}`;
  const opts = { provider: DRIVER_NAME, status: info.status, requestId: info.requestId };
  const retryAfterMs = () => parseRetryAfter(info.headers['retry-after'], new Date());

  if (info.status === 404) return new NotFoundError(message, opts);
  if (info.status === 401 || info.status === 403 || (code && AUTH.has(code))) return new AuthenticationError(message, opts);
  if (code === 'ContainerAlreadyExists') return new ContainerAlreadyExistsError(message, opts);
  if (code === 'ContainerNotEmpty') return new ContainerNotEmptyError(message, opts);
  if (info.status === 409 || info.status === 412) return new ConflictError(message, opts);
  if (code !== undefined && code in INVALID) return new InvalidInputError(message, { ...opts, field: INVALID[code] });
  if (info.status === 416) return new InvalidInputError(message, { ...opts, field: 'range' });
  // why: storage throttles with 503 ServerBusy (and 500 OperationTimedOut), rarely with 429
  if (info.status === 429 || code === 'ServerBusy') return new RateLimitedError(message, { ...opts, retryAfterMs: retryAfterMs() });
  return statusError(message, opts);
}
