import { builder, type Types } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, encodeId, type DecodedId } from '../ids.ts';
import { InvalidInputError, NotFoundError } from '../providers/errors.ts';
import type { Algorithm, LoadBalancer as BalancerModel, LoadBalancerDriver, Member as MemberModel } from '../providers/types.ts';
import type { AccountRuntime } from '../runtime.ts';
import { loadBalancerWith } from '../resolvers/capability.ts';
import { callAccount, pathOf, recordFailure, scope, selectAccounts, type InAccount } from '../resolvers/fan-out.ts';
import { paginate } from '../resolvers/paginate.ts';
import { Account } from './account.ts';
import { defineConnection, emptyConnection } from './connection.ts';
import { nullIfNotFound } from './container.ts';
import { AlgorithmEnum, BalancerStateEnum } from './enums.ts';
import { defineList } from './list.ts';
import { Member, MemberConnection, toMember, type MemberShape } from './member.ts';
import { defineMutation, deletedPayload } from './mutation.ts';
import { loadNode } from './node.ts';
import { defineResource } from './resource.ts';
import { JSONScalar } from './scalars.ts';

export async function loadBalancer(ctx: Context, d: DecodedId): Promise<InAccount<BalancerModel>> {
  const account = ctx.runtime.account(d.account, 'id');
  const b = await callAccount(ctx, account, 'loadBalancer', () => ctx.loaders.loadBalancer(d.account, d.region).balancer.load(d.parts[0] ?? ''), {
    region: d.region,
  });
  return scope(b, d.account, d.region);
}

export const LoadBalancer = defineResource<BalancerModel>('LoadBalancer', {
  description: 'A load balancer and its members.',
  idParts: (b) => [b.id],
  nativeId: (b) => b.id,
  load: loadBalancer,
  fields: (t) => ({
    name: t.exposeString('name'),
    state: t.field({ type: BalancerStateEnum, resolve: (b) => b.state }),
    ip: t.exposeString('ip', { nullable: true }),
    port: t.exposeInt('port', { nullable: true }),
    protocol: t.exposeString('protocol', { nullable: true }),
    algorithm: t.field({ type: AlgorithmEnum, nullable: true, resolve: (b) => b.algorithm }),
    members: t.field({
      type: MemberConnection,
      description: 'Its members; a failing provider is listed in `failures`.',
      args: { first: t.arg.int(), after: t.arg.string(), last: t.arg.int(), before: t.arg.string() },
      resolve: async (b, args, ctx, info) => {
        const account = ctx.runtime.account(b.$account);
        let list: MemberModel[];
        try {
          list = await callAccount(ctx, account, 'members', () => ctx.loaders.loadBalancer(b.$account, b.$region).members.load(b.id), { region: b.$region });
        } catch (err) {
          return emptyConnection<MemberShape>([recordFailure(ctx, account, b.$region, pathOf(info), err)]);
        }
        const items = list.map((m) => toMember(m, b.$account, b.$region, b.id));
        return { ...paginate(items, { tag: 'members', key: (m) => [m.id] }, args), failures: [] };
      },
    }),
  }),
});

const LoadBalancerFilter = builder.inputType('LoadBalancerFilter', {
  fields: (t) => ({
    accounts: t.idList({ description: 'Only these accounts (all load-balancer accounts when omitted).' }),
    regions: t.stringList({ description: 'Only these regions.' }),
    states: t.field({ type: [BalancerStateEnum], description: 'Only balancers in one of these states.' }),
    name: t.string({ description: 'Substring of the name, case-insensitive.' }),
  }),
});

export const LoadBalancerConnection = defineConnection('LoadBalancer', LoadBalancer);

defineList({
  field: 'loadBalancers',
  description: 'Load balancers across accounts.',
  service: 'LOADBALANCER',
  connection: LoadBalancerConnection,
  filter: LoadBalancerFilter,
  fetch: (ctx, account, region) => ctx.loaders.loadBalancer(account.config.id, region).balancers(),
  match: (b, f) => (!f.states || f.states.includes(b.state)) && (!f.name || b.name.toLowerCase().includes(f.name.toLowerCase())),
  identity: (b) => [b.id],
});

builder.queryField('loadBalancer', (t) =>
  t.field({
    type: LoadBalancer,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => nullIfNotFound(loadBalancer(ctx, decodeId(String(args.id), 'LoadBalancer', 'id'))),
  }),
);

builder.objectFields(Account, (t) => ({
  loadBalancerProtocols: t.stringList({
    description: "Protocols the account's load balancers accept (empty without the LOADBALANCER service).",
    resolve: async (a, _args, ctx) => {
      if (!a.definition.services.includes('LOADBALANCER')) return [];
      const region = a.regions[0] ?? null;
      return callAccount(ctx, a, 'loadBalancerProtocols', () => ctx.loaders.loadBalancer(a.config.id, region).protocols(), { region });
    },
  }),
  loadBalancerAlgorithms: t.field({
    type: [AlgorithmEnum],
    description: "Algorithms the account's load balancers support; others are refused (empty without the LOADBALANCER service).",
    resolve: (a) => (a.definition.services.includes('LOADBALANCER') ? a.loadBalancer(a.regions[0] ?? null).listAlgorithms() : []),
  }),
}));

const MemberInput = builder.inputType('MemberInput', {
  fields: (t) => ({ ip: t.string({ required: true }), port: t.int({ required: true }) }),
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

function balancerFor(ctx: Context, id: string, argument: string) {
  const d = decodeId(id, 'LoadBalancer', argument);
  const account = ctx.runtime.account(d.account, argument);
  return { d, account, driver: account.loadBalancer(d.region), balancerId: d.parts[0] ?? '' };
}

/**
 * Publishes the live event of a balancer mutation and answers the balancer as it is now; `now` is
 * the balancer as the driver answered, when it did.
 */
async function announce(
  ctx: Context,
  d: DecodedId,
  kind: 'CREATED' | 'UPDATED' | 'DELETED',
  before?: BalancerModel,
  now?: BalancerModel,
): Promise<InAccount<BalancerModel> | undefined> {
  const account = ctx.runtime.account(d.account);
  const driver = account.loadBalancer(d.region);
  const id = d.parts[0] ?? '';
  const b =
    kind === 'DELETED'
      ? before
      : (now ?? (await callAccount(ctx, account, 'loadBalancer', () => driver.getBalancer(id), { region: d.region }).catch(() => before)));
  if (!b) return undefined;
  const members = kind === 'DELETED' ? [] : await callAccount(ctx, account, 'members', () => driver.listMembers(b.id), { region: d.region }).catch(() => []);
  ctx.services.mutated({
    resource: 'loadBalancer', kind, accountId: d.account, region: d.region, id: b.id,
    item: { ...b, members }, previousState: before?.state ?? null, state: kind === 'DELETED' ? 'deleted' : b.state,
  });
  // why: the payload's balancer.members must show the change without another upstream call
  if (kind !== 'DELETED') ctx.loaders.loadBalancer(d.account, d.region).members.clear(b.id).prime(b.id, members);
  return scope(b, d.account, d.region);
}

type BalancerPayload = { loadBalancer: InAccount<BalancerModel> };
const balancerPayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, BalancerPayload>) => ({
  loadBalancer: t.field({ type: LoadBalancer, resolve: (p) => p.loadBalancer }),
});
type MemberPayload = BalancerPayload & { member: MemberShape };
const memberPayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, MemberPayload>) => ({
  member: t.field({ type: Member, resolve: (p) => p.member }),
  loadBalancer: t.field({ type: LoadBalancer, description: 'The balancer with the change applied.', resolve: (p) => p.loadBalancer }),
});

defineMutation('createLoadBalancer', {
  description: 'Creates a load balancer with its first members; loadBalancerChanged subscribers hear CREATED at once.',
  input: (t) => ({
    account: t.id({ required: true }),
    region: t.string({ description: 'Required when the account has several regions; defaults to its only one.' }),
    name: t.string({ required: true }),
    port: t.int({ required: true }),
    protocol: t.string({ required: true, description: 'One of Account.loadBalancerProtocols.' }),
    algorithm: t.field({ type: AlgorithmEnum, required: true, description: 'One of Account.loadBalancerAlgorithms.' }),
    members: t.field({ type: [MemberInput], defaultValue: [] }),
    ex: t.field({ type: JSONScalar, description: 'Provider-only parameters (subnets, listeners...).' }),
  }),
  payload: balancerPayload,
  resolve: async (input, ctx) => {
    const [account] = selectAccounts(ctx, [String(input.account)], 'LOADBALANCER', 'input.account');
    const region = input.region ?? account!.regions[0] ?? null;
    if (!account!.regions.includes(region)) {
      throw new InvalidInputError(`argument "input.region": account "${account!.config.id}" has no region "${region}"`, { field: 'input.region' });
    }
    const driver = account!.loadBalancer(region);
    checkAlgorithm(account!, driver, input.algorithm, 'input.algorithm');
    const members = (input.members ?? []).map((m, i) => ({ ip: m.ip, port: checkPort(m.port, `input.members[${i}].port`) }));
    const request = {
      name: input.name, port: checkPort(input.port, 'input.port'), protocol: input.protocol, algorithm: input.algorithm, members,
      ex: (input.ex as Record<string, unknown> | null) ?? undefined,
    };
    const b = await callAccount(ctx, account!, 'createLoadBalancer', () => driver.createBalancer(request), { region, mutates: true });
    const d: DecodedId = { type: 'LoadBalancer', account: account!.config.id, region, parts: [b.id] };
    return { loadBalancer: (await announce(ctx, d, 'CREATED')) ?? scope(b, d.account, region) };
  },
});

defineMutation('updateLoadBalancer', {
  description: "Changes a balancer's name, port, protocol or algorithm, where the provider allows it (capability UPDATE_LOAD_BALANCER).",
  input: (t) => ({
    id: t.id({ required: true, description: 'The LoadBalancer id.' }),
    name: t.string(),
    port: t.int(),
    protocol: t.string(),
    algorithm: t.field({ type: AlgorithmEnum }),
  }),
  payload: balancerPayload,
  resolve: async (input, ctx) => {
    const { d, account, balancerId } = balancerFor(ctx, String(input.id), 'input.id');
    const driver = loadBalancerWith(account, d.region, 'updateBalancer');
    const patch: Parameters<NonNullable<LoadBalancerDriver['updateBalancer']>>[1] = {};
    if (input.name != null) {
      if (!input.name.trim()) throw new InvalidInputError('argument "input.name" must not be empty', { field: 'input.name' });
      patch.name = input.name;
    }
    if (input.port != null) patch.port = checkPort(input.port, 'input.port');
    if (input.protocol != null) patch.protocol = input.protocol;
    if (input.algorithm != null) patch.algorithm = checkAlgorithm(account, driver, input.algorithm, 'input.algorithm');
    if (Object.keys(patch).length === 0) throw new InvalidInputError('argument "input" names nothing to change', { field: 'input' });
    const before = await callAccount(ctx, account, 'loadBalancer', () => driver.getBalancer(balancerId), { region: d.region });
    const b = await callAccount(ctx, account, 'updateLoadBalancer', () => driver.updateBalancer(balancerId, patch), { region: d.region, mutates: true });
    return { loadBalancer: (await announce(ctx, d, 'UPDATED', before, b)) ?? scope(b, d.account, d.region) };
  },
});

defineMutation('deleteLoadBalancer', {
  description: 'Deletes a load balancer; loadBalancerChanged subscribers hear DELETED at once.',
  input: (t) => ({ id: t.id({ required: true, description: 'The LoadBalancer id.' }) }),
  payload: deletedPayload,
  resolve: async (input, ctx) => {
    const { d, account, driver, balancerId } = balancerFor(ctx, String(input.id), 'input.id');
    const before = await callAccount(ctx, account, 'loadBalancer', () => driver.getBalancer(balancerId), { region: d.region });
    await callAccount(ctx, account, 'deleteLoadBalancer', () => driver.destroyBalancer(balancerId), { region: d.region, mutates: true });
    await announce(ctx, d, 'DELETED', before);
    return { deletedId: encodeId('LoadBalancer', d.account, d.region, balancerId) };
  },
});

async function attached(ctx: Context, d: DecodedId, m: MemberModel): Promise<MemberPayload> {
  const balancer = await announce(ctx, d, 'UPDATED');
  if (!balancer) throw new NotFoundError(`load balancer ${d.parts[0]} not found in account "${d.account}"`);
  return { member: toMember(m, d.account, d.region, d.parts[0] ?? ''), loadBalancer: balancer };
}

defineMutation('attachMember', {
  description: 'Adds an address and port as a member.',
  input: (t) => ({ loadBalancer: t.id({ required: true }), ip: t.string({ required: true }), port: t.int({ required: true }) }),
  payload: memberPayload,
  resolve: async (input, ctx) => {
    const { d, account, driver, balancerId } = balancerFor(ctx, String(input.loadBalancer), 'input.loadBalancer');
    const member = { ip: input.ip, port: checkPort(input.port, 'input.port') };
    const m = await callAccount(ctx, account, 'attachMember', () => driver.attachMember(balancerId, member), { region: d.region, mutates: true });
    return attached(ctx, d, m);
  },
});

defineMutation('attachNode', {
  description: 'Adds a compute node of the same account as a member, on the given port.',
  input: (t) => ({ loadBalancer: t.id({ required: true }), node: t.id({ required: true }), port: t.int({ required: true }) }),
  payload: memberPayload,
  resolve: async (input, ctx) => {
    const { d, account, driver, balancerId } = balancerFor(ctx, String(input.loadBalancer), 'input.loadBalancer');
    const nd = decodeId(String(input.node), 'Node', 'input.node');
    if (nd.account !== d.account) {
      throw new InvalidInputError(`argument "input.node" belongs to account "${nd.account}", the balancer to "${d.account}"`, { field: 'input.node' });
    }
    const node = await loadNode(ctx, nd);
    if (!node) throw new NotFoundError(`argument "input.node": node ${nd.parts[0]} not found`);
    const port = checkPort(input.port, 'input.port');
    const m = await callAccount(
      ctx,
      account,
      'attachNode',
      async () => {
        if (driver.attachNode) return driver.attachNode(balancerId, node, port);
        const ip = node.publicIps[0] ?? node.privateIps[0];
        if (!ip) throw new InvalidInputError(`argument "input.node": node ${node.id} has no IP address to attach`, { field: 'input.node' });
        return driver.attachMember(balancerId, { ip, port, nodeId: node.id });
      },
      { region: d.region, mutates: true },
    );
    return attached(ctx, d, m);
  },
});

defineMutation('detachMember', {
  description: 'Removes a member from its load balancer.',
  input: (t) => ({ member: t.id({ required: true, description: 'The Member id.' }) }),
  payload: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, BalancerPayload & { detachedMemberId: string }>) => ({
    detachedMemberId: t.id({ resolve: (p) => p.detachedMemberId }),
    loadBalancer: t.field({ type: LoadBalancer, description: 'The balancer with the change applied.', resolve: (p) => p.loadBalancer }),
  }),
  resolve: async (input, ctx) => {
    const md = decodeId(String(input.member), 'Member', 'input.member');
    const [balancerId = '', memberId = ''] = md.parts;
    const d: DecodedId = { type: 'LoadBalancer', account: md.account, region: md.region, parts: [balancerId] };
    const account = ctx.runtime.account(md.account, 'input.member');
    await callAccount(ctx, account, 'detachMember', () => account.loadBalancer(md.region).detachMember(balancerId, memberId), {
      region: md.region,
      mutates: true,
    });
    const balancer = await announce(ctx, d, 'UPDATED');
    if (!balancer) throw new NotFoundError(`load balancer ${balancerId} not found in account "${md.account}"`);
    return { detachedMemberId: String(input.member), loadBalancer: balancer };
  },
});
