/**
 * DNS: zones and their records, across every account with the DNS service. A Record holds ONE
 * value (an rrset with two addresses is two Records sharing name, type and ttl); names are relative
 * to the zone, '' for the apex (see DnsRecord in src/providers/types.ts).
 */
import type { ObjectRef } from '@pothos/core';
import { builder, type Types } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, encodeId, type DecodedId } from '../ids.ts';
import { InvalidInputError } from '../providers/errors.ts';
import { RECORD_TYPES, ZONE_TYPES, type DnsRecord as RecordModel, type Zone as ZoneModel } from '../providers/types.ts';
import { dnsWith } from '../resolvers/capability.ts';
import { callAccount, pathOf, recordFailure, scope, selectAccounts, type InAccount } from '../resolvers/fan-out.ts';
import { paginate } from '../resolvers/paginate.ts';
import { regionFor } from '../resolvers/refs.ts';
import { Account } from './account.ts';
import { defineConnection, emptyConnection, type ConnectionShape } from './connection.ts';
import { nullIfNotFound } from './container.ts';
import { defineList } from './list.ts';
import { defineMutation, deletedPayload } from './mutation.ts';
import { defineResource } from './resource.ts';
import { JSONScalar } from './scalars.ts';

const upper = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [v.toUpperCase(), { value: v }])) as Record<string, { value: T }>;

const ZoneTypeEnum = builder.enumType('ZoneType', {
  description: 'MASTER zones are served from their records; SLAVE zones are transferred from their masters.',
  values: upper(ZONE_TYPES),
});

const RecordTypeEnum = builder.enumType('RecordType', {
  description: "DNS record types, with Apache Libcloud's names; each account accepts those in Account.dnsRecordTypes.",
  values: RECORD_TYPES,
});

export async function loadZone(ctx: Context, d: DecodedId, argument = 'id'): Promise<InAccount<ZoneModel>> {
  const account = ctx.runtime.account(d.account, argument);
  const zone = await callAccount(ctx, account, 'zone', () => ctx.loaders.dns(d.account, d.region).zone.load(d.parts[0] ?? ''), { region: d.region });
  return scope(zone, d.account, d.region);
}

async function loadRecord(ctx: Context, d: DecodedId): Promise<InAccount<RecordModel> | null> {
  const [zoneId = '', recordId = ''] = d.parts;
  const account = ctx.runtime.account(d.account, 'id');
  const found = await callAccount(ctx, account, 'record', () => ctx.loaders.dns(d.account, d.region).currentRecords(zoneId), { region: d.region });
  const record = found.find((r) => r.id === recordId);
  return record ? scope(record, d.account, d.region) : null;
}

export const Record: ObjectRef<Types, InAccount<RecordModel>> = defineResource<RecordModel>('Record', {
  description: 'One DNS record value: an rrset with several values is several Records sharing name, type and ttl.',
  idParts: (r) => [r.zoneId, r.id],
  nativeId: (r) => r.id,
  load: loadRecord,
  fields: (t) => ({
    name: t.exposeString('name', { description: "Relative to the zone, lower case; '' for the apex." }),
    fqdn: t.string({
      description: 'The fully qualified name, without the trailing dot.',
      resolve: async (r, _args, ctx) => {
        const zone = await loadZone(ctx, { type: 'Zone', account: r.$account, region: r.$region, parts: [r.zoneId] });
        return r.name ? `${r.name}.${zone.domain}` : zone.domain;
      },
    }),
    type: t.field({ type: RecordTypeEnum, resolve: (r) => r.type }),
    data: t.exposeString('data', { description: 'The value without the priority: an address, a host name without the trailing dot, unquoted text, `weight port target` for SRV.' }),
    ttl: t.exposeInt('ttl', { nullable: true, description: 'Seconds; null when the record uses the zone default.' }),
    priority: t.exposeInt('priority', { nullable: true, description: 'MX preference or SRV priority; null for other types.' }),
    zone: t.field({
      type: Zone,
      resolve: (r, _args, ctx) => loadZone(ctx, { type: 'Zone', account: r.$account, region: r.$region, parts: [r.zoneId] }),
    }),
  }),
});

const RecordFilter = builder.inputType('RecordFilter', {
  fields: (t) => ({
    types: t.field({ type: [RecordTypeEnum], description: 'Only records of these types.' }),
    name: t.string({ description: "Only records of this relative name ('' for the apex)." }),
  }),
});

const RecordConnection: ObjectRef<Types, ConnectionShape<InAccount<RecordModel>>> = defineConnection('Record', Record);

export const Zone: ObjectRef<Types, InAccount<ZoneModel>> = defineResource<ZoneModel>('Zone', {
  description: 'A DNS zone (Route 53 hosted zone, PowerDNS zone, DigitalOcean domain, ...).',
  idParts: (z) => [z.id],
  nativeId: (z) => z.id,
  load: loadZone,
  fields: (t) => ({
    domain: t.exposeString('domain', { description: 'Fully qualified, lower case, without the trailing dot.' }),
    type: t.field({ type: ZoneTypeEnum, resolve: (z) => z.type }),
    ttl: t.exposeInt('ttl', { nullable: true, description: 'The default TTL in seconds; null when the provider has none.' }),
    records: t.field({
      type: RecordConnection,
      description: "The zone's records, the provider's own SOA and NS included; a failing provider is listed in `failures`.",
      args: { filter: t.arg({ type: RecordFilter }), first: t.arg.int(), after: t.arg.string(), last: t.arg.int(), before: t.arg.string() },
      resolve: async (z, args, ctx, info) => {
        const account = ctx.runtime.account(z.$account);
        let list: RecordModel[];
        try {
          list = await callAccount(ctx, account, 'records', () => ctx.loaders.dns(z.$account, z.$region).records(z.id), { region: z.$region });
        } catch (err) {
          return emptyConnection<InAccount<RecordModel>>([recordFailure(ctx, account, z.$region, pathOf(info), err)]);
        }
        const f = args.filter;
        const kept = list.filter((r) => (!f?.types || f.types.includes(r.type)) && (f?.name == null || r.name === f.name.toLowerCase()));
        const items = kept.map((r) => scope(r, z.$account, z.$region));
        return { ...paginate(items, { tag: 'records', key: (r) => [r.name, r.type, r.data, r.id] }, args), failures: [] };
      },
    }),
  }),
});

const ZoneFilter = builder.inputType('ZoneFilter', {
  fields: (t) => ({
    accounts: t.idList({ description: 'Only these accounts (all DNS accounts when omitted).' }),
    regions: t.stringList({ description: 'Only these regions.' }),
    types: t.field({ type: [ZoneTypeEnum], description: 'Only zones of these types.' }),
    domain: t.string({ description: 'Substring of the domain, case-insensitive.' }),
  }),
});

defineList({
  field: 'zones',
  description: 'DNS zones across accounts.',
  service: 'DNS',
  connection: defineConnection('Zone', Zone),
  filter: ZoneFilter,
  fetch: (ctx, account, region) => ctx.loaders.dns(account.config.id, region).zones(),
  match: (z, f) => (!f.types || f.types.includes(z.type)) && (!f.domain || z.domain.includes(f.domain.toLowerCase())),
  identity: (z) => [z.domain, z.id],
});

builder.queryFields((t) => ({
  zone: t.field({
    type: Zone,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => nullIfNotFound(loadZone(ctx, decodeId(String(args.id), 'Zone', 'id'))),
  }),
  record: t.field({
    type: Record,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => nullIfNotFound(loadRecord(ctx, decodeId(String(args.id), 'Record', 'id'))),
  }),
}));

builder.objectField(Account, 'dnsRecordTypes', (t) =>
  t.field({
    type: [RecordTypeEnum],
    description: 'The record types the account accepts (empty without the DNS service).',
    resolve: (a) => (a.definition.services.includes('DNS') ? a.dns(a.regions[0] ?? null).listRecordTypes() : []),
  }),
);

const zonePayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, { zone: InAccount<ZoneModel> }>) => ({
  zone: t.field({ type: Zone, resolve: (p) => p.zone }),
});
const recordPayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, { record: InAccount<RecordModel> }>) => ({
  record: t.field({ type: Record, description: 'The record as the provider has it now; rrset providers give a changed record a new id.', resolve: (p) => p.record }),
});

function checkTtl(ttl: number | null | undefined, argument: string): number | undefined {
  if (ttl == null) return undefined;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 2_147_483_647) throw new InvalidInputError(`argument "${argument}" must be a positive number of seconds`, { field: argument });
  return ttl;
}

function checkEx(ex: unknown, argument: string): Record<string, unknown> | undefined {
  if (ex === undefined || ex === null) return undefined;
  if (typeof ex !== 'object' || Array.isArray(ex)) throw new InvalidInputError(`argument "${argument}" must be a JSON object`, { field: argument });
  return ex as Record<string, unknown>;
}

function zoneArg(ctx: Context, id: string, argument: string) {
  const d = decodeId(id, 'Zone', argument);
  return { d, account: ctx.runtime.account(d.account, argument), zoneId: d.parts[0] ?? '' };
}

function recordArg(ctx: Context, id: string, argument: string) {
  const d = decodeId(id, 'Record', argument);
  const [zoneId = '', recordId = ''] = d.parts;
  return { d, account: ctx.runtime.account(d.account, argument), zoneId, recordId };
}

defineMutation('createZone', {
  description: 'Creates a DNS zone.',
  input: (t) => ({
    account: t.id({ required: true }),
    region: t.string({ description: 'Required when the account has several regions.' }),
    domain: t.string({ required: true, description: 'Fully qualified, with or without the trailing dot.' }),
    type: t.field({ type: ZoneTypeEnum, defaultValue: 'master' }),
    ttl: t.int({ description: 'Default TTL in seconds, where the provider lets one set it; the answer shows the TTL in force.' }),
    email: t.string({ description: 'SOA contact, for providers that ask for one (default hostmaster@<domain>).' }),
    masters: t.stringList({ description: 'Master server addresses of a SLAVE zone.' }),
    ex: t.field({ type: JSONScalar, description: 'Provider-only parameters.' }),
  }),
  payload: zonePayload,
  resolve: async (input, ctx) => {
    const [account] = selectAccounts(ctx, [String(input.account)], 'DNS', 'input.account');
    const region = regionFor(account!, input.region, 'input.region');
    if (!input.domain.trim()) throw new InvalidInputError('argument "input.domain" must not be empty', { field: 'input.domain' });
    const request = {
      domain: input.domain,
      type: input.type ?? 'master',
      ttl: checkTtl(input.ttl, 'input.ttl'),
      email: input.email ?? undefined,
      masters: input.masters ?? undefined,
      ex: checkEx(input.ex, 'input.ex'),
    };
    const zone = await callAccount(ctx, account!, 'createZone', () => account!.dns(region).createZone(request), { region, mutates: true });
    return { zone: scope(zone, account!.config.id, region) };
  },
});

defineMutation('updateZone', {
  description: "Changes a zone's default TTL, SOA contact or masters (capability UPDATE_ZONE).",
  input: (t) => ({
    id: t.id({ required: true, description: 'The Zone id.' }),
    ttl: t.int(),
    email: t.string(),
    masters: t.stringList(),
  }),
  payload: zonePayload,
  resolve: async (input, ctx) => {
    const { d, account, zoneId } = zoneArg(ctx, String(input.id), 'input.id');
    const driver = dnsWith(account, d.region, 'updateZone');
    const patch = { ttl: checkTtl(input.ttl, 'input.ttl'), email: input.email ?? undefined, masters: input.masters ?? undefined };
    if (patch.ttl === undefined && patch.email === undefined && patch.masters === undefined) {
      throw new InvalidInputError('argument "input" names nothing to change', { field: 'input' });
    }
    const zone = await callAccount(ctx, account, 'updateZone', () => driver.updateZone(zoneId, patch), { region: d.region, mutates: true });
    return { zone: scope(zone, d.account, d.region) };
  },
});

defineMutation('deleteZone', {
  description: 'Deletes a zone with every record in it.',
  input: (t) => ({ id: t.id({ required: true, description: 'The Zone id.' }) }),
  payload: deletedPayload,
  resolve: async (input, ctx) => {
    const { d, account, zoneId } = zoneArg(ctx, String(input.id), 'input.id');
    await callAccount(ctx, account, 'deleteZone', () => account.dns(d.region).deleteZone(zoneId), { region: d.region, mutates: true });
    return { deletedId: encodeId('Zone', d.account, d.region, zoneId) };
  },
});

defineMutation('createRecord', {
  description: 'Adds one record value to a zone; on rrset providers it joins the rrset of the same name and type.',
  input: (t) => ({
    zone: t.id({ required: true, description: 'The Zone id.' }),
    name: t.string({ required: true, description: "Relative to the zone; '' or '@' for the apex." }),
    type: t.field({ type: RecordTypeEnum, required: true }),
    data: t.string({ required: true, description: 'The value, without the priority (see Record.data).' }),
    ttl: t.int(),
    priority: t.int({ description: 'Required for MX and SRV, refused for other types.' }),
    ex: t.field({ type: JSONScalar, description: 'Provider-only parameters.' }),
  }),
  payload: recordPayload,
  resolve: async (input, ctx) => {
    const { d, account, zoneId } = zoneArg(ctx, String(input.zone), 'input.zone');
    const request = {
      name: input.name,
      type: input.type,
      data: input.data,
      ttl: checkTtl(input.ttl, 'input.ttl'),
      priority: input.priority ?? undefined,
      ex: checkEx(input.ex, 'input.ex'),
    };
    const record = await callAccount(ctx, account, 'createRecord', () => account.dns(d.region).createRecord(zoneId, request), { region: d.region, mutates: true });
    return { record: scope(record, d.account, d.region) };
  },
});

defineMutation('updateRecord', {
  description: 'Changes a record; on rrset providers (Route 53, PowerDNS, Designate) the answer carries a new id.',
  input: (t) => ({
    id: t.id({ required: true, description: 'The Record id.' }),
    name: t.string(),
    type: t.field({ type: RecordTypeEnum }),
    data: t.string(),
    ttl: t.int(),
    priority: t.int(),
  }),
  payload: recordPayload,
  resolve: async (input, ctx) => {
    const { d, account, zoneId, recordId } = recordArg(ctx, String(input.id), 'input.id');
    const patch = {
      name: input.name ?? undefined,
      type: input.type ?? undefined,
      data: input.data ?? undefined,
      ttl: checkTtl(input.ttl, 'input.ttl'),
      priority: input.priority ?? undefined,
    };
    if (Object.values(patch).every((v) => v === undefined)) throw new InvalidInputError('argument "input" names nothing to change', { field: 'input' });
    const record = await callAccount(ctx, account, 'updateRecord', () => account.dns(d.region).updateRecord(zoneId, recordId, patch), {
      region: d.region,
      mutates: true,
    });
    return { record: scope(record, d.account, d.region) };
  },
});

defineMutation('deleteRecord', {
  description: 'Removes one record value; an rrset goes when its last value does.',
  input: (t) => ({ id: t.id({ required: true, description: 'The Record id.' }) }),
  payload: deletedPayload,
  resolve: async (input, ctx) => {
    const { d, account, zoneId, recordId } = recordArg(ctx, String(input.id), 'input.id');
    await callAccount(ctx, account, 'deleteRecord', () => account.dns(d.region).deleteRecord(zoneId, recordId), { region: d.region, mutates: true });
    return { deletedId: encodeId('Record', d.account, d.region, zoneId, recordId) };
  },
});
