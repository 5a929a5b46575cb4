/**
 * Reports the fan-out failures collected during execution as top-level GraphQL errors, with
 * `extensions.code` and `extensions.account`, next to the data from the accounts that answered.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';

export function usePartialFailures(): Plugin<Context> {
  return {
    onExecute() {
      return {
        onExecuteDone({ args, result, setResult }) {
          const ctx = args.contextValue as Context;
          if (!ctx.failures?.length || !result || Symbol.asyncIterator in result) return;
          const extra = ctx.failures.map(
            (f) =>
              new GraphQLError(f.message, {
                path: f.path,
                extensions: { code: f.code, account: f.account, provider: f.provider, region: f.region, retryable: f.retryable },
              }),
          );
          setResult({ ...result, errors: [...(result.errors ?? []), ...extra] });
        },
      };
    },
  };
}
