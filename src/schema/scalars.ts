import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { builder } from '../builder.ts';

function literal(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)]));
    case Kind.LIST:
      return ast.values.map(literal);
    case Kind.NULL:
      return null;
    default:
      throw new GraphQLError('JSON literals cannot contain variables');
  }
}

export const JSONScalar = builder.scalarType('JSON', {
  description: 'Any JSON value: provider-specific fields (`extra`) and provider-only parameters (`ex`).',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: literal,
});

export const DateTimeScalar = builder.scalarType('DateTime', {
  description: 'An ISO 8601 timestamp in UTC.',
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString()),
  parseValue: (v) => {
    const d = new Date(String(v));
    if (Number.isNaN(d.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 timestamp');
    return d;
  },
});

export const FileScalar = builder.scalarType('File', {
  description: 'A file sent with the GraphQL multipart request spec (for objects up to server.uploadMaxBytes).',
  serialize: () => {
    throw new GraphQLError('File is an input-only scalar');
  },
  parseValue: (v) => {
    if (typeof File !== 'undefined' && v instanceof File) return v;
    if (v && typeof v === 'object' && 'stream' in v && 'name' in v) return v as File;
    throw new GraphQLError('File must be sent as a multipart upload');
  },
});
