/** Writes the printed schema to schema.graphql (committed; test/schema.test.ts fails on drift). */
import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from '../src/schema/index.ts';

writeFileSync(new URL('../schema.graphql', import.meta.url), printSchema(schema) + '\n');
console.log('wrote schema.graphql');
