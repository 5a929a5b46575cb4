/**
 * Plain-text key/value bodies (CloudSigma 1.0, some legacy APIs, `info` endpoints).
 *
 * Accepted forms, one pair per line (`\n` or `\r\n`):
 * - `key=value`          (`key = value` too)
 * - `Key: value`         (a colon followed by whitespace or the end of the line)
 * - `key value`          (first whitespace run; so `read:bytes 4096` has key `read:bytes`)
 * - `key`                (no separator: empty value)
 * The earliest separator on the line wins, so `url=http://x/a b` is `url` -> `http://x/a b` and
 * `Token: a=b` is `Token` -> `a=b`. Keys and values are trimmed; values are otherwise verbatim (no
 * unquoting, `\n` escapes stay as written). Blank lines separate records; lines starting with
 * `#` are comments. A line whose key would be empty (`=x`, `: x`) makes the body malformed.
 */
import { malformedResponse, type ParseContext } from './context.ts';

export type KvPairs = [key: string, value: string][];

export function isKvResponse(contentType: string | undefined): boolean {
  return /^text\/plain\b/i.test(contentType ?? '');
}

/** The body as one object; a repeated key keeps its last value (use parseKvPairs to keep all). */
export function parseKvResponse(text: string, ctx: ParseContext): Record<string, string> {
  try {
    return Object.fromEntries(parseKvPairs(text));
  } catch (err) {
    throw malformedResponse(ctx, 'key/value text', text, err);
  }
}

/** Every pair in order, duplicates kept; blank lines ignored. Throws on a line with an empty key. */
export function parseKvPairs(text: string): KvPairs {
  return parseKvRecords(text).flat();
}

/** Blank-line-separated records, each as its pairs in order. */
export function parseKvRecords(text: string): KvPairs[] {
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
    if (line.startsWith('#')) continue;
    const pair = splitLine(line);
    if (!pair) throw new Error(`line ${i + 1} has an empty key`);
    current.push(pair);
  }
  if (current.length) records.push(current);
  return records;
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
