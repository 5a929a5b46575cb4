/**
 * Error masking: typed skygraph errors keep their message and gain `extensions.code`; anything
 * unexpected is logged and masked, so no internals (or secrets in them) reach a client.
 */
import { GraphQLError } from 'graphql';
import { createGraphQLError, type MaskError } from 'graphql-yoga';
import { InvalidInputError, SkygraphError, UnsupportedError } from '../providers/errors.ts';
import type { Logger } from '../providers/types.ts';

export function maskError(logger: Logger): MaskError {
  return (error, message) => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof SkygraphError) {
      const gqlError = error instanceof GraphQLError ? error : undefined;
      const account = (original as SkygraphError & { account?: string }).account;
      return createGraphQLError(original.message, {
        nodes: gqlError?.nodes,
        path: gqlError?.path,
        extensions: {
          code: original.code,
          ...(original.provider ? { provider: original.provider } : {}),
          ...(account ? { account } : {}),
          ...(original.status ? { status: original.status } : {}),
          ...(original.requestId ? { requestId: original.requestId } : {}),
          ...(original instanceof InvalidInputError && original.field ? { argument: original.field } : {}),
          ...(original instanceof UnsupportedError && original.capability ? { capability: original.capability } : {}),
          retryable: original.retryable,
        },
      });
    }
    if (error instanceof GraphQLError && !error.originalError) return error;
    logger.error('unexpected error', { error: original instanceof Error ? original.stack ?? original.message : String(original) });
    return createGraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}
