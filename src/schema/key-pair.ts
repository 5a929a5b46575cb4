/**
 * SSH key pairs held by a compute provider (EC2, Nova, sandbox). Only importing a public key is
 * offered: a generated key pair's private key would travel in a GraphQL response.
 */
import { builder, type Types } from '../builder.ts';
import { decodeId, encodeId } from '../ids.ts';
import { InvalidInputError } from '../providers/errors.ts';
import type { KeyPair as KeyPairModel } from '../providers/types.ts';
import { computeWith, unsupported } from '../resolvers/capability.ts';
import { callAccount, scope, type InAccount } from '../resolvers/fan-out.ts';
import { regionFor } from '../resolvers/refs.ts';
import { defineConnection } from './connection.ts';
import { defineList } from './list.ts';
import { defineMutation, deletedPayload } from './mutation.ts';
import { defineResource } from './resource.ts';

export const KeyPair = defineResource<KeyPairModel>('KeyPair', {
  description: 'An SSH public key the provider installs on new nodes (createNode input.keyName).',
  idParts: (k) => [k.name],
  nativeId: (k) => k.name,
  load: async (ctx, d) => {
    const account = ctx.runtime.account(d.account, 'id');
    const name = d.parts[0] ?? '';
    const driver = computeWith(account, d.region, 'listKeyPairs');
    const found = await callAccount(ctx, account, 'keyPair', async () =>
      driver.getKeyPair ? driver.getKeyPair(name) : (await ctx.loaders.compute(d.account, d.region).current.keyPairs()).find((k) => k.name === name) ?? null,
    { region: d.region });
    return found ? scope(found, d.account, d.region) : null;
  },
  fields: (t) => ({
    name: t.exposeString('name'),
    fingerprint: t.exposeString('fingerprint', { nullable: true }),
    publicKey: t.exposeString('publicKey', { nullable: true }),
  }),
});

const KeyPairFilter = builder.inputType('KeyPairFilter', {
  fields: (t) => ({
    accounts: t.idList({ description: 'Only these accounts (all compute accounts with key pairs when omitted).' }),
    regions: t.stringList({ description: 'Only these regions.' }),
    name: t.string({ description: 'Substring of the name, case-insensitive.' }),
  }),
});

defineList({
  field: 'keyPairs',
  description: 'SSH key pairs the compute accounts hold (capability KEY_PAIRS).',
  service: 'COMPUTE',
  connection: defineConnection('KeyPair', KeyPair),
  filter: KeyPairFilter,
  unsupported: (account) => (typeof account.compute(account.regions[0] ?? null).listKeyPairs === 'function' ? undefined : unsupported(account, 'listKeyPairs')),
  fetch: (ctx, account, region) => ctx.loaders.compute(account.config.id, region).keyPairs(),
  match: (k, f) => !f.name || k.name.toLowerCase().includes(f.name.toLowerCase()),
  identity: (k) => [k.name],
});

const keyPairPayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, { keyPair: InAccount<KeyPairModel> }>) => ({
  keyPair: t.field({ type: KeyPair, resolve: (p) => p.keyPair }),
});

defineMutation('importKeyPair', {
  description: 'Registers an OpenSSH public key line under a name.',
  input: (t) => ({
    account: t.id({ required: true }),
    region: t.string({ description: 'Required when the account has several regions.' }),
    name: t.string({ required: true }),
    publicKey: t.string({ required: true, description: 'One OpenSSH public key line (ssh-ed25519 AAAA... comment).' }),
  }),
  payload: keyPairPayload,
  resolve: async (input, ctx) => {
    if (!input.name.trim()) throw new InvalidInputError('argument "input.name" must not be empty', { field: 'input.name' });
    const account = ctx.runtime.account(String(input.account), 'input.account');
    const region = regionFor(account, input.region, 'input.region');
    const driver = computeWith(account, region, 'importKeyPair');
    const pair = await callAccount(ctx, account, 'importKeyPair', () => driver.importKeyPair(input.name, input.publicKey), { region, mutates: true });
    return { keyPair: scope(pair, account.config.id, region) };
  },
});

defineMutation('deleteKeyPair', {
  description: 'Deletes a key pair; nodes that have it installed keep it.',
  input: (t) => ({ id: t.id({ required: true, description: 'The KeyPair id.' }) }),
  payload: deletedPayload,
  resolve: async (input, ctx) => {
    const d = decodeId(String(input.id), 'KeyPair', 'input.id');
    const account = ctx.runtime.account(d.account, 'input.id');
    const driver = computeWith(account, d.region, 'deleteKeyPair');
    await callAccount(ctx, account, 'deleteKeyPair', () => driver.deleteKeyPair(d.parts[0] ?? ''), { region: d.region, mutates: true });
    return { deletedId: encodeId('KeyPair', d.account, d.region, d.parts[0] ?? '') };
  },
});
