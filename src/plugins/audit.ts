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
  isInputObjectType,
  isObjectType,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
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
  const input = field.args?.input ? getNamedType(field.args.input.type) : undefined;
  // why: every mutation takes one `input` (docs/architecture.md); its `id` field names the target, else its first other ID field
  const idFields = isInputObjectType(input)
    ? Object.values(input.getFields())
        .filter((f) => getNamedType(f.type).name === 'ID' && f.name !== 'account')
        .map((f) => f.name)
        .sort((a, b) => Number(b === 'id') - Number(a === 'id'))
    : [];
  return async (root, args: Record<string, unknown>, ctx, info) => {
    const actor = ctx.principal?.name ?? 'unknown';
    const given = (args.input ?? {}) as Record<string, unknown>;
    const target = idFields.map((f) => given[f]).find((v): v is string => typeof v === 'string') ?? accountOf(args);
    try {
      const value: unknown = await resolve(root, args, ctx, info);
      const outcome = await payloadOutcome(value, info.returnType, ctx, info).catch(() => ({}) as PayloadOutcome);
      logger.info('audit', auditLine(actor, name, outcome.id ?? target, 'ok'));
      if (outcome.deploymentId) void followDeployment(ctx, outcome.deploymentId, actor, name, logger);
      return value;
    } catch (err) {
      logger.info('audit', auditLine(actor, name, target, err instanceof SkygraphError ? err.code : 'ERROR'));
      throw err;
    }
  };
}

interface PayloadOutcome {
  /** the id the mutation created, changed or deleted */
  id?: string | undefined;
  /** set when the payload is a deployment that goes on after the mutation */
  deploymentId?: string | undefined;
}

/**
 * What a mutation's payload says it did: `deletedId`, or the id of the first resource it holds
 * (`createNode { node }`), through the type's own id resolver. Payload fields that load their value
 * are not resolved: an audit line must not call upstream.
 */
async function payloadOutcome(value: unknown, type: GraphQLOutputType, ctx: Context, info: GraphQLResolveInfo): Promise<PayloadOutcome> {
  const payload = getNamedType(type);
  if (!value || typeof value !== 'object' || !isObjectType(payload)) return {};
  const record = value as Record<string, unknown>;
  if (typeof record.deletedId === 'string') return { id: record.deletedId };
  for (const field of Object.values(payload.getFields())) {
    const named = getNamedType(field.type);
    const idField = isObjectType(named) ? named.getFields().id : undefined;
    if (!isObjectType(named) || !idField) continue;
    const child = record[field.name];
    if (!child || typeof child !== 'object') continue;
    const id: unknown = await (idField.resolve ?? defaultFieldResolver)(child, {}, ctx, { ...info, fieldName: 'id', parentType: named, returnType: idField.type });
    if (typeof id !== 'string') continue;
    return named.name === 'Deployment' ? { id, deploymentId: (child as Deployment).id } : { id };
  }
  return {};
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
