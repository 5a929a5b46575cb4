/**
 * A single-pass scanner for the plain XML that cloud APIs send (elements, attributes, text, an
 * XML declaration), building the same objects as fast-xml-parser with the settings in xml.ts.
 *
 * why: fast-xml-parser validates, builds an ordered tree, then converts it, tracking a path
 * matcher throughout; on a 3 MB DescribeInstances page that is ~0.4 s and most of the garbage.
 *
 * It only accepts what it is sure about: anything else (a DOCTYPE, comments, CDATA, processing
 * instructions, mixed content, unusual spacing, odd entity references, names that clash with
 * Object.prototype, malformed XML) returns `undefined`, and the caller parses the text with
 * fast-xml-parser, which then decides, errors included, exactly as before.
 */
import { decodeXmlEntities } from './xml-entities.ts';

/** Which elements always become arrays: by tag name, or by dotted path suffix. */
export interface ArraySpec {
  names: ReadonlySet<string>;
  /** dotted paths (`reservationSet.item`), matched against the end of the element path */
  paths: readonly string[];
}

interface Frame {
  name: string;
  attrs: Record<string, string> | undefined;
  /** child elements, once there is one */
  children: Record<string, unknown> | undefined;
  /** trimmed, not yet decoded text, once there is some */
  text: string | undefined;
}

/** why: fast-xml-parser refuses documents nested deeper than 100 (maxNestedTags); leave those to it */
const MAX_DEPTH = 100;
const DECLARATION = /^<\?xml(?:[ \t\n]+[A-Za-z]+="[^"<>&]*")*[ \t\n]*\?>/;
/** the references fast-xml-parser's validator accepts, narrowed (named ones: 1-20 word characters) */
const REFERENCE = /&(?:[A-Za-z0-9_]{1,20}|#[0-9]+|#x[0-9a-fA-F]+);/g;

/** Parses `xml`, or returns `undefined` when it is outside the subset this scanner handles. */
export function scanXml(xml: string, arrays: ArraySpec): Record<string, unknown> | undefined {
  // why: fast-xml-parser normalises line ends before parsing; values must match
  const s = xml.includes('\r') ? xml.replace(/\r\n?/g, '\n') : xml;
  const n = s.length;
  let i = 0;
  if (s.startsWith('<?xml')) {
    const decl = DECLARATION.exec(s.slice(0, Math.min(n, 512)));
    if (!decl) return undefined;
    i = decl[0].length;
  }
  const top: Record<string, unknown> = {};
  let roots = 0;
  const stack: Frame[] = [];
  let current: Frame | undefined;

  for (;;) {
    const lt = s.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      if (isXmlSpace(s, i, textEnd)) {
        // why: the indentation between tags is most of the text; skip it without slicing
      } else if (current === undefined) {
        return undefined;
      } else {
        const raw = s.slice(i, textEnd);
        const trimmed = raw.trim();
        if (trimmed.length > 0) {
          if (current.children !== undefined || current.text !== undefined) return undefined;
          if (trimmed.includes('&') && !referencesValid(trimmed)) return undefined;
          current.text = detach(trimmed);
        }
      }
    }
    if (lt < 0) break;
    const c = s.charCodeAt(lt + 1);
    if (c === 47 /* / */) {
      if (current === undefined) return undefined;
      const name = current.name;
      const close = lt + 2 + name.length;
      if (!s.startsWith(name, lt + 2) || s.charCodeAt(close) !== 62 /* > */) return undefined;
      const value = finish(current);
      stack.pop();
      const parent = stack.length > 0 ? stack[stack.length - 1] : undefined;
      if (!addChild(parent, top, name, value, stack, arrays)) return undefined;
      current = parent;
      i = close + 1;
      continue;
    }
    if (!isNameStart(c)) return undefined;
    let j = lt + 2;
    while (j < n && isNameChar(s.charCodeAt(j))) j++;
    const name = s.slice(lt + 1, j);
    if (unsafeName(name)) return undefined;
    if (current === undefined ? roots > 0 : current.text !== undefined) return undefined;
    if (stack.length >= MAX_DEPTH) return undefined;

    let attrs: Record<string, string> | undefined;
    let selfClosing = false;
    for (;;) {
      const before = j;
      while (j < n && isSpace(s.charCodeAt(j))) j++;
      const ch = s.charCodeAt(j);
      if (ch === 62 /* > */) {
        j++;
        break;
      }
      if (ch === 47 /* / */ && s.charCodeAt(j + 1) === 62) {
        selfClosing = true;
        j += 2;
        break;
      }
      if (j === before || !isNameStart(ch)) return undefined;
      const nameStart = j;
      while (j < n && isNameChar(s.charCodeAt(j))) j++;
      const attr = s.slice(nameStart, j);
      if (unsafeName(attr) || s.charCodeAt(j) !== 61 /* = */) return undefined;
      const quote = s.charCodeAt(j + 1);
      if (quote !== 34 /* " */ && quote !== 39 /* ' */) return undefined;
      const end = s.indexOf(quote === 34 ? '"' : "'", j + 2);
      if (end < 0) return undefined;
      const raw = s.slice(j + 2, end);
      if (raw.includes('<')) return undefined;
      const value = raw.trim();
      if (value.includes('&') && !referencesValid(value)) return undefined;
      attrs ??= {};
      if (attrs[attr] !== undefined) return undefined;
      attrs[attr] = detach(decodeXmlEntities(value));
      j = end + 1;
    }

    if (current === undefined) roots++;
    const frame: Frame = { name, attrs, children: undefined, text: undefined };
    if (selfClosing) {
      if (!addChild(current, top, name, finish(frame), stack, arrays)) return undefined;
    } else {
      stack.push(frame);
      current = frame;
    }
    i = j;
  }
  return current === undefined && roots === 1 ? top : undefined;
}

// --- Internal helpers ---

/** The element's value as fast-xml-parser builds it: text, '' when empty, or an object. */
function finish(frame: Frame): unknown {
  const { attrs } = frame;
  let value: Record<string, unknown>;
  if (frame.children !== undefined) value = frame.children;
  else if (frame.text !== undefined) {
    const text = decodeXmlEntities(frame.text);
    if (attrs === undefined) return text;
    value = { '#text': text };
  } else {
    if (attrs === undefined) return '';
    value = {};
  }
  if (attrs !== undefined) for (const key in attrs) value[key] = attrs[key];
  return value;
}

function addChild(parent: Frame | undefined, top: Record<string, unknown>, name: string, value: unknown, stack: readonly Frame[], arrays: ArraySpec): boolean {
  let target: Record<string, unknown>;
  if (parent === undefined) target = top;
  else {
    if (parent.text !== undefined) return false;
    target = parent.children ??= {};
  }
  const existing = target[name];
  if (existing === undefined) target[name] = isArray(name, stack, arrays) ? [value] : value;
  else if (Array.isArray(existing)) existing.push(value);
  else target[name] = [existing, value];
  return true;
}

function isArray(name: string, stack: readonly Frame[], arrays: ArraySpec): boolean {
  if (arrays.names.has(name)) return true;
  if (arrays.paths.length === 0) return false;
  let path = '';
  for (const frame of stack) path += `${frame.name}.`;
  path += name;
  return arrays.paths.some((p) => path === p || path.endsWith(`.${p}`));
}

/**
 * why: V8 makes a slice of 13+ characters a view into the parent string, so one kept instance id
 * would keep its whole multi-megabyte response body alive; the concatenation is flattened into a
 * small string of its own before slicing.
 */
function detach(value: string): string {
  return value.length < 13 ? value : ` ${value}`.slice(1);
}

/** why: fast-xml-parser renames or refuses these (prototype pollution guards), and `obj[name]` would find them */
const UNSAFE_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

function unsafeName(name: string): boolean {
  return UNSAFE_NAMES.has(name);
}

function referencesValid(value: string): boolean {
  let count = 0;
  for (let at = value.indexOf('&'); at >= 0; at = value.indexOf('&', at + 1)) count++;
  return (value.match(REFERENCE)?.length ?? 0) === count;
}

/** XML's own whitespace (what the validator allows outside the root element) */
function isXmlSpace(s: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (!isSpace(s.charCodeAt(k))) return false;
  return true;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9;
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 /* _ */;
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45 /* - */ || c === 46 /* . */ || c === 58 /* : */;
}
