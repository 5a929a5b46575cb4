import { readFileSync } from 'node:fs';
import { getNamedType, GraphQLEnumType, GraphQLNonNull, GraphQLObjectType, isInputObjectType, isObjectType, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.ts';

describe('schema', () => {
  it('matches the committed schema.graphql (run `npm run schema:print` after changing types)', () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(printSchema(schema) + '\n').toBe(committed);
  });

  it('names the resource types, each a Resource linked to its account', () => {
    const names = ['Node', 'Image', 'Size', 'Location', 'Volume', 'VolumeSnapshot', 'KeyPair', 'Container', 'Object', 'LoadBalancer', 'Member', 'Zone', 'Record'];
    for (const name of names) {
      const type = schema.getType(name) as GraphQLObjectType;
      expect(type, name).toBeDefined();
      expect(type.getInterfaces().map((i) => i.name), name).toContain('Resource');
      const fields = type.getFields();
      expect(String(fields.account?.type), name).toBe('Account!');
      expect(String(fields.nativeId?.type), name).toBe('String!');
      expect(String(fields.region?.type), name).toBe('String');
      expect(String(fields.id?.type), name).toBe('ID!');
    }
  });

  it('gives every mutation one required `input: <Name>Input!` and a `<Name>Payload!` result, and one verb per meaning', () => {
    const mutations = Object.values(schema.getMutationType()!.getFields());
    expect(mutations.length).toBeGreaterThan(20);
    for (const m of mutations) {
      const Name = m.name.charAt(0).toUpperCase() + m.name.slice(1);
      expect(m.args.map((a) => `${a.name}: ${String(a.type)}`), m.name).toEqual([`input: ${Name}Input!`]);
      expect(isInputObjectType(getNamedType(m.args[0]!.type)), m.name).toBe(true);
      expect(String(m.type), m.name).toBe(`${Name}Payload!`);
      expect(m.type instanceof GraphQLNonNull && isObjectType(m.type.ofType), m.name).toBe(true);
      expect(m.name, 'delete, not destroy').not.toMatch(/^destroy/);
    }
  });

  it('uses enums for codes, capabilities, states and kinds', () => {
    const fieldType = (type: string, field: string) => getNamedType((schema.getType(type) as GraphQLObjectType).getFields()[field]!.type);
    for (const [type, field, enumName] of [
      ['ProviderFailure', 'code', 'ErrorCode'],
      ['Account', 'capabilities', 'Capability'],
      ['AccountHealth', 'status', 'AccountStatus'],
      ['DeploymentProgress', 'type', 'DeploymentProgressType'],
      ['DeploymentProgress', 'stream', 'OutputStream'],
      ['DeploymentError', 'code', 'DeploymentErrorCode'],
      ['StepResult', 'kind', 'StepKind'],
      ['Volume', 'state', 'VolumeState'],
      ['VolumeSnapshot', 'state', 'VolumeSnapshotState'],
    ] as const) {
      const named = fieldType(type, field);
      expect(named, `${type}.${field}`).toBeInstanceOf(GraphQLEnumType);
      expect(named.name, `${type}.${field}`).toBe(enumName);
    }
  });

  it('makes every list that can grow a connection with first/after/last/before, and every cross-account list filterable', () => {
    const query = schema.getQueryType()!.getFields();
    for (const name of ['nodes', 'images', 'sizes', 'locations', 'keyPairs', 'volumes', 'containers', 'loadBalancers', 'zones']) {
      const f = query[name]!;
      expect(String(f.type), name).toMatch(/Connection!$/);
      expect(f.args.map((a) => a.name).sort(), name).toEqual(expect.arrayContaining(['after', 'before', 'filter', 'first', 'last']));
      const filter = getNamedType(f.args.find((a) => a.name === 'filter')!.type);
      expect(Object.keys((filter as unknown as { getFields(): object }).getFields()), name).toEqual(expect.arrayContaining(['accounts', 'regions']));
      const account = (schema.getType('Account') as GraphQLObjectType).getFields()[name]!;
      expect(String(account.type), `Account.${name}`).toBe(String(f.type));
      expect(account.args.map((a) => a.name), `Account.${name}`).toEqual(f.args.map((a) => a.name));
    }
    expect(query.nodes!.args.map((a) => a.name)).toContain('orderBy');
    expect(String((schema.getType('LoadBalancer') as GraphQLObjectType).getFields().members!.type)).toBe('MemberConnection!');
    expect(String(query.volumeSnapshots!.type)).toBe('VolumeSnapshotConnection!');
  });
});
