/**
 * Plain-text key/value bodies (CloudSigma 1.0, some legacy APIs, `info` endpoints).
 *
 * Accepted forms, one pair per line (`\n` or `\r\n`), in the default `any` dialect:
 * - `key=value`          (`key = value` too)
 * - `Key: value`         (a colon followed by whitespace or the end of the line)
 * - `key value`          (first whitespace run; so `read:bytes 4096` has key `read:bytes`)
 * - `key`                (no separator: empty value)
 * The earliest separator on the line wins, so `url=http://x/a b` is `url` -> `http://x/a b` and
 * `Token: a=b` is `Token` -> `a=b`. Keys and values are trimmed; values are otherwise verbatim (no
 * unquoting, `\n` escapes stay as written). Blank lines separate records; lines starting with
 * `#` are comments. A line whose key would be empty (`=x`, `: x`) makes the body malformed.
 *
 * The `space` dialect is the strict `key value` form of APIs whose keys never hold `=` (CloudSigma
 * 1.0): only the first whitespace run separates, so a value may start with `=` or `: ` and keep
 * it; a key is letters, digits and `_ : . - /` (starting with a letter or digit), and any other
 * line (an HTML or JSON body, a `#` line) makes the body malformed. `formatKv` writes that form.
 */
import { InvalidInputError } from '../../errors.ts';
import { malformedResponse, type ParseContext } from './context.ts';

export type KvPairs = [key: string, value: string][];

/** How a line splits into key and value (see the file comment). */
export type KvSeparator = 'any' | 'space';

export interface KvOptions {
  /** default 'any' */
  separator?: KvSeparator | undefined;
}

const SPACE_KEY = /^[A-Za-z0-9][\w:./-]*$/;

export function isKvResponse(contentType: string | undefined): boolean {
  return /^text\/plain\b/i.test(contentType ?? '');
}

/** The body as one object; a repeated key keeps its last value (use parseKvPairs to keep all). */
export function parseKvResponse(text: string, ctx: ParseContext, opts: KvOptions = {}): Record<string, string> {
  try {
    return Object.fromEntries(parseKvPairs(text, opts));
  } catch (err) {
    throw malformedResponse(ctx, 'key/value text', text, err);
  }
}

/** The body as its blank-line-separated records, pairs in order and duplicates kept. */
export function parseKvRecordsResponse(text: string, ctx: ParseContext, opts: KvOptions = {}): KvPairs[] {
  try {
    return parseKvRecords(text, opts);
  } catch (err) {
    throw malformedResponse(ctx, 'key/value text', text, err);
  }
}

/** Every pair in order, duplicates kept; blank lines ignored. Throws on a line with an empty key. */
export function parseKvPairs(text: string, opts: KvOptions = {}): KvPairs {
  return parseKvRecords(text, opts).flat();
}

/** Blank-line-separated records, each as its pairs in order. */
export function parseKvRecords(text: string, opts: KvOptions = {}): KvPairs[] {
  const strict = opts.separator === 'space';
  const records: KvPairs[] = [];
  let current: KvPairs = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '') {
      if (current.length) records.push(current);
      current = [];
      continue;
    }
    if (!strict && line.startsWith('#')) continue;
    const pair = strict ? splitAtSpace(line, i + 1) : splitLine(line);
    if (!pair) throw new Error(`line ${i + 1} has an empty key`);
    current.push(pair);
  }
  if (current.length) records.push(current);
  return records;
}

/**
 * Records in the `space` dialect: `key value` lines, a blank line between records. Refuses what
 * the other side would read differently: a key that is empty or not a key, a key or value holding
 * a line break (one value could otherwise add lines of its own), a key with spaces.
 */
export function formatKv(records: KvPairs | KvPairs[]): string {
  const list = (records.length > 0 && Array.isArray(records[0]?.[0]) ? records : [records]) as KvPairs[];
  return list
    .map((pairs) =>
      pairs
        .map(([key, value]) => {
          if (!SPACE_KEY.test(key)) throw new InvalidInputError(`key/value body: "${key.slice(0, 40)}" is not a valid key`, { field: key });
          if (/[\r\n]/.test(value)) throw new InvalidInputError(`key/value body: the value of ${key} must be one line`, { field: key });
          const v = value.trim();
          return v === '' ? key : `${key} ${v}`;
        })
        .join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

// --- Internal helpers ---

function splitLine(line: string): [string, string] | undefined {
  // why: `=`, `: ` and whitespace are all separators; whichever comes first ends the key
  const match = /=|:(?=\s|$)|\s+/.exec(line);
  if (!match) return [line, ''];
  const key = line.slice(0, match.index).trim();
  if (key === '') return undefined;
  let value = line.slice(match.index + match[0].length).trim();
  // why: `key = value` and `key : value` first match the whitespace; drop the real separator
  if (/^\s/.test(match[0]) && /^(=|:(\s|$))/.test(value)) value = value.slice(1).trim();
  return [key, value];
}

function splitAtSpace(line: string, lineNo: number): [string, string] {
  const at = line.search(/\s/);
  const key = at === -1 ? line : line.slice(0, at);
  // why: a body that is not key/value text at all (an HTML error page, JSON) fails here, not later
  if (!SPACE_KEY.test(key)) throw new Error(`line ${lineNo} does not start with a key`);
  return [key, at === -1 ? '' : line.slice(at).trim()];
}
