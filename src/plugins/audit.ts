/**
 * The audit trail: one `audit` log line per mutation (who, which root field, which resource,
 * how it ended) and one when a deployment it started finishes. Lines carry the token's name and
 * ids only: never a token, argument values such as scripts or keys, or an error message.
 */
import {
  GraphQLObjectType,
  GraphQLSchema,
  defaultFieldResolver,
  getNamedType,
  isObjectType,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
} from 'graphql';
import type { Context } from '../context.ts';
import type { Deployment } from '../deploy/types.ts';
import { SkygraphError } from '../providers/errors.ts';
import type { Logger } from '../providers/types.ts';

/** The fields of one audit line. */
export interface AuditLine extends Record<string, unknown> {
  /** the token's configured name (`anonymous` without tokens) */
  actor: string;
  /** the mutation's root field, or `deployment` for a deployment's end */
  operation: string;
  /** the id the mutation acted on or created, when known */
  resource: string | undefined;
  /** `ok`, an error code (`NOT_FOUND`, `FORBIDDEN`, ...), or a deployment's final status */
  result: string;
}

export function auditLine(actor: string, operation: string, resource: string | undefined, result: string): AuditLine {
  return { actor, operation, resource, result };
}

/**
 * A copy of `schema` whose Mutation fields write an audit line when they end; the shared schema
 * object is left alone (several apps may run in one process).
 */
export function auditMutations(schema: GraphQLSchema, logger: Logger): GraphQLSchema {
  const mutation = schema.getMutationType();
  if (!mutation) return schema;
  const config = mutation.toConfig();
  const fields: Record<string, GraphQLFieldConfig<unknown, Context>> = {};
  for (const [name, field] of Object.entries(config.fields)) {
    fields[name] = { ...field, resolve: audited(name, field, logger) };
  }
  const audited_ = new GraphQLObjectType({ ...config, fields });
  const all = schema.toConfig();
  return new GraphQLSchema({ ...all, mutation: audited_, types: all.types.filter((t) => t !== mutation) });
}

// --- Internal helpers ---

function audited(name: string, field: GraphQLFieldConfig<unknown, Context>, logger: Logger): GraphQLFieldResolver<unknown, Context> {
  const resolve = field.resolve ?? defaultFieldResolver;
  const idArgs = Object.entries(field.args ?? {})
    .filter(([, a]) => getNamedType(a.type).name === 'ID')
    .map(([argName]) => argName);
  return async (root, args: Record<string, unknown>, ctx, info) => {
    const actor = ctx.principal?.name ?? 'unknown';
    const target = idArgs.map((a) => args[a]).find((v): v is string => typeof v === 'string') ?? accountOf(args);
    try {
      const value: unknown = await resolve(root, args, ctx, info);
      const created = await idOf(value, info.returnType, ctx, info).catch(() => undefined);
      logger.info('audit', auditLine(actor, name, created ?? target, 'ok'));
      if (getNamedType(info.returnType).name === 'Deployment' && value && typeof value === 'object') {
        void followDeployment(ctx, (value as Deployment).id, actor, name, logger);
      }
      return value;
    } catch (err) {
      logger.info('audit', auditLine(actor, name, target, err instanceof SkygraphError ? err.code : 'ERROR'));
      throw err;
    }
  };
}

/** The GraphQL id of what a mutation returned (a created node's id), through the type's own id resolver. */
async function idOf(value: unknown, type: Parameters<typeof getNamedType>[0], ctx: Context, info: Parameters<GraphQLFieldResolver<unknown, Context>>[3]): Promise<string | undefined> {
  const named = getNamedType(type);
  if (!value || typeof value !== 'object' || !isObjectType(named)) return undefined;
  const idField = named.getFields().id;
  if (!idField) return undefined;
  const idInfo = { ...info, fieldName: 'id', parentType: named, returnType: idField.type };
  const id: unknown = await (idField.resolve ?? defaultFieldResolver)(value, {}, ctx, idInfo);
  return typeof id === 'string' ? id : undefined;
}

/** `account "x"` for a create that failed before it had an id (the account argument, or input.account). */
function accountOf(args: Record<string, unknown>): string | undefined {
  const look = (o: unknown, depth: number): string | undefined => {
    if (!o || typeof o !== 'object' || depth > 2) return undefined;
    const rec = o as Record<string, unknown>;
    if (typeof rec.account === 'string') return `account:${rec.account}`;
    for (const v of Object.values(rec)) {
      const found = look(v, depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return look(args, 0);
}

async function followDeployment(ctx: Context, id: string, actor: string, operation: string, logger: Logger): Promise<void> {
  try {
    for await (const event of ctx.services.deployments.subscribe(id)) {
      if (event.type !== 'status') continue;
      const { status, error, nodeId } = event.deployment;
      if (status !== 'SUCCEEDED' && status !== 'FAILED') continue;
      logger.info('audit', { ...auditLine(actor, 'deployment', id, status), startedBy: operation, nodeId, ...(error ? { code: error.code } : {}) });
      return;
    }
  } catch {
    // why: a deployment forgotten or a manager closed before the end has nothing left to audit
  }
}
