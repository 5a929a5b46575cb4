import { builder } from '../builder.ts';
import type { Size as SizeModel } from '../providers/types.ts';
import { callAccount, scope } from '../resolvers/fan-out.ts';
import { defineConnection } from './connection.ts';
import { defineList } from './list.ts';
import { defineResource } from './resource.ts';

export const Size = defineResource<SizeModel>('Size', {
  description: 'A machine size (flavor, instance type) with its price.',
  idParts: (s) => [s.id],
  nativeId: (s) => s.id,
  load: async (ctx, d) => {
    const account = ctx.runtime.account(d.account, 'id');
    const size = await callAccount(ctx, account, 'size', () => ctx.loaders.compute(d.account, d.region).size.load(d.parts[0] ?? ''), { region: d.region });
    return size ? scope(size, d.account, d.region) : null;
  },
  fields: (t) => ({
    name: t.exposeString('name'),
    ram: t.exposeInt('ram', { description: 'Memory in MiB.' }),
    disk: t.exposeInt('disk', { description: 'Disk in GB.' }),
    bandwidth: t.exposeInt('bandwidth', { nullable: true }),
    price: t.exposeFloat('price', { nullable: true, description: 'USD per hour; null when unknown.' }),
  }),
});

const SizeFilter = builder.inputType('SizeFilter', {
  fields: (t) => ({
    accounts: t.idList({ description: 'Only these accounts (all compute accounts when omitted).' }),
    regions: t.stringList({ description: 'Only these regions.' }),
    name: t.string({ description: 'Substring of the name, case-insensitive.' }),
    minRam: t.int({ description: 'At least this much memory (MiB).' }),
    maxPrice: t.float({ description: 'At most this price (USD per hour); sizes without a price are left out.' }),
  }),
});

defineList({
  field: 'sizes',
  description: 'Sizes (flavors, instance types) the compute accounts offer, with prices.',
  service: 'COMPUTE',
  connection: defineConnection('Size', Size),
  filter: SizeFilter,
  fetch: (ctx, account, region) => ctx.loaders.compute(account.config.id, region).sizes(),
  match: (s, f) =>
    (!f.name || s.name.toLowerCase().includes(f.name.toLowerCase())) &&
    (f.minRam == null || s.ram >= f.minRam) &&
    (f.maxPrice == null || (s.price !== null && s.price <= f.maxPrice)),
  identity: (s) => [s.id],
});
