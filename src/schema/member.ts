import { builder } from '../builder.ts';
import { encodeId } from '../ids.ts';
import type { Member as MemberModel } from '../providers/types.ts';
import { scope, type InAccount } from '../resolvers/fan-out.ts';
import { Resource } from './resource.ts';
import { JSONScalar } from './scalars.ts';
import { Node } from './node.ts';

export type MemberShape = InAccount<MemberModel> & { balancerId: string };

export const Member = builder.objectRef<MemberShape>('Member').implement({
  description: 'A backend of a load balancer: an address and port, and the node behind it when known.',
  interfaces: [Resource],
  fields: (t) => ({
    id: t.id({ resolve: (m) => encodeId('Member', m.$account, m.$region, m.balancerId, m.id) }),
    nativeId: t.exposeString('id'),
    ip: t.exposeString('ip', { nullable: true }),
    port: t.exposeInt('port', { nullable: true }),
    extra: t.field({ type: JSONScalar, resolve: (m) => m.extra }),
    node: t.field({
      type: Node,
      nullable: true,
      description: 'The compute node behind this member, when it is in the same account.',
      resolve: async (m, _args, ctx) => {
        if (!m.nodeId) return null;
        const account = ctx.runtime.accounts.get(m.$account);
        if (!account?.definition.services.includes('COMPUTE')) return null;
        const n = await ctx.loaders.compute(m.$account, m.$region).node.load(m.nodeId);
        return n ? scope(n, m.$account, m.$region) : null;
      },
    }),
  }),
});

export function toMember(m: MemberModel, account: string, region: string | null, balancerId: string): MemberShape {
  return Object.assign(scope(m, account, region), { balancerId });
}
