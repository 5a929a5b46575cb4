import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, encodeId, type DecodedId } from '../ids.ts';
import { InvalidInputError, NotFoundError } from '../providers/errors.ts';
import type { Algorithm, LoadBalancer as BalancerModel, LoadBalancerDriver } from '../providers/types.ts';
import type { AccountRuntime } from '../runtime.ts';
import { unsupported } from '../resolvers/capability.ts';
import { fanOut, scope, selectAccounts, withDeadline, type InAccount } from '../resolvers/fan-out.ts';
import { paginate } from '../resolvers/paginate.ts';
import { defineConnection } from './connection.ts';
import { AlgorithmEnum, BalancerStateEnum } from './enums.ts';
import { Member, toMember } from './member.ts';
import { loadNode } from './node.ts';
import { Resource, resourceResolvers } from './resource.ts';
import { JSONScalar } from './scalars.ts';
import { nullIfNotFound } from './container.ts';

export const LoadBalancer = builder.objectRef<InAccount<BalancerModel>>('LoadBalancer').implement({
  description: 'A load balancer and its members.',
  interfaces: [Resource],
  fields: (t) => ({
    id: t.id({ resolve: (b) => encodeId('LoadBalancer', b.$account, b.$region, b.id) }),
    nativeId: t.exposeString('id'),
    name: t.exposeString('name'),
    state: t.field({ type: BalancerStateEnum, resolve: (b) => b.state }),
    ip: t.exposeString('ip', { nullable: true }),
    port: t.exposeInt('port', { nullable: true }),
    protocol: t.exposeString('protocol', { nullable: true }),
    algorithm: t.field({ type: AlgorithmEnum, nullable: true, resolve: (b) => b.algorithm }),
    region: t.string({ nullable: true, resolve: (b) => b.$region }),
    extra: t.field({ type: JSONScalar, resolve: (b) => b.extra }),
    members: t.field({
      type: [Member],
      resolve: async (b, _args, ctx) => {
        const list = await ctx.loaders.loadBalancer(b.$account, b.$region).members.load(b.id);
        return list.map((m) => toMember(m, b.$account, b.$region, b.id));
      },
    }),
  }),
});

export const LoadBalancerConnection = defineConnection('LoadBalancer', LoadBalancer);

export async function loadBalancer(ctx: Context, d: DecodedId): Promise<InAccount<BalancerModel>> {
  const account = ctx.runtime.account(d.account, 'id');
  const b = await withDeadline(account, 'loadBalancer', () => ctx.loaders.loadBalancer(d.account, d.region).balancer.load(d.parts[0] ?? ''));
  return scope(b, d.account, d.region);
}

resourceResolvers.set('LoadBalancer', (id, ctx) => loadBalancer(ctx, decodeId(id, 'LoadBalancer', 'id')));
resourceResolvers.set('Member', async (id, ctx) => {
  const d = decodeId(id, 'Member', 'id');
  const [balancerId = '', memberId = ''] = d.parts;
  const members = await ctx.loaders.loadBalancer(d.account, d.region).members.load(balancerId);
  const m = members.find((x) => x.id === memberId);
  return m ? toMember(m, d.account, d.region, balancerId) : null;
});

builder.queryFields((t) => ({
  loadBalancers: t.field({
    type: LoadBalancerConnection,
    description: 'Load balancers across accounts, queried in parallel.',
    args: { accounts: t.arg.idList(), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const accounts = selectAccounts(ctx, args.accounts?.map(String), 'LOADBALANCER');
      const { items, failures } = await fanOut(ctx, accounts, 'loadBalancers', (acct, region) =>
        ctx.loaders.loadBalancer(acct.config.id, region).balancers(),
      );
      return { ...paginate(items, (b) => [b.$account, b.$region ?? '', b.id], args.first, args.after), failures };
    },
  }),
  loadBalancer: t.field({
    type: LoadBalancer,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => nullIfNotFound(loadBalancer(ctx, decodeId(String(args.id), 'LoadBalancer', 'id'))),
  }),
  loadBalancerProtocols: t.stringList({
    description: 'Protocols the account\'s load balancers accept.',
    args: { account: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const [account] = selectAccounts(ctx, [String(args.account)], 'LOADBALANCER', 'account');
      const region = account!.regions[0] ?? null;
      return withDeadline(account!, 'listProtocols', () => ctx.loaders.loadBalancer(account!.config.id, region).protocols());
    },
  }),
  loadBalancerAlgorithms: t.field({
    type: [AlgorithmEnum],
    description: 'Algorithms the account\'s load balancers support; others are rejected.',
    args: { account: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => {
      const [account] = selectAccounts(ctx, [String(args.account)], 'LOADBALANCER', 'account');
      return account!.loadBalancer(account!.regions[0] ?? null).listAlgorithms();
    },
  }),
}));

const MemberInput = builder.inputType('MemberInput', {
  fields: (t) => ({ ip: t.string({ required: true }), port: t.int({ required: true }) }),
});

const CreateLoadBalancerInput = builder.inputType('CreateLoadBalancerInput', {
  fields: (t) => ({
    account: t.id({ required: true }),
    region: t.string(),
    name: t.string({ required: true }),
    port: t.int({ required: true }),
    protocol: t.string({ required: true }),
    algorithm: t.field({ type: AlgorithmEnum, required: true }),
    members: t.field({ type: [MemberInput], defaultValue: [] }),
    ex: t.field({ type: JSONScalar }),
  }),
});

const UpdateLoadBalancerInput = builder.inputType('UpdateLoadBalancerInput', {
  description: 'The fields to change; those left out stay as they are.',
  fields: (t) => ({
    name: t.string(),
    port: t.int(),
    protocol: t.string(),
    algorithm: t.field({ type: AlgorithmEnum }),
  }),
});

function checkAlgorithm(account: AccountRuntime, driver: LoadBalancerDriver, algorithm: Algorithm, argument: string): Algorithm {
  if (!driver.listAlgorithms().includes(algorithm)) {
    throw new InvalidInputError(
      `argument "${argument}": ${account.definition.name} does not support ${algorithm} (supported: ${driver.listAlgorithms().join(', ')})`,
      { field: argument },
    );
  }
  return algorithm;
}

function checkPort(port: number, argument: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidInputError(`argument "${argument}" must be a port between 1 and 65535`, { field: argument });
  }
  return port;
}

async function balancerFor(ctx: Context, id: string, argument: string) {
  const d = decodeId(id, 'LoadBalancer', argument);
  const account = ctx.runtime.account(d.account, argument);
  return { d, account, driver: account.loadBalancer(d.region), balancerId: d.parts[0] ?? '' };
}

/** Publishes the live event of a balancer mutation; `now` is the balancer as the driver answered, when it did. */
async function announce(ctx: Context, d: DecodedId, kind: 'CREATED' | 'UPDATED' | 'DELETED', before?: BalancerModel, now?: BalancerModel) {
  const driver = ctx.runtime.account(d.account).loadBalancer(d.region);
  const b = kind === 'DELETED' ? before : (now ?? (await driver.getBalancer(d.parts[0] ?? '').catch(() => before)));
  if (!b) return;
  const members = kind === 'DELETED' ? [] : await driver.listMembers(b.id).catch(() => []);
  ctx.services.mutated({
    resource: 'loadBalancer', kind, accountId: d.account, region: d.region, id: b.id,
    item: { ...b, members }, previousState: before?.state ?? null, state: kind === 'DELETED' ? 'deleted' : b.state,
  });
}

builder.mutationFields((t) => ({
  createLoadBalancer: t.field({
    type: LoadBalancer,
    args: { input: t.arg({ type: CreateLoadBalancerInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const [account] = selectAccounts(ctx, [String(input.account)], 'LOADBALANCER', 'input.account');
      const region = input.region ?? account!.regions[0] ?? null;
      if (!account!.regions.includes(region)) {
        throw new InvalidInputError(`argument "input.region": account "${account!.config.id}" has no region "${region}"`, { field: 'input.region' });
      }
      const driver = account!.loadBalancer(region);
      checkAlgorithm(account!, driver, input.algorithm, 'input.algorithm');
      const members = (input.members ?? []).map((m, i) => ({ ip: m.ip, port: checkPort(m.port, `input.members[${i}].port`) }));
      const b = await withDeadline(account!, 'createLoadBalancer', () =>
        driver.createBalancer({
          name: input.name, port: checkPort(input.port, 'input.port'), protocol: input.protocol, algorithm: input.algorithm, members,
          ex: (input.ex as Record<string, unknown> | null) ?? undefined,
        }),
      );
      await announce(ctx, { type: 'LoadBalancer', account: account!.config.id, region, parts: [b.id] }, 'CREATED');
      return scope(b, account!.config.id, region);
    },
  }),
  updateLoadBalancer: t.field({
    type: LoadBalancer,
    description: "Changes a balancer's name, port, protocol or algorithm, where the provider allows it.",
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateLoadBalancerInput, required: true }) },
    resolve: async (_root, { id, input }, ctx) => {
      const { d, account, driver, balancerId } = await balancerFor(ctx, String(id), 'id');
      if (!driver.updateBalancer) throw unsupported(account.definition.name, 'updateBalancer');
      const patch: Parameters<NonNullable<LoadBalancerDriver['updateBalancer']>>[1] = {};
      if (input.name != null) {
        if (!input.name.trim()) throw new InvalidInputError('argument "input.name" must not be empty', { field: 'input.name' });
        patch.name = input.name;
      }
      if (input.port != null) patch.port = checkPort(input.port, 'input.port');
      if (input.protocol != null) patch.protocol = input.protocol;
      if (input.algorithm != null) patch.algorithm = checkAlgorithm(account, driver, input.algorithm, 'input.algorithm');
      if (Object.keys(patch).length === 0) throw new InvalidInputError('argument "input" names nothing to change', { field: 'input' });
      const before = await withDeadline(account, 'loadBalancer', () => driver.getBalancer(balancerId));
      const b = await withDeadline(account, 'updateLoadBalancer', () => driver.updateBalancer!(balancerId, patch));
      await announce(ctx, d, 'UPDATED', before, b);
      return scope(b, d.account, d.region);
    },
  }),
  destroyLoadBalancer: t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { d, account, driver, balancerId } = await balancerFor(ctx, String(args.id), 'id');
      const before = await driver.getBalancer(balancerId);
      await withDeadline(account, 'destroyLoadBalancer', () => driver.destroyBalancer(balancerId));
      await announce(ctx, d, 'DELETED', before);
      return true;
    },
  }),
  attachMember: t.field({
    type: Member,
    args: { balancer: t.arg.id({ required: true }), ip: t.arg.string({ required: true }), port: t.arg.int({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { d, account, driver, balancerId } = await balancerFor(ctx, String(args.balancer), 'balancer');
      const m = await withDeadline(account, 'attachMember', () => driver.attachMember(balancerId, { ip: args.ip, port: checkPort(args.port, 'port') }));
      await announce(ctx, d, 'UPDATED');
      return toMember(m, d.account, d.region, balancerId);
    },
  }),
  attachNode: t.field({
    type: Member,
    description: 'Attach a compute node of the same account by id, on the given port.',
    args: { balancer: t.arg.id({ required: true }), node: t.arg.id({ required: true }), port: t.arg.int({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { d, account, driver, balancerId } = await balancerFor(ctx, String(args.balancer), 'balancer');
      const nd = decodeId(String(args.node), 'Node', 'node');
      if (nd.account !== d.account) {
        throw new InvalidInputError(`argument "node" belongs to account "${nd.account}", the balancer to "${d.account}"`, { field: 'node' });
      }
      const node = await loadNode(ctx, nd);
      if (!node) throw new NotFoundError(`argument "node": node ${nd.parts[0]} not found`);
      const port = checkPort(args.port, 'port');
      const m = await withDeadline(account, 'attachNode', async () => {
        if (driver.attachNode) return driver.attachNode(balancerId, node, port);
        const ip = node.publicIps[0] ?? node.privateIps[0];
        if (!ip) throw new InvalidInputError(`argument "node": node ${node.id} has no IP address to attach`, { field: 'node' });
        return driver.attachMember(balancerId, { ip, port, nodeId: node.id });
      });
      await announce(ctx, d, 'UPDATED');
      return toMember(m, d.account, d.region, balancerId);
    },
  }),
  detachMember: t.boolean({
    args: { balancer: t.arg.id({ required: true }), member: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { d, account, driver, balancerId } = await balancerFor(ctx, String(args.balancer), 'balancer');
      const raw = String(args.member);
      const md = raw.length > 0 ? tryMember(raw) : undefined;
      const memberId = md ? md.parts[1] ?? '' : raw;
      if (md && (md.account !== d.account || md.parts[0] !== balancerId)) {
        throw new InvalidInputError('argument "member" is not a member of this balancer', { field: 'member' });
      }
      await withDeadline(account, 'detachMember', () => driver.detachMember(balancerId, memberId));
      await announce(ctx, d, 'UPDATED');
      return true;
    },
  }),
}));

function tryMember(id: string): DecodedId | undefined {
  try {
    return decodeId(id, 'Member', 'member');
  } catch {
    return undefined;
  }
}
