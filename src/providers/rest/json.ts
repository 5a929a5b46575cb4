/** Reading untyped JSON response bodies without trusting their shape. */

export type Json = Record<string, unknown>;

/** The value as a plain object, else undefined. */
export function obj(v: unknown): Json | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

/** The objects of an array (anything else dropped); [] when not an array. */
export function list(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(obj).filter((o): o is Json => o !== undefined) : [];
}

/** A non-empty string, or a number as a string (numeric ids), else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
}

/** The strings of an array; [] when not an array. */
export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s !== '') : [];
}

/** A finite number (or numeric string, as Hetzner sends prices), else undefined. */
export function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** A non-negative integer (rounded), else 0. */
export function count(v: unknown): number {
  const n = num(v);
  return n === undefined ? 0 : Math.max(0, Math.round(n));
}

/** An ISO 8601 timestamp; one without a zone designator is UTC (Linode sends those). */
export function date(v: unknown): Date | null {
  if (typeof v !== 'string' || v === '') return null;
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}
