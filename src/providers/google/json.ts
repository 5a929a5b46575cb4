/**
 * Narrowing helpers for Google's JSON resources (int64 fields arrive as strings); obj, list and str
 * are the shared ones of rest/json.ts.
 */
import { obj, str } from '../rest/json.ts';

export { list, obj, str, type Json } from '../rest/json.ts';

/** The strings of an array, empty ones kept; [] when not an array. */
export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

/** A non-negative integer from a number or an int64 string; undefined when absent or unreadable. */
export function int(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** RFC 3339 timestamps (`2024-05-01T10:00:00.000-07:00`); null when absent or unreadable. */
export function date(v: unknown): Date | null {
  if (typeof v !== 'string') return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The last path segment of a resource URL (`.../zones/us-central1-a` -> `us-central1-a`). */
export function lastSegment(v: unknown): string | undefined {
  const s = str(v);
  if (!s) return undefined;
  const trimmed = s.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1) || undefined;
}

/** Record of string values only (labels, metadata). */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(obj(v) ?? {})) if (typeof value === 'string') out[k] = value;
  return out;
}
