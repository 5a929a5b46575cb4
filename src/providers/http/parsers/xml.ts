/**
 * XML response bodies, with the AWS SDK v3 parser settings: values stay strings, attributes are
 * plain keys, and the caller lists which tags are always arrays (`item`, `member`, `Contents`).
 *
 * Entity expansion is off (`processEntities: false`), so a `<!DOCTYPE>` that declares entities
 * cannot expand anything. The five predefined XML entities and numeric character references
 * are still decoded, by us, in text and attribute values: S3 sends ETags as `&quot;…&quot;` and
 * keys may contain `&amp;`. CDATA sections are returned verbatim.
 *
 * Plain documents (most API answers) are read by xml-scan.ts, which builds the same objects much
 * faster; anything it does not handle, including every invalid document, goes to fast-xml-parser.
 */
import { XMLParser } from 'fast-xml-parser';
import { malformedResponse, type ParseContext } from './context.ts';
import { decodeXmlEntities } from './xml-entities.ts';
import { scanXml, type ArraySpec } from './xml-scan.ts';

export { decodeXmlEntities } from './xml-entities.ts';

const CDATA = '#cdata';
const NO_ARRAYS: readonly string[] = [];
const TEXT = '#text';

export function isXmlResponse(contentType: string | undefined): boolean {
  return /[/+]xml\b/i.test(contentType ?? '');
}

/**
 * Parses XML into plain objects. `arrays` holds tag names (`item`) or dotted paths
 * (`reservationSet.item`, matched against the end of the element's path) that always become
 * arrays, even with one element. Elements with no content are `''`, so an empty list container
 * (`<instancesSet/>`) is `''`: read lists with `xmlList()`. Throws on invalid XML.
 */
export function parseXml(text: string, arrays: readonly string[] = NO_ARRAYS): Record<string, unknown> {
  const scanned = scanXml(text, arraySpec(arrays));
  return scanned !== undefined ? scanned : parseXmlWithParser(text, arrays);
}

/** fast-xml-parser alone: what parseXml falls back to, and the reference xml-scan is tested against. */
export function parseXmlWithParser(text: string, arrays: readonly string[] = NO_ARRAYS): Record<string, unknown> {
  const result = parserFor(arrays, arraySpec(arrays)).parse(text, true) as Record<string, unknown>;
  return text.includes('<![CDATA[') ? (mergeCdata(result) as Record<string, unknown>) : result;
}

/** Parses an XML body; an empty body gives `undefined`. */
export function parseXmlResponse(text: string, ctx: ParseContext & { xmlArrays?: readonly string[] | undefined }): unknown {
  if (text.trim() === '') return undefined;
  try {
    return parseXml(text, ctx.xmlArrays);
  } catch (err) {
    throw malformedResponse(ctx, 'XML', text, err);
  }
}

/** Normalises a parsed list element: missing or empty (`''`) -> `[]`, one element -> `[it]`. */
export function xmlList<T = unknown>(value: unknown): T[] {
  if (value === undefined || value === null || value === '') return [];
  return (Array.isArray(value) ? value : [value]) as T[];
}

// --- Internal helpers ---

const specs = new WeakMap<readonly string[], ArraySpec>();
const parsers = new WeakMap<readonly string[], XMLParser>();

function arraySpec(arrays: readonly string[]): ArraySpec {
  let spec = specs.get(arrays);
  if (!spec) {
    spec = { names: new Set(arrays.filter((a) => !a.includes('.'))), paths: arrays.filter((a) => a.includes('.')) };
    specs.set(arrays, spec);
  }
  return spec;
}

function parserFor(arrays: readonly string[], { names, paths }: ArraySpec): XMLParser {
  let parser = parsers.get(arrays);
  if (parser) return parser;
  parser = new XMLParser({
    processEntities: false,
    htmlEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    trimValues: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    cdataPropName: CDATA,
    // why: with jPath on, the parser builds the path string for every tag, text and attribute
    jPath: false,
    tagValueProcessor: (_tag, value) => decodeXmlEntities(value),
    attributeValueProcessor: (_name, value) => decodeXmlEntities(value),
    isArray: (tag, jPath, _leaf, isAttribute) => {
      if (isAttribute || tag === CDATA) return false;
      if (names.has(tag)) return true;
      if (paths.length === 0) return false;
      const path = String(jPath);
      return paths.some((p) => path === p || path.endsWith(`.${p}`));
    },
  });
  parsers.set(arrays, parser);
  return parser;
}

/** why: CDATA is kept apart by the parser so entity decoding skips it; fold it back into the text */
function mergeCdata(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(mergeCdata);
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (k !== CDATA) out[k] = mergeCdata(v);
  if (!(CDATA in obj)) return out;
  const cdata = ([] as unknown[]).concat(obj[CDATA]).join('');
  const text = typeof out[TEXT] === 'string' ? (out[TEXT] as string) : '';
  out[TEXT] = text + cdata;
  return Object.keys(out).length === 1 ? out[TEXT] : out;
}
