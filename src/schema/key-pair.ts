/**
 * SSH key pairs held by a compute provider (EC2, Nova, sandbox). Only importing a public key is
 * offered: a generated key pair's private key would travel in a GraphQL response.
 */
import { builder } from '../builder.ts';
import { decodeId, encodeId } from '../ids.ts';
import { InvalidInputError } from '../providers/errors.ts';
import type { KeyPair as KeyPairModel } from '../providers/types.ts';
import { computeWith } from '../resolvers/capability.ts';
import { fanOut, scope, selectAccounts, withDeadline, type InAccount } from '../resolvers/fan-out.ts';
import { paginate } from '../resolvers/paginate.ts';
import { regionFor } from '../resolvers/refs.ts';
import { defineConnection } from './connection.ts';
import { Resource, resourceResolvers } from './resource.ts';
import { JSONScalar } from './scalars.ts';

export const KeyPair = builder.objectRef<InAccount<KeyPairModel>>('KeyPair').implement({
  description: 'An SSH public key the provider installs on new nodes (CreateNodeInput.keyName).',
  interfaces: [Resource],
  fields: (t) => ({
    id: t.id({ resolve: (k) => encodeId('KeyPair', k.$account, k.$region, k.name) }),
    name: t.exposeString('name'),
    fingerprint: t.exposeString('fingerprint', { nullable: true }),
    publicKey: t.exposeString('publicKey', { nullable: true }),
    region: t.string({ nullable: true, resolve: (k) => k.$region }),
    extra: t.field({ type: JSONScalar, resolve: (k) => k.extra }),
  }),
});

const KeyPairConnection = defineConnection('KeyPair', KeyPair);

builder.queryField('keyPairs', (t) =>
  t.field({
    type: KeyPairConnection,
    description: 'Key pairs of one account, across its regions.',
    args: { account: t.arg.id({ required: true }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const accounts = selectAccounts(ctx, [String(args.account)], 'COMPUTE', 'account');
      // why: a driver without key pairs is one clear UNSUPPORTED error, not a failure per region
      computeWith(accounts[0]!, accounts[0]!.regions[0] ?? null, 'listKeyPairs');
      const { items, failures } = await fanOut(ctx, accounts, 'listKeyPairs', (acct, region) => computeWith(acct, region, 'listKeyPairs').listKeyPairs());
      return { ...paginate(items, (k) => [k.$region ?? '', k.name], args.first, args.after), failures };
    },
  }),
);

builder.mutationField('importKeyPair', (t) =>
  t.field({
    type: KeyPair,
    description: 'Registers an OpenSSH public key line under a name.',
    args: {
      account: t.arg.id({ required: true }),
      region: t.arg.string({ description: 'Required when the account has several regions.' }),
      name: t.arg.string({ required: true }),
      publicKey: t.arg.string({ required: true }),
    },
    resolve: async (_root, args, ctx) => {
      if (!args.name.trim()) throw new InvalidInputError('argument "name" must not be empty', { field: 'name' });
      const account = ctx.runtime.account(String(args.account), 'account');
      const region = regionFor(account, args.region, 'region');
      const driver = computeWith(account, region, 'importKeyPair');
      const pair = await withDeadline(account, 'importKeyPair', () => driver.importKeyPair(args.name, args.publicKey));
      return scope(pair, account.config.id, region);
    },
  }),
);

builder.mutationField('deleteKeyPair', (t) =>
  t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const d = decodeId(String(args.id), 'KeyPair', 'id');
      const account = ctx.runtime.account(d.account, 'id');
      const driver = computeWith(account, d.region, 'deleteKeyPair');
      await withDeadline(account, 'deleteKeyPair', () => driver.deleteKeyPair(d.parts[0] ?? ''));
      return true;
    },
  }),
);

resourceResolvers.set('KeyPair', async (id, ctx) => {
  const d = decodeId(id, 'KeyPair', 'id');
  const account = ctx.runtime.account(d.account, 'id');
  const driver = computeWith(account, d.region, 'getKeyPair');
  return scope(await withDeadline(account, 'getKeyPair', () => driver.getKeyPair(d.parts[0] ?? '')), d.account, d.region);
});
