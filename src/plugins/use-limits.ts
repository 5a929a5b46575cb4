/**
 * GraphQL document limits (`server.limits`), enforced by graphql-armor's envelop plugins before
 * anything executes: depth, aliases, directives, cost while validating, tokens while parsing.
 * A refused document answers 400 with `extensions.code: QUERY_TOO_COMPLEX` and names the limit.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import type { LimitsConfig } from '../config/server.ts';

export function useLimits(limits: LimitsConfig): Plugin[] {
  const reject = (field: keyof LimitsConfig) => [
    (_ctx: unknown, err: GraphQLError) => {
      // why: armor's own error has no code and says "Syntax Error"; ours names the config field to raise
      throw new GraphQLError(`${err.message.replace(/^Syntax Error: /, '')} (server.limits.${field})`, {
        extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } },
      });
    },
  ];
  return [
    maxTokensPlugin({ n: limits.tokens, onReject: reject('tokens') }) as Plugin,
    maxDepthPlugin({ n: limits.depth, onReject: reject('depth') }) as Plugin,
    maxAliasesPlugin({ n: limits.aliases, onReject: reject('aliases') }) as Plugin,
    maxDirectivesPlugin({ n: limits.directives, onReject: reject('directives') }) as Plugin,
    costLimitPlugin({ maxCost: limits.cost, onReject: reject('cost') }) as Plugin,
  ];
}
