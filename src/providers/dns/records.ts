/**
 * What every DNS driver shares: validation and normalisation of zone and record input (names,
 * per-type data, TTL, priority), TXT quoting, and the record ids of rrset APIs (Route 53,
 * PowerDNS), which encode name, type and value so a record can be found again without a listing.
 * The model rules live on DnsRecord in ../types.ts.
 */
import { isIP } from 'node:net';
import { InvalidInputError, NotFoundError } from '../errors.ts';
import {
  RECORD_TYPES,
  ZONE_TYPES,
  type CreateRecordInput,
  type CreateZoneInput,
  type DnsRecord,
  type RecordType,
  type UpdateRecordInput,
  type ZoneType,
} from '../types.ts';

/** The largest TTL RFC 2181 allows (2^31 - 1). */
export const MAX_TTL = 2_147_483_647;

/** Types whose data is one host name (and MX's exchange, SRV's target). */
const HOST_TYPES: ReadonlySet<string> = new Set(['CNAME', 'NS', 'PTR', 'DNAME', 'ALIAS']);
const TEXT_TYPES: ReadonlySet<string> = new Set(['TXT', 'SPF']);
const PRIORITY_TYPES: ReadonlySet<string> = new Set(['MX', 'SRV']);

/** A record's content once checked: what drivers send, in the model's form. */
export interface RecordValue {
  /** relative, lower case, '' for the apex */
  name: string;
  type: RecordType;
  data: string;
  ttl: number | undefined;
  priority: number | null;
}

/** A checked zone input. */
export interface ZoneValue {
  domain: string;
  type: ZoneType;
  ttl: number | undefined;
  email: string;
  masters: string[];
}

/** `Example.COM.` -> `example.com`; InvalidInputError naming `field` when it is no domain name. */
export function normalizeDomain(domain: unknown, provider: string, field = 'domain'): string {
  if (typeof domain !== 'string') throw invalid(provider, field, `${field} must be a domain name`);
  const d = domain.trim().replace(/\.$/, '').toLowerCase();
  if (!isHostName(d) || !d.includes('.')) throw invalid(provider, field, `${field} must be a fully qualified domain name such as example.com`);
  return d;
}

/** A record name relative to its zone: '' and '@' are the apex; lower case; no trailing dot. */
export function normalizeName(name: unknown, provider: string, field = 'name'): string {
  if (typeof name !== 'string') throw invalid(provider, field, `${field} must be a string ('' or '@' for the apex)`);
  const n = name.trim().toLowerCase();
  if (n === '' || n === '@') return '';
  if (n.endsWith('.')) throw invalid(provider, field, `${field} must be relative to the zone (no trailing dot; '' or '@' for the apex)`);
  // why: wildcards and service labels (_sip._tcp) are names a zone legitimately holds
  if (n.length > 253 || !n.split('.').every((l) => /^(\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$/.test(l))) {
    throw invalid(provider, field, `${field} must be dot-separated labels of letters, digits, '-', '_' (or '*')`);
  }
  return n;
}

/** `www.example.com.` in zone `example.com` -> `www`; the apex -> ''. */
export function relativeName(fqdn: string, domain: string): string {
  const n = fqdn.replace(/\.$/, '').toLowerCase();
  if (n === domain || n === '@' || n === '') return '';
  return n.endsWith(`.${domain}`) ? n.slice(0, -domain.length - 1) : n;
}

/** `www` in zone `example.com` -> `www.example.com` (with `dot`, `www.example.com.`). */
export function absoluteName(name: string, domain: string, dot = false): string {
  const n = name === '' ? domain : `${name}.${domain}`;
  return dot ? `${n}.` : n;
}

/** Checks a createZone input against the zone types a driver supports. */
export function checkZoneInput(input: CreateZoneInput, provider: string, types: readonly ZoneType[] = ['master']): ZoneValue {
  if (!input || typeof input !== 'object') throw invalid(provider, 'input', 'input must be an object');
  const domain = normalizeDomain(input.domain, provider);
  const type = input.type ?? 'master';
  if (!ZONE_TYPES.includes(type)) throw invalid(provider, 'type', `type must be one of ${ZONE_TYPES.join(', ')}`);
  if (!types.includes(type)) throw invalid(provider, 'type', `${provider} supports ${types.join(', ')} zones only`);
  const ttl = checkTtl(input.ttl, provider);
  const email = checkEmail(input.email, provider) ?? `hostmaster@${domain}`;
  const masters = checkMasters(input.masters, provider);
  if (type === 'slave' && masters.length === 0) throw invalid(provider, 'masters', 'a slave zone needs at least one master address');
  if (type === 'master' && masters.length > 0) throw invalid(provider, 'masters', 'only slave zones have masters');
  return { domain, type, ttl, email, masters };
}

/** undefined, or an integer TTL in range (InvalidInputError naming `field`). */
export function checkTtl(ttl: unknown, provider: string, field = 'ttl'): number | undefined {
  if (ttl === undefined || ttl === null) return undefined;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) throw invalid(provider, field, `${field} must be an integer from 0 to ${MAX_TTL}`);
  return ttl;
}

export function checkEmail(email: unknown, provider: string): string | undefined {
  if (email === undefined || email === null) return undefined;
  if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw invalid(provider, 'email', 'email must be an address such as hostmaster@example.com');
  return email;
}

export function checkMasters(masters: unknown, provider: string): string[] {
  if (masters === undefined || masters === null) return [];
  if (!Array.isArray(masters)) throw invalid(provider, 'masters', 'masters must be a list of IP addresses');
  masters.forEach((m, i) => {
    if (typeof m !== 'string' || isIP(m) === 0) throw invalid(provider, `masters[${i}]`, `masters[${i}] must be an IP address`);
  });
  return masters as string[];
}

/** Checks a createRecord input against the types the driver supports; normalises name and data. */
export function checkRecordInput(input: CreateRecordInput, supported: readonly RecordType[], provider: string): RecordValue {
  if (!input || typeof input !== 'object') throw invalid(provider, 'input', 'input must be an object');
  const type = checkType(input.type, supported, provider);
  const name = normalizeName(input.name, provider);
  const ttl = checkTtl(input.ttl, provider);
  const priority = checkPriority(type, input.priority, provider);
  const data = normalizeData(type, input.data, provider);
  return { name, type, data, ttl, priority };
}

/** The record after `patch`, checked as a whole (a type change needs data that fits the new type). */
export function applyRecordPatch(record: DnsRecord, patch: UpdateRecordInput, supported: readonly RecordType[], provider: string): RecordValue {
  if (!patch || typeof patch !== 'object') throw invalid(provider, 'patch', 'patch must be an object');
  const type = patch.type ?? record.type;
  const usesPriority = PRIORITY_TYPES.has(type);
  const priority = patch.priority ?? (usesPriority && PRIORITY_TYPES.has(record.type) ? (record.priority ?? undefined) : undefined);
  return checkRecordInput(
    { name: patch.name ?? record.name, type, data: patch.data ?? record.data, ttl: patch.ttl ?? record.ttl ?? undefined, priority },
    supported,
    provider,
  );
}

/** A type this driver supports; InvalidInputError naming `type` otherwise. */
export function checkType(type: unknown, supported: readonly RecordType[], provider: string): RecordType {
  if (typeof type !== 'string' || !(RECORD_TYPES as readonly string[]).includes(type)) {
    throw invalid(provider, 'type', `type must be a record type (${supported.join(', ')})`);
  }
  if (!supported.includes(type as RecordType)) throw invalid(provider, 'type', `${provider} does not support ${type} records (supported: ${supported.join(', ')})`);
  return type as RecordType;
}

/** The record's data in the model's form (see DnsRecord.data); InvalidInputError naming `data`. */
export function normalizeData(type: RecordType, data: unknown, provider: string): string {
  const bad = (why: string) => invalid(provider, 'data', `data of a ${type} record must be ${why}`);
  if (typeof data !== 'string' || data.trim() === '') throw bad('a non-empty string');
  if (TEXT_TYPES.has(type)) {
    if (data.length > 4000) throw bad('at most 4000 characters');
    return data;
  }
  const d = data.trim();
  if (type === 'A') {
    if (isIP(d) !== 4) throw bad('an IPv4 address');
    return d;
  }
  if (type === 'AAAA') {
    if (isIP(d) !== 6) throw bad('an IPv6 address');
    return canonicalIpv6(d);
  }
  if (HOST_TYPES.has(type) || type === 'MX') {
    const host = d.replace(/\.$/, '').toLowerCase();
    if (!isHostName(host)) throw bad('a fully qualified host name');
    return host;
  }
  if (type === 'SRV') {
    const m = /^(\d{1,5})\s+(\d{1,5})\s+(\S+)$/.exec(d);
    const target = m?.[3]?.replace(/\.$/, '').toLowerCase();
    if (!m || Number(m[1]) > 65535 || Number(m[2]) > 65535 || target === undefined || !(target === '' || isHostName(target))) {
      throw bad("'weight port target' (target a host name)");
    }
    return `${Number(m[1])} ${Number(m[2])} ${target === '' ? '.' : target}`;
  }
  if (type === 'CAA') {
    if (!/^\d{1,3}\s+[a-z0-9]+\s+\S/i.test(d)) throw bad('\'flags tag value\' such as 0 issue "letsencrypt.org"');
    return d;
  }
  if (/[\r\n]/.test(d)) throw bad('one line');
  return d.replace(/\s+/g, ' ');
}

/** The priority of MX and SRV records (required, 0..65535); null for other types, which refuse one. */
export function checkPriority(type: RecordType, priority: unknown, provider: string): number | null {
  if (!PRIORITY_TYPES.has(type)) {
    if (priority !== undefined && priority !== null) throw invalid(provider, 'priority', `priority applies to MX and SRV records only`);
    return null;
  }
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0 || priority > 65535) {
    throw invalid(provider, 'priority', `priority of a ${type} record must be an integer from 0 to 65535`);
  }
  return priority;
}

/** True for types that carry a priority (MX, SRV). */
export function hasPriority(type: string): boolean {
  return PRIORITY_TYPES.has(type);
}

/** True for types whose data is one host name (CNAME, NS, PTR, DNAME, ALIAS). */
export function isHostType(type: string): boolean {
  return HOST_TYPES.has(type);
}

/**
 * The model's data in zone-file (RFC 1035) presentation form, as rrset APIs take it: priority
 * first for MX/SRV, host names with a trailing dot, TXT quoted in strings of at most 255 bytes.
 */
export function toPresentation(type: string, data: string, priority: number | null): string {
  if (TEXT_TYPES.has(type)) return quoteText(data);
  if (HOST_TYPES.has(type)) return `${data}.`;
  if (type === 'MX') return `${priority ?? 0} ${data}.`;
  if (type === 'SRV') {
    const [weight, port, target] = data.split(' ');
    return `${priority ?? 0} ${weight} ${port} ${target === '.' ? '.' : `${target}.`}`;
  }
  return data;
}

/** Presentation-form rdata -> the model's data and priority (the inverse of toPresentation). */
export function fromPresentation(type: string, content: string): { data: string; priority: number | null } {
  const c = content.trim();
  if (TEXT_TYPES.has(type)) return { data: unquoteText(c), priority: null };
  if (HOST_TYPES.has(type)) return { data: c.replace(/\.$/, '').toLowerCase(), priority: null };
  if (type === 'MX') {
    const m = /^(\d+)\s+(\S+)$/.exec(c);
    return m ? { data: m[2]!.replace(/\.$/, '').toLowerCase(), priority: Number(m[1]) } : { data: c, priority: null };
  }
  if (type === 'SRV') {
    const m = /^(\d+)\s+(\d+)\s+(\d+)\s+(\S+)$/.exec(c);
    if (!m) return { data: c, priority: null };
    const target = m[4] === '.' ? '.' : m[4]!.replace(/\.$/, '').toLowerCase();
    return { data: `${m[2]} ${m[3]} ${target}`, priority: Number(m[1]) };
  }
  if (type === 'AAAA') return { data: isIP(c) === 6 ? canonicalIpv6(c) : c, priority: null };
  return { data: c, priority: null };
}

/** Text as RFC 1035 character-strings: quoted, `"` and `\` escaped, split every 255 bytes. */
export function quoteText(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  const parts: string[] = [];
  for (let i = 0; i < bytes.length || parts.length === 0; i += 255) {
    let piece = '';
    for (const b of bytes.subarray(i, i + 255)) {
      if (b === 0x22 || b === 0x5c) piece += `\\${String.fromCharCode(b)}`;
      else if (b < 0x20 || b > 0x7e) piece += `\\${String(b).padStart(3, '0')}`;
      else piece += String.fromCharCode(b);
    }
    parts.push(`"${piece}"`);
  }
  return parts.join(' ');
}

/** Quoted character-strings -> the text they hold, joined; unquoted input is returned as is. */
export function unquoteText(presentation: string): string {
  const s = presentation.trim();
  if (!s.startsWith('"')) return s;
  const bytes: number[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] !== '"') {
      i++;
      continue;
    }
    i++;
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && /^\d{3}$/.test(s.slice(i + 1, i + 4))) {
        bytes.push(Number(s.slice(i + 1, i + 4)));
        i += 4;
      } else if (s[i] === '\\' && i + 1 < s.length) {
        bytes.push(...Buffer.from(s[i + 1]!, 'utf8'));
        i += 2;
      } else {
        bytes.push(...Buffer.from(s[i]!, 'utf8'));
        i++;
      }
    }
    i++;
  }
  return Buffer.from(bytes).toString('utf8');
}

/** True when two values of the same rrset are the same record. */
export function sameValue(a: { data: string; priority: number | null }, b: { data: string; priority: number | null }): boolean {
  return a.data === b.data && (a.priority ?? null) === (b.priority ?? null);
}

/**
 * The id of one value of an rrset: `TYPE:name:base64url(value)` with `@` for the apex and the
 * value `priority data` for MX/SRV, e.g. `A:www:MTkyLjAuMi4xMA`. Routable: decodeRrsetId gives
 * back name, type and value.
 */
export function encodeRrsetId(name: string, type: string, data: string, priority: number | null): string {
  const value = priority === null ? data : `${priority} ${data}`;
  return `${type}:${name === '' ? '@' : encodeURIComponent(name)}:${Buffer.from(value, 'utf8').toString('base64url')}`;
}

/** The parts of an encodeRrsetId id; undefined when `id` is not one. */
export function decodeRrsetId(id: string): { name: string; type: RecordType; data: string; priority: number | null } | undefined {
  const m = /^([A-Z0-9]+):([^:]+):([A-Za-z0-9_-]*)$/.exec(typeof id === 'string' ? id : '');
  if (!m || !(RECORD_TYPES as readonly string[]).includes(m[1]!)) return undefined;
  const type = m[1] as RecordType;
  let name: string;
  try {
    name = m[2] === '@' ? '' : decodeURIComponent(m[2]!);
  } catch {
    return undefined;
  }
  const value = Buffer.from(m[3]!, 'base64url').toString('utf8');
  if (!PRIORITY_TYPES.has(type)) return { name, type, data: value, priority: null };
  const p = /^(\d+) ([\s\S]*)$/.exec(value);
  return p ? { name, type, data: p[2]!, priority: Number(p[1]) } : undefined;
}

/** decodeRrsetId for an id a caller gave: NotFoundError (404) when it is not one, as no record has it. */
export function decodeRecordId(id: string, provider: string): { name: string; type: RecordType; data: string; priority: number | null } {
  const parts = decodeRrsetId(id);
  if (!parts) throw new NotFoundError(`record ${JSON.stringify(String(id))} not found`, { provider, status: 404 });
  return parts;
}

// --- Internal helpers ---

/** RFC 5952 form (lower case, longest zero run compressed), as DNS servers print AAAA data. */
function canonicalIpv6(ip: string): string {
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

function isHostName(host: string): boolean {
  return host.length > 0 && host.length <= 253 && host.split('.').every((l) => /^(\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$/i.test(l));
}

function invalid(provider: string, field: string, message: string): InvalidInputError {
  return new InvalidInputError(message, { provider, field });
}
