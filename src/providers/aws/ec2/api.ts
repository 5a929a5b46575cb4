/**
 * The EC2 Query API over the shared HTTP connection: form-encoded POSTs with `Action` and
 * `Version`, SigV4-signed, XML answers with every list as `<item>` elements, NextToken pages.
 *
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#api-pagination
 */
import { createQueryApi, type QueryApi, type QueryApiDeps, type QueryParams } from '../query-api.ts';
import type { DriverContext } from '../../types.ts';

export { DEFAULT_REGION } from '../query-api.ts';
export type { XmlObject } from '../query-api.ts';

export const DRIVER_NAME = 'ec2';
export const API_VERSION = '2016-11-15';

/** Form parameters of one call, already flattened (`InstanceId.1`, `Filter.1.Value.1`). */
export type Ec2Params = QueryParams;
/** Test seams for the connection; production uses the defaults. */
export type Ec2ApiDeps = QueryApiDeps;
/** One (account, region) endpoint. */
export type Ec2Api = QueryApi;

export function createEc2Api(ctx: DriverContext, deps: Ec2ApiDeps = {}): Ec2Api {
  return createQueryApi(
    ctx,
    {
      provider: DRIVER_NAME,
      service: 'ec2',
      version: API_VERSION,
      endpoint: (region) => `https://ec2.${region}.amazonaws.com/`,
      // why: EC2 wraps every list in <item>, and nothing else uses that tag name
      listElement: 'item',
      resultElement: false,
      tokenParam: 'NextToken',
      nextToken: (page) => (typeof page.nextToken === 'string' && page.nextToken !== '' ? page.nextToken : undefined),
    },
    deps,
  );
}

/** `Name.1=a&Name.2=b` */
export function listParams(name: string, values: readonly string[]): Ec2Params {
  const out: Ec2Params = {};
  values.forEach((value, i) => (out[`${name}.${i + 1}`] = value));
  return out;
}

/** `Filter.N.Name` / `Filter.N.Value.M` */
export function filterParams(filters: readonly { name: string; values: readonly string[] }[]): Ec2Params {
  const out: Ec2Params = {};
  filters.forEach((filter, i) => {
    out[`Filter.${i + 1}.Name`] = filter.name;
    filter.values.forEach((value, j) => (out[`Filter.${i + 1}.Value.${j + 1}`] = value));
  });
  return out;
}

/** Splits `values` into chunks of at most `size`. */
export function chunk<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}
