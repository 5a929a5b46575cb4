import { afterEach, describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../src/providers/errors.ts';
import { createConnection } from '../../src/providers/http/connection.ts';
import { isJsonResponse, parseJsonResponse } from '../../src/providers/http/parsers/json.ts';
import { InvalidInputError } from '../../src/providers/errors.ts';
import { formatKv, isKvResponse, parseKvPairs, parseKvRecords, parseKvRecordsResponse, parseKvResponse } from '../../src/providers/http/parsers/kv.ts';
import { decodeXmlEntities, isXmlResponse, parseXml, xmlList } from '../../src/providers/http/parsers/xml.ts';
import { startReplayServer } from '../helpers/replay-server.ts';

const ctx = { provider: 'p', operation: 'Op', status: 200 };

/** Walks parsed output without `any`: get(doc, 'a', 'b', 0). */
function get(value: unknown, ...keys: (string | number)[]): unknown {
  return keys.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);
}
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const EC2 = (items: string) => `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>8f7724cf-496f-496e-8fe3-example</requestId>
  <reservationSet>
    <item>
      <reservationId>r-1</reservationId>
      <instancesSet>${items}</instancesSet>
      <groupSet/>
    </item>
  </reservationSet>
</DescribeInstancesResponse>`;
const instance = (id: string) => `<item><instanceId>${id}</instanceId><instanceState><code>16</code><name>running</name></instanceState><amiLaunchIndex>0</amiLaunchIndex><ebsOptimized>false</ebsOptimized></item>`;

describe('http parsers: xml', () => {
  it('keeps listed tags as arrays for one and many elements, values as strings', () => {
    const one = parseXml(EC2(instance('i-1')), ['item']);
    const reservation = get(one, 'DescribeInstancesResponse', 'reservationSet', 'item');
    expect(reservation).toHaveLength(1);
    expect(get(reservation, 0, 'instancesSet', 'item')).toEqual([
      { instanceId: 'i-1', instanceState: { code: '16', name: 'running' }, amiLaunchIndex: '0', ebsOptimized: 'false' },
    ]);
    const many = parseXml(EC2(instance('i-1') + instance('i-2')), ['item']);
    const items = get(many, 'DescribeInstancesResponse', 'reservationSet', 'item', 0, 'instancesSet', 'item') as unknown[];
    expect(items.map((i) => get(i, 'instanceId'))).toEqual(['i-1', 'i-2']);
    // without the list a single element is an object
    const bare = parseXml(EC2(instance('i-1')));
    expect(get(bare, 'DescribeInstancesResponse', 'reservationSet', 'item', 'instancesSet', 'item', 'instanceId')).toBe('i-1');
  });

  it('matches dotted paths against the end of the element path', () => {
    const doc = parseXml(EC2(instance('i-1')), ['instancesSet.item']);
    const reservation = get(doc, 'DescribeInstancesResponse', 'reservationSet', 'item');
    expect(Array.isArray(reservation)).toBe(false);
    expect(get(reservation, 'instancesSet', 'item')).toHaveLength(1);
  });

  it('empty tags are empty strings; xmlList normalises lists', () => {
    const doc = parseXml(EC2(''), ['item']);
    const r = get(doc, 'DescribeInstancesResponse', 'reservationSet', 'item', 0);
    expect(get(r, 'instancesSet')).toBe('');
    expect(get(r, 'groupSet')).toBe('');
    expect(xmlList(get(r, 'instancesSet'))).toEqual([]);
    expect(xmlList(undefined)).toEqual([]);
    expect(xmlList({ a: 1 })).toEqual([{ a: 1 }]);
    expect(xmlList([1, 2])).toEqual([1, 2]);
  });

  it('attributes become plain keys next to #text', () => {
    const doc = parseXml('<Blob><Name>a</Name><Properties><Content-Length>12</Content-Length></Properties><Metadata Key="color">blue</Metadata></Blob>');
    expect(get(doc, 'Blob', 'Metadata')).toEqual({ '#text': 'blue', Key: 'color' });
    expect(get(doc, 'Blob', 'Properties', 'Content-Length')).toBe('12');
  });

  it('decodes predefined and numeric entities, keeps CDATA verbatim', () => {
    const doc = parseXml('<r a="x &amp; y"><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Key>a&amp;b &lt;c&gt; &#x41;&#66; &apos;</Key><c><![CDATA[&amp; <raw>]]></c><u>&nbsp;&#xD800;</u></r>');
    expect(doc.r).toEqual({ ETag: '"9b2cf535f27731c974343645a3985328"', Key: "a&b <c> AB '", a: 'x & y', c: '&amp; <raw>', u: '&nbsp;&#xD800;' });
    expect(decodeXmlEntities('&amp;amp;')).toBe('&amp;');
  });

  it('does not expand entities declared in a DOCTYPE (internal, nested)', () => {
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE r [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<r a="&lol;"><b>&lol2;</b><c>&lol;</c></r>`;
    const doc = parseXml(bomb);
    expect(doc.r).toEqual({ a: '&lol;', b: '&lol2;', c: '&lol;' });
  });

  it('refuses external entities outright; through a connection that is a MalformedResponseError', async () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]><r><a>&secret;</a></r>';
    expect(() => parseXml(xxe)).toThrow(/External entities/);
    const server = await startReplayServer([{ method: 'GET', path: '/x', headers: { 'content-type': 'application/xml' }, body: xxe }]);
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 'p', baseUrl: server.url });
    cleanup.push(() => conn.close());
    const err = await conn.request({ operation: 'Op', path: 'x', responseType: 'xml' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect((err as Error).message).not.toContain('root:');
  });

  it('invalid XML throws; through a connection it is a MalformedResponseError', async () => {
    expect(() => parseXml('<a><b></a>')).toThrow();
    const server = await startReplayServer([{ method: 'GET', path: '/x', headers: { 'content-type': 'application/xml' }, body: '<ListBucketResult><Contents>' }]);
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 's3', baseUrl: server.url });
    cleanup.push(() => conn.close());
    const err = await conn.request({ operation: 'ListObjectsV2', path: 'x', responseType: 'xml' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect((err as Error).message).toContain('[s3] ListObjectsV2 200: response is not valid XML; body starts with "<ListBucketResult><Contents>"');
  });

  it('parses through a connection with xmlArrays', async () => {
    const body = `<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated><Contents><Key>k1</Key><Size>3</Size></Contents></ListBucketResult>`;
    const server = await startReplayServer([{ method: 'GET', path: '/b', headers: { 'content-type': 'application/xml' }, body }]);
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 's3', baseUrl: server.url });
    cleanup.push(() => conn.close());
    const res = await conn.request<{ ListBucketResult: { Contents: unknown[] } }>({ operation: 'ListObjectsV2', path: 'b', query: { 'list-type': 2 }, responseType: 'xml', xmlArrays: ['Contents'] });
    expect(res.body.ListBucketResult.Contents).toEqual([{ Key: 'k1', Size: '3' }]);
    expect(server.requests[0]?.query.get('list-type')).toBe('2');
  });

  it('content-type matchers', () => {
    expect(isXmlResponse('application/xml')).toBe(true);
    expect(isXmlResponse('text/xml; charset=utf-8')).toBe(true);
    expect(isXmlResponse('application/atom+xml')).toBe(true);
    expect(isXmlResponse('application/json')).toBe(false);
    expect(isJsonResponse('application/json; charset=utf-8')).toBe(true);
    expect(isJsonResponse('application/x-amz-json-1.1')).toBe(false);
    expect(isJsonResponse('application/vnd.api+json')).toBe(true);
    expect(isKvResponse('text/plain; charset=utf-8')).toBe(true);
    expect(isKvResponse(undefined)).toBe(false);
  });
});

describe('http parsers: json', () => {
  it('parses, gives undefined for an empty body, and maps bad JSON', () => {
    expect(parseJsonResponse('{"servers":[{"id":"a"}]}', ctx)).toEqual({ servers: [{ id: 'a' }] });
    expect(parseJsonResponse('  \n', ctx)).toBeUndefined();
    expect(() => parseJsonResponse('{"a":', ctx)).toThrow(MalformedResponseError);
  });
});

describe('http parsers: kv', () => {
  it('accepts key=value, "Key: value" and "key value" lines', () => {
    expect(parseKvResponse('a=1\nb=2', ctx)).toEqual({ a: '1', b: '2' });
    const text = ['Content-Type: text/plain', 'X-Empty:', 'url=http://x/a b', 'Token: a=b', 'read:bytes 4096', 'spaced = yes', 'flag', '# comment', 'description This is = a sentence'].join('\r\n');
    expect(parseKvResponse(text, ctx)).toEqual({
      'Content-Type': 'text/plain',
      'X-Empty': '',
      url: 'http://x/a b',
      Token: 'a=b',
      'read:bytes': '4096',
      spaced: 'yes',
      flag: '',
      description: 'This is = a sentence',
    });
  });

  it('keeps duplicates and records when asked; the object form keeps the last value', () => {
    const text = 'ip 1.2.3.4\nip 1.2.3.5\n\nname second\nip 9.9.9.9\n';
    expect(parseKvPairs(text)).toEqual([['ip', '1.2.3.4'], ['ip', '1.2.3.5'], ['name', 'second'], ['ip', '9.9.9.9']]);
    expect(parseKvRecords(text)).toEqual([[['ip', '1.2.3.4'], ['ip', '1.2.3.5']], [['name', 'second'], ['ip', '9.9.9.9']]]);
    expect(parseKvResponse(text, ctx)).toEqual({ ip: '9.9.9.9', name: 'second' });
    expect(parseKvResponse('', ctx)).toEqual({});
  });

  it('a line with an empty key is malformed', () => {
    expect(() => parseKvResponse('a=1\n=2', ctx)).toThrow(MalformedResponseError);
    expect(() => parseKvResponse(': x', ctx)).toThrow(/line 1 has an empty key|not valid key\/value/);
  });

  it('the space dialect splits at the first whitespace only and keeps = and : in values', () => {
    const text = 'name =odd: name\ndescription Note: a = b\nide:0:0:read:bytes 165395968\nnic:0:block tcp/22 tcp/23\nvnc:ip\n\n\n\nserver s2\r\n';
    expect(parseKvRecords(text, { separator: 'space' })).toEqual([
      [['name', '=odd: name'], ['description', 'Note: a = b'], ['ide:0:0:read:bytes', '165395968'], ['nic:0:block', 'tcp/22 tcp/23'], ['vnc:ip', '']],
      [['server', 's2']],
    ]);
    // the lenient dialect reads the same first line differently
    expect(parseKvPairs('name =odd', {})).toEqual([['name', 'odd']]);
  });

  it('the space dialect refuses lines that do not start with a key (HTML, JSON, comments)', () => {
    for (const body of ['<html><body>Bad gateway</body></html>', '{"status": "active"}', 'status active\n# note', 'status active\n: x']) {
      expect(() => parseKvRecordsResponse(body, ctx, { separator: 'space' })).toThrow(MalformedResponseError);
    }
    let caught: unknown;
    try {
      parseKvRecordsResponse('status active\n<p>', ctx, { separator: 'space' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MalformedResponseError);
    expect((caught as Error).message).toMatch(/not valid key\/value text; body starts with "status active <p>"/);
    expect(((caught as Error).cause as Error).message).toBe('line 2 does not start with a key');
  });

  it('formatKv writes space-dialect records and refuses values that would add lines', () => {
    expect(formatKv([['name', 'web 1'], ['persistent', 'true'], ['vnc:ip', '']])).toBe('name web 1\npersistent true\nvnc:ip\n');
    expect(formatKv([[['a', '1']], [['b', '2']]])).toBe('a 1\n\nb 2\n');
    expect(parseKvRecords(formatKv([[['name', '=x: y']], [['b', '2']]]), { separator: 'space' })).toEqual([[['name', '=x: y']], [['b', '2']]]);
    expect(() => formatKv([['name', 'web\nvnc:password x']])).toThrow(InvalidInputError);
    expect(() => formatKv([['bad key', 'x']])).toThrow(InvalidInputError);
    expect(() => formatKv([['', 'x']])).toThrow(InvalidInputError);
  });

  it('parses through a connection', async () => {
    const server = await startReplayServer([{ method: 'GET', path: '/servers/s1/info', headers: { 'content-type': 'text/plain' }, body: 'server s1\nstatus active\nmem 640\n' }]);
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 'cs', baseUrl: server.url });
    cleanup.push(() => conn.close());
    const res = await conn.request({ operation: 'ServerInfo', path: 'servers/s1/info', responseType: 'kv' });
    expect(res.body).toEqual({ server: 's1', status: 'active', mem: '640' });
  });

  it('kv-records through a connection, with the separator the request names', async () => {
    const body = 'server s1\nname =a\n\nserver s2\nname b c\n';
    const server = await startReplayServer([{ method: 'GET', path: '/servers/info', headers: { 'content-type': 'text/plain' }, body }]);
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 'cs', baseUrl: server.url });
    cleanup.push(() => conn.close());
    const res = await conn.request({ operation: 'ServersInfo', path: 'servers/info', responseType: 'kv-records', kvSeparator: 'space' });
    expect(res.body).toEqual([[['server', 's1'], ['name', '=a']], [['server', 's2'], ['name', 'b c']]]);
  });
});
