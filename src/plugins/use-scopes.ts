/**
 * Token scopes for GraphQL: queries and subscriptions need `read`, each mutation root field the
 * scope MUTATION_SCOPES gives it. An operation the caller may not run is refused whole, before
 * any resolver runs (403, `extensions.code: FORBIDDEN`), and the refusal is audited.
 */
import { GraphQLError, Kind, getOperationAST, type DocumentNode, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Scope } from '../config/server.ts';
import type { Context } from '../context.ts';
import { hasScope } from '../http/auth.ts';
import type { Logger } from '../providers/types.ts';
import { auditLine } from './audit.ts';

/**
 * The scope each mutation needs, by root field name. `deploy` runs commands on machines over SSH;
 * `write` changes resources. A mutation missing from this table needs `deploy` until it is added
 * (test/api/security.test.ts fails for any Mutation field left out).
 */
export const MUTATION_SCOPES: Readonly<Record<string, Scope>> = {
  deployNode: 'deploy',
  deployToNode: 'deploy',
  createNode: 'write',
  rebootNode: 'write',
  startNode: 'write',
  stopNode: 'write',
  deleteNode: 'write',
  createImage: 'write',
  copyImage: 'write',
  deleteImage: 'write',
  importKeyPair: 'write',
  deleteKeyPair: 'write',
  createVolume: 'write',
  attachVolume: 'write',
  detachVolume: 'write',
  deleteVolume: 'write',
  createVolumeSnapshot: 'write',
  deleteVolumeSnapshot: 'write',
  createContainer: 'write',
  deleteContainer: 'write',
  uploadObject: 'write',
  createUploadUrl: 'write',
  deleteObject: 'write',
  enableContainerCdn: 'write',
  createLoadBalancer: 'write',
  updateLoadBalancer: 'write',
  deleteLoadBalancer: 'write',
  attachMember: 'write',
  attachNode: 'write',
  detachMember: 'write',
  createZone: 'write',
  updateZone: 'write',
  deleteZone: 'write',
  createRecord: 'write',
  updateRecord: 'write',
  deleteRecord: 'write',
};

export function useScopes(logger: Logger): Plugin<Context> {
  const check = (document: DocumentNode, operationName: string | null | undefined, ctx: Context): GraphQLError | undefined => {
    const operation = getOperationAST(document, operationName);
    if (!operation) return undefined;
    const principal = ctx.principal;
    if (!principal) return forbidden('a valid bearer token is required', 'UNAUTHENTICATED', 401);
    // why: every scope includes read
    if (operation.operation !== 'mutation') return undefined;
    for (const field of rootFields(operation.selectionSet, document)) {
      const needed = MUTATION_SCOPES[field] ?? 'deploy';
      if (!hasScope(principal, needed)) {
        logger.info('audit', auditLine(principal.name, field, undefined, 'FORBIDDEN'));
        return forbidden(`token "${principal.name}" has scope ${principal.scope}; ${field} needs ${needed}`);
      }
    }
    return undefined;
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check(args.document, args.operationName, args.contextValue as Context);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check(args.document, args.operationName, args.contextValue as Context);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}

// --- Internal helpers ---

/** Root field names of an operation, through inline fragments and fragment spreads. */
function rootFields(set: SelectionSetNode, document: DocumentNode, seen = new Set<string>()): string[] {
  const out: string[] = [];
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      if (s.name.value !== '__typename') out.push(s.name.value);
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      out.push(...rootFields(s.selectionSet, document, seen));
    } else if (!seen.has(s.name.value)) {
      seen.add(s.name.value);
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === s.name.value);
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION) out.push(...rootFields(fragment.selectionSet, document, seen));
    }
  }
  return out;
}

function forbidden(message: string, code = 'FORBIDDEN', status = 403): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status } } });
}
