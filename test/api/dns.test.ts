/** DNS through the HTTP API: zones and records across the sandbox and a real PowerDNS, and their mutations. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { queryAnswerCount, startPdns, type PdnsHandle } from '../helpers/pdns.ts';

type ZoneNode = { id: string; nativeId: string; domain: string; type: string; ttl: number | null; account: { id: string; provider: string } };
type RecordNode = { id: string; name: string; fqdn: string; type: string; data: string; ttl: number | null; priority: number | null; zone: { domain: string } };

let pdns: PdnsHandle;
let t: TestApp;
beforeAll(async () => {
  pdns = await startPdns();
  t = await startTestApp({
    accounts: [
      { id: 'sandbox', driver: 'sandbox' },
      { id: 'pdns', driver: 'powerdns', endpoint: pdns.url, credentials: { apiKey: pdns.apiKey } },
      { id: 'broken', driver: 'sandbox', options: { fail: 'UNAVAILABLE' } },
    ],
  });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await pdns?.stop();
});

const ZONE = 'id nativeId domain type ttl account { id provider }';
const RECORD = 'id name fqdn type data ttl priority zone { domain }';

describe('api: DNS', () => {
  it('creates a zone on PowerDNS, adds, changes and deletes records, and PowerDNS serves them', async () => {
    const created = await t.gql<{ createZone: { zone: ZoneNode } }>(`mutation { createZone(input: { account: "pdns", domain: "api-test.example.", ttl: 600 }) { zone { ${ZONE} } } }`);
    expect(created.errors).toBeUndefined();
    const zone = created.data!.createZone.zone;
    expect(zone).toMatchObject({ domain: 'api-test.example', type: 'MASTER', account: { id: 'pdns', provider: 'PowerDNS Authoritative' } });

    const add = (name: string, type: string, data: string, extra = '') =>
      t.gql<{ createRecord: { record: RecordNode } }>(`mutation($z: ID!) { createRecord(input: { zone: $z, name: "${name}", type: ${type}, data: "${data}"${extra} }) { record { ${RECORD} } } }`, {
        z: zone.id,
      });
    const www1 = await add('www', 'A', '192.0.2.10', ', ttl: 300');
    expect(www1.errors).toBeUndefined();
    expect(www1.data!.createRecord.record).toMatchObject({ name: 'www', fqdn: 'www.api-test.example', type: 'A', data: '192.0.2.10', ttl: 300, zone: { domain: 'api-test.example' } });
    await add('www', 'A', '192.0.2.11');
    const mx = await add('', 'MX', 'mail.api-test.example', ', priority: 10');
    expect(mx.data!.createRecord.record).toMatchObject({ name: '', fqdn: 'api-test.example', priority: 10 });
    const noPriority = await add('', 'MX', 'mail2.api-test.example');
    expect(noPriority.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT' });
    expect(await queryAnswerCount(pdns.dnsPort, 'www.api-test.example', 1)).toBe(2);

    const records = await t.gql<{ zone: { records: { totalCount: number; nodes: RecordNode[] } } }>(
      `query($z: ID!) { zone(id: $z) { records(filter: { types: [A] }) { totalCount nodes { ${RECORD} } } } }`,
      { z: zone.id },
    );
    expect(records.data!.zone.records.nodes.map((r) => r.data).sort()).toEqual(['192.0.2.10', '192.0.2.11']);

    const updated = await t.gql<{ updateRecord: { record: RecordNode } }>(`mutation($id: ID!) { updateRecord(input: { id: $id, data: "192.0.2.12" }) { record { ${RECORD} } } }`, {
      id: www1.data!.createRecord.record.id,
    });
    expect(updated.errors).toBeUndefined();
    const moved = updated.data!.updateRecord.record;
    // why: PowerDNS keys records by name, type and value, so the changed record has a new id
    expect(moved).toMatchObject({ data: '192.0.2.12' });
    expect(moved.id).not.toBe(www1.data!.createRecord.record.id);
    const byId = await t.gql<{ record: RecordNode; resource: { __typename: string; account: { id: string } } }>(
      `query($id: ID!) { record(id: $id) { ${RECORD} } resource(id: $id) { __typename account { id } } }`,
      { id: moved.id },
    );
    expect(byId.data!.record.data).toBe('192.0.2.12');
    expect(byId.data!.resource).toEqual({ __typename: 'Record', account: { id: 'pdns' } });

    const deleted = await t.gql<{ deleteRecord: { deletedId: string } }>('mutation($id: ID!) { deleteRecord(input: { id: $id }) { deletedId } }', { id: moved.id });
    expect(deleted.data!.deleteRecord.deletedId).toBe(moved.id);
    expect(await queryAnswerCount(pdns.dnsPort, 'www.api-test.example', 1)).toBe(1);

    const ttl = await t.gql<{ updateZone: { zone: ZoneNode } }>('mutation($id: ID!) { updateZone(input: { id: $id, ttl: 900 }) { zone { ttl } } }', { id: zone.id });
    expect(ttl.errors).toBeUndefined();
    const gone = await t.gql<{ deleteZone: { deletedId: string } }>('mutation($id: ID!) { deleteZone(input: { id: $id }) { deletedId } }', { id: zone.id });
    expect(gone.data!.deleteZone.deletedId).toBe(zone.id);
    expect((await t.gql<{ zone: null }>('query($id: ID!) { zone(id: $id) { id } }', { id: zone.id })).data!.zone).toBeNull();
  });

  it('lists zones across accounts with the failing one in failures, filters them, and lists the same through Account', async () => {
    const r = await t.gql<{ zones: { totalCount: number; nodes: ZoneNode[]; failures: { account: string; code: string }[] }; account: { zones: { nodes: ZoneNode[] }; dnsRecordTypes: string[]; capabilities: string[] } }>(
      `{ zones { totalCount nodes { ${ZONE} } failures { account code } } account(id: "sandbox") { zones { nodes { ${ZONE} } } dnsRecordTypes capabilities } }`,
    );
    expect(r.data!.zones.failures).toEqual([{ account: 'broken', code: 'UNAVAILABLE' }]);
    expect(r.errors).toEqual([expect.objectContaining({ path: ['zones'], extensions: expect.objectContaining({ code: 'UNAVAILABLE', account: 'broken' }) })]);
    expect(r.data!.zones.nodes.filter((z) => z.account.id === 'sandbox').map((z) => z.domain)).toEqual(['example.com', 'example.net']);
    expect(r.data!.account.zones.nodes).toEqual(r.data!.zones.nodes.filter((z) => z.account.id === 'sandbox'));
    expect(r.data!.account.dnsRecordTypes).toEqual(expect.arrayContaining(['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV']));
    expect(r.data!.account.capabilities).toEqual(expect.arrayContaining(['ZONES', 'CREATE_ZONE', 'UPDATE_ZONE', 'DELETE_ZONE', 'CREATE_RECORD', 'UPDATE_RECORD', 'DELETE_RECORD']));

    const slaves = await t.gql<{ zones: { nodes: ZoneNode[] } }>('{ zones(filter: { accounts: ["sandbox"], types: [SLAVE] }) { nodes { domain type } } }');
    expect(slaves.data!.zones.nodes).toEqual([{ domain: 'example.net', type: 'SLAVE' }]);
    const byDomain = await t.gql<{ zones: { nodes: ZoneNode[] } }>('{ zones(filter: { accounts: ["sandbox"], domain: ".COM" }) { nodes { domain } } }');
    expect(byDomain.data!.zones.nodes).toEqual([{ domain: 'example.com' }]);
  });

  it('lists a zone\'s records in one upstream call however many fields ask, and names bad arguments', async () => {
    const zones = await t.gql<{ zones: { nodes: { id: string; domain: string }[] } }>('{ zones(filter: { accounts: ["sandbox"] }) { nodes { id domain } } }');
    const com = zones.data!.zones.nodes.find((z) => z.domain === 'example.com')!;
    const before = t.calls('sandbox', 'listRecords');
    const r = await t.gql<{ zone: { a: { nodes: RecordNode[] }; b: { totalCount: number }; mx: { nodes: RecordNode[] } } }>(
      `query($z: ID!) { zone(id: $z) { a: records(filter: { name: "www" }) { nodes { ${RECORD} } } b: records { totalCount } mx: records(filter: { types: [MX] }) { nodes { data priority } } } }`,
      { z: com.id },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.zone.a.nodes.map((n) => `${n.type} ${n.data}`).sort()).toEqual(['A 203.0.113.1', 'A 203.0.113.2', 'AAAA 2001:db8::10']);
    expect(r.data!.zone.mx.nodes).toEqual([
      { data: 'mail.example.com', priority: 10 },
      { data: 'mail2.example.com', priority: 20 },
    ]);
    expect(t.calls('sandbox', 'listRecords') - before).toBeLessThanOrEqual(1);

    const bad = await t.gql('mutation($z: ID!) { createRecord(input: { zone: $z, name: "x", type: A, data: "1.2.3.4", ttl: -5 }) { record { id } } }', { z: com.id });
    expect(bad.errors?.[0]).toMatchObject({ message: 'argument "input.ttl" must be a positive number of seconds', extensions: { code: 'INVALID_INPUT', argument: 'input.ttl' } });
    const wrongId = await t.gql('mutation($z: ID!) { deleteZone(input: { id: $z }) { deletedId } }', { z: r.data!.zone.a.nodes[0]!.id });
    expect(wrongId.errors?.[0]?.message).toMatch(/argument "input.id" is a Record id, expected Zone/);
    const nothing = await t.gql('mutation($z: ID!) { updateZone(input: { id: $z }) { zone { id } } }', { z: com.id });
    expect(nothing.errors?.[0]?.message).toBe('argument "input" names nothing to change');
  });
});
