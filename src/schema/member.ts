import type { Member as MemberModel } from '../providers/types.ts';
import { scope, type InAccount } from '../resolvers/fan-out.ts';
import { defineConnection } from './connection.ts';
import { Node } from './node.ts';
import { defineResource } from './resource.ts';

export type MemberShape = InAccount<MemberModel> & { balancerId: string };

export const Member = defineResource<MemberModel & { balancerId: string }>('Member', {
  description: 'A backend of a load balancer: an address and port, and the node behind it when known.',
  idParts: (m) => [m.balancerId, m.id],
  nativeId: (m) => m.id,
  load: async (ctx, d) => {
    const [balancerId = '', memberId = ''] = d.parts;
    const members = await ctx.loaders.loadBalancer(d.account, d.region).members.load(balancerId);
    const m = members.find((x) => x.id === memberId);
    return m ? toMember(m, d.account, d.region, balancerId) : null;
  },
  fields: (t) => ({
    ip: t.exposeString('ip', { nullable: true }),
    port: t.exposeInt('port', { nullable: true }),
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

export const MemberConnection = defineConnection('Member', Member);

export function toMember(m: MemberModel, account: string, region: string | null, balancerId: string): MemberShape {
  return Object.assign(scope(m, account, region), { balancerId });
}
