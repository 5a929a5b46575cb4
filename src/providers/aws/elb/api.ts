/**
 * The Elastic Load Balancing Query API, as both of its versions speak it: form-encoded POSTs
 * with `Action` and `Version`, SigV4-signed for `elasticloadbalancing`, XML answers whose lists
 * are `<member>` elements and whose pages end with a `NextMarker`. Classic ELB (2012-06-01,
 * driver `elb`) and ELBv2 (2015-12-01, driver `alb`) share this file.
 *
 * https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/Welcome.html
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/Welcome.html
 */
import { xmlList } from '../../http/parsers/xml.ts';
import type { AccountConfig, DriverContext } from '../../types.ts';
import { createQueryApi, text, type QueryApi, type QueryApiDeps, type QueryParams, type XmlObject } from '../query-api.ts';

export { DEFAULT_REGION, text } from '../query-api.ts';
export type { QueryParams, XmlObject } from '../query-api.ts';

export const SIGNING_SERVICE = 'elasticloadbalancing';
/** the largest page both APIs allow */
export const PAGE_SIZE = '400';

/** Test seams for the connection; production uses the defaults. */
export type ElbApiDeps = QueryApiDeps;

/** Which API: the driver name (error prefix) and the API version sent with every call. */
export interface ElbApiOptions {
  provider: string;
  version: string;
}

/** One (account, region) endpoint of one ELB API version. */
export type ElbApi = QueryApi;

export function createElbApi(ctx: DriverContext, api: ElbApiOptions, deps: ElbApiDeps = {}): ElbApi {
  return createQueryApi(
    ctx,
    {
      provider: api.provider,
      service: SIGNING_SERVICE,
      version: api.version,
      endpoint: (region) => `https://elasticloadbalancing.${region}.amazonaws.com/`,
      // why: both ELB APIs wrap every list in <member>, and nothing else uses that tag name
      listElement: 'member',
      resultElement: true,
      tokenParam: 'Marker',
      // why: classic ELB ends with an empty <NextMarker/>, ELBv2 leaves it out
      nextToken: (result) => text(result.NextMarker),
    },
    deps,
  );
}

/** `Name.member.1=a&Name.member.2=b` */
export function memberParams(name: string, values: readonly string[]): QueryParams {
  const out: QueryParams = {};
  values.forEach((value, i) => (out[`${name}.member.${i + 1}`] = value));
  return out;
}

/** `Name.member.1.Key=v`, one struct per list entry; undefined fields are left out */
export function structParams(name: string, structs: readonly Record<string, string | number | undefined>[]): QueryParams {
  const out: QueryParams = {};
  structs.forEach((struct, i) => {
    for (const [key, value] of Object.entries(struct)) if (value !== undefined) out[`${name}.member.${i + 1}.${key}`] = String(value);
  });
  return out;
}

/** The `<member>` entries of a list element (`<Instances><member>…`), `[]` when empty or absent. */
export function members(container: unknown): XmlObject[] {
  if (container === null || typeof container !== 'object') return [];
  return xmlList<unknown>((container as XmlObject).member).filter((m): m is XmlObject => m !== null && typeof m === 'object');
}

/** The `<member>` strings of a list of plain values (`<AvailabilityZones><member>us-east-1a`). */
export function memberStrings(container: unknown): string[] {
  if (container === null || typeof container !== 'object') return [];
  return xmlList<unknown>((container as XmlObject).member).filter((m): m is string => typeof m === 'string' && m !== '');
}

/** An integer, else null. */
export function int(value: unknown): number | null {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) return null;
  return Number(value);
}

/** An ISO timestamp as a Date, else null. */
export function date(value: unknown): Date | null {
  const s = text(value);
  if (s === undefined) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Names the account options that are not lists of non-empty strings. */
export function checkStringListOptions(account: AccountConfig, names: readonly string[]): string[] {
  const problems: string[] = [];
  for (const name of names) {
    const value = account.options?.[name];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
      problems.push(`options.${name} must be a list of non-empty strings`);
    }
  }
  return problems;
}

/** A string-list option or ex parameter, checked; undefined when absent. */
export function stringList(value: unknown, field: string, invalid: (message: string, field: string) => Error): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
    throw invalid(`${field} must be a list of non-empty strings`, field);
  }
  return value as string[];
}
