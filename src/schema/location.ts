import { builder } from '../builder.ts';
import type { Location as LocationModel } from '../providers/types.ts';
import { callAccount, scope } from '../resolvers/fan-out.ts';
import { defineConnection } from './connection.ts';
import { defineList } from './list.ts';
import { defineResource } from './resource.ts';

export const Location = defineResource<LocationModel>('Location', {
  description: 'Where a node runs: a zone, datacenter or region.',
  idParts: (l) => [l.id],
  nativeId: (l) => l.id,
  load: async (ctx, d) => {
    const account = ctx.runtime.account(d.account, 'id');
    const location = await callAccount(ctx, account, 'location', () => ctx.loaders.compute(d.account, d.region).location.load(d.parts[0] ?? ''), {
      region: d.region,
    });
    return location ? scope(location, d.account, d.region) : null;
  },
  fields: (t) => ({
    name: t.exposeString('name'),
    country: t.exposeString('country', { description: 'ISO 3166 alpha-2 where known.' }),
  }),
});

const LocationFilter = builder.inputType('LocationFilter', {
  fields: (t) => ({
    accounts: t.idList({ description: 'Only these accounts (all compute accounts when omitted).' }),
    regions: t.stringList({ description: 'Only these regions.' }),
    countries: t.stringList({ description: 'Only locations in these countries (ISO 3166 alpha-2).' }),
  }),
});

defineList({
  field: 'locations',
  description: 'Locations (zones, datacenters) of the compute accounts.',
  service: 'COMPUTE',
  connection: defineConnection('Location', Location),
  filter: LocationFilter,
  fetch: (ctx, account, region) => ctx.loaders.compute(account.config.id, region).locations(),
  match: (l, f) => !f.countries || f.countries.includes(l.country),
  identity: (l) => [l.id],
});
