/** The ELB test server's request model: faults, per-action parameter specs and Query-style lists. */
import { randomBytes } from 'node:crypto';

export type Params = URLSearchParams;
export type View = Record<string, unknown>;
export interface Reply {
  status: number;
  body: string;
}
/** why: answered as an AWS error response, not a test failure (the driver may provoke these on purpose) */
export class AwsFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
export const fault = (code: string, message: string, status = 400) => new AwsFault(status, code, message);

/** Parameters one action takes: required names, and patterns every given name must match. */
export interface ActionSpec {
  template: string;
  required: string[];
  allowed: RegExp[];
}
export interface ApiImpl {
  specs: Record<string, ActionSpec>;
  handlers: Record<string, (p: Params) => View>;
}

export function spec(template: string, required: string[], allowed: (string | RegExp)[] = []): ActionSpec {
  const exact = (s: string) => new RegExp(`^${s.replace(/\./g, '\\.').replace(/\bN\b/g, '[1-9]\\d*')}$`);
  return { template, required, allowed: [...required, ...allowed].map((a) => (typeof a === 'string' ? exact(a) : a)) };
}

export function checkParams(params: Params, s: ActionSpec): { code: string; message: string } | undefined {
  for (const name of s.required) if (!params.get(name)) return { code: 'MissingParameter', message: `${name} is required` };
  for (const name of params.keys()) {
    if (name === 'Action' || name === 'Version') continue;
    if (!s.allowed.some((re) => re.test(name))) return { code: 'UnknownParameter', message: `Unknown parameter ${name}` };
  }
  return undefined;
}

/** `Name.member.1`, `Name.member.2`, … until one is missing */
export function memberValues(p: Params, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; p.has(`${name}.member.${i}`); i++) out.push(p.get(`${name}.member.${i}`)!);
  return out;
}

/** `Name.member.N.Field` structs */
export function memberStructs(p: Params, name: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (let i = 1; ; i++) {
    const prefix = `${name}.member.${i}.`;
    const entry: Record<string, string> = {};
    for (const [k, v] of p) if (k.startsWith(prefix)) entry[k.slice(prefix.length)] = v;
    if (Object.keys(entry).length === 0) return out;
    out.push(entry);
  }
}

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');
export const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;
export const PORT = (v: string | null | undefined) => Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 65535;
