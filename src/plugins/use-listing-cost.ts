/**
 * The upstream side of `server.limits.cost`. A list field fans out to accounts, and each distinct
 * listing it can make (field, the arguments that reach upstream, account, region) is at least one
 * upstream call: per-request loaders share a listing asked for twice, but distinct arguments are
 * distinct calls. Before anything executes, the listings a document can make are counted, at
 * LISTING_COST each, against the same budget graphql-armor prices the document with; over it,
 * the document is refused with QUERY_TOO_COMPLEX and nothing is called. The count is an upper
 * bound: a filter given in variables, or an Account field outside `account(id: "...")`, is
 * counted for every account it could cover.
 */
import { GraphQLError, Kind, valueFromAST, type ASTNode, type FieldNode, type ValidationContext, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Runtime } from '../runtime.ts';
import { LIST_SPECS, type BaseFilter } from '../schema/list.ts';

/** What one listing (one list field on one account and region) adds to a document's cost. */
export const LISTING_COST = 500;

export function useListingCost(limit: number, runtime: Runtime): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(listingCostRule(limit, runtime));
    },
  };
}

export function listingCostRule(limit: number, runtime: Runtime): ValidationRule {
  return (context: ValidationContext) => {
    const listings = new Set<string>();
    let unknown = 0;
    return {
      Field: {
        enter(node: FieldNode, _key, _parent, _path, ancestors) {
          const parent = context.getParentType()?.name;
          const spec = LIST_SPECS.get(node.name.value);
          if (!spec || (parent !== 'Query' && parent !== 'Account')) return;
          const filterArg = context.getFieldDef()?.args.find((a) => a.name === 'filter');
          const filterNode = node.arguments?.find((a) => a.name.value === 'filter');
          let filter: BaseFilter | undefined;
          let known = true;
          if (filterNode && filterArg) {
            filter = valueFromAST(filterNode.value, filterArg.type) as BaseFilter | undefined;
            // why: a filter in variables is not known yet; count it as its own listing on every account
            if (filter === undefined) known = false;
          }
          const only = parent === 'Account' ? accountOf(ancestors) : undefined;
          const named = filter?.accounts?.map(String);
          const upstream = known ? JSON.stringify(spec.upstreamFilter?.(filter) ?? null) : `?${unknown++}`;
          for (const account of runtime.accounts.values()) {
            if (!account.definition.services.includes(spec.service) || spec.unsupported?.(account)) continue;
            if ((only !== undefined && account.config.id !== only) || (named && !named.includes(account.config.id))) continue;
            for (const region of account.regions) {
              if (filter?.regions && (region === null || !filter.regions.includes(region))) continue;
              listings.add(JSON.stringify([node.name.value, account.config.id, region, upstream]));
            }
          }
        },
      },
      Document: {
        leave() {
          const cost = listings.size * LISTING_COST;
          if (cost <= limit) return;
          context.reportError(
            new GraphQLError(
              `the query can make ${listings.size} upstream listings (one per list field, distinct arguments, account and region), ` +
                `costing ${cost}; the maximum cost is ${limit} (server.limits.cost)`,
              { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } },
            ),
          );
        },
      },
    };
  };
}

// --- Internal helpers ---

/** The account of an enclosing `account(id: "...")`, when the id is written in the document. */
function accountOf(ancestors: readonly (ASTNode | readonly ASTNode[])[]): string | undefined {
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const a = ancestors[i];
    if (!a || Array.isArray(a) || (a as ASTNode).kind !== Kind.FIELD) continue;
    const field = a as FieldNode;
    if (field.name.value !== 'account') continue;
    const id = field.arguments?.find((arg) => arg.name.value === 'id')?.value;
    return id?.kind === Kind.STRING ? id.value : undefined;
  }
  return undefined;
}
