/**
 * Typed documents for the operations the tests use: reads the committed schema.graphql and
 * test/operations/*.graphql, writes test/generated/graphql.ts (`npm run codegen`).
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/operations/**/*.graphql'],
  generates: {
    'test/generated/graphql.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        useTypeImports: true,
        scalars: { JSON: 'unknown', DateTime: 'string', File: 'File' },
        enumsAsTypes: true,
      },
    },
  },
};

export default config;
