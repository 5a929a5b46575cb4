import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseXmlWithParser } from '../../src/providers/http/parsers/xml.ts';
import { scanXml } from '../../src/providers/http/parsers/xml-scan.ts';

// xml-scan is the fast path for plain documents; whatever it accepts must give exactly what
// fast-xml-parser gives, and whatever it declines goes to fast-xml-parser.
const ROOT = path.resolve(import.meta.dirname, '../..');

function xmlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return xmlFiles(file);
    return name.endsWith('.xml') ? [file] : [];
  });
}

const EDGE = [
  '<a><b></a>', '<a>x</a><b/>', '<a>x</a>junk', ' <a/>', '\uFEFF<a/>', '<a>\u00a0</a>', '<a><b>\u00a0</b><c>\u00a0x\u00a0</c></a>',
  '<a x="1" y=\'2\'/>', '<a x="1"y="2"/>', '<a x="1" x="2"/>', '<a x = "1"/>', '<a x/>', '<a x="a>b"/>', '<a x=" sp "> t </a>',
  '<a x="1">text</a>', '<a x="1"><b>1</b><b>2</b></a>', '<a>&amp;&lt;&#65;&#x42;&nbsp;&foo;</a>', '<a>a & b</a>', '<a>x > y</a>',
  '<a>\r\n x\r\ny \r</a>', '<a></a >', '<a></ a>', '< a/>', '<a />', '<a\n x="1"\n/>', '<?xml version="1.0"?><a/>',
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<a/>', '<a><!-- c --></a>', '<a><![CDATA[x]]></a>',
  '<ns:a xmlns:ns="u"><ns:b>1</ns:b></ns:a>', '<a><toString>1</toString></a>', '<a><b>1</b>tail</a>', '<a>  <b>1</b>  <b>2</b>  <c/> </a>',
  '<a><b/><b/><b></b></a>', '<item><item>1</item></item>', '<a.b-c_d>1</a.b-c_d>', '<a>1</A>', '',
  '<!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>', '<a xmlns="http://x/"><b x="&quot;q&quot;">&quot;e&quot;</b></a>',
  '<a><b><c>1</c></b><b><c>2</c><c>3</c></b></a>', '<a>\t\n</a>',
];
const ARRAYS = [[], ['item'], ['Contents', 'member'], ['instancesSet.item'], ['a.b', 'c']];

describe('http: xml-scan matches fast-xml-parser', () => {
  const docs: [string, string][] = [
    ...xmlFiles(path.join(ROOT, 'fixtures')).map((f): [string, string] => [path.relative(ROOT, f), readFileSync(f, 'utf8')]),
    ...EDGE.map((e, i): [string, string] => [`edge ${i}: ${JSON.stringify(e).slice(0, 40)}`, e]),
  ];

  it('covers fixtures and edge cases, and takes the fast path for plain API answers', () => {
    expect(docs.length).toBeGreaterThan(EDGE.length + 10);
    const spec = { names: new Set(['item']), paths: [] };
    expect(scanXml('<DescribeInstancesResponse><reservationSet><item><instanceId>i-1</instanceId></item></reservationSet></DescribeInstancesResponse>', spec)).toBeDefined();
  });

  for (const arrays of ARRAYS) {
    it(`gives the same objects with arrays ${JSON.stringify(arrays)}`, () => {
      const spec = { names: new Set(arrays.filter((a) => !a.includes('.'))), paths: arrays.filter((a) => a.includes('.')) };
      let fast = 0;
      for (const [name, text] of docs) {
        const scanned = scanXml(text, spec);
        if (scanned === undefined) continue;
        fast++;
        let reference: unknown;
        try {
          reference = parseXmlWithParser(text, arrays);
        } catch {
          reference = 'THROWS';
        }
        expect(JSON.stringify(scanned), name).toBe(JSON.stringify(reference));
      }
      expect(fast).toBeGreaterThan(5);
    });
  }
});
