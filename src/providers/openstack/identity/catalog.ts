/**
 * The service catalog: Keystone v3 / v2.0 catalogs and Swift v1.0's storage URL in one shape,
 * and endpoint selection by service type, region and interface.
 */
import { MalformedResponseError, NotFoundError } from '../../errors.ts';

export type EndpointInterface = 'public' | 'internal' | 'admin';

/** One endpoint of a service. */
export interface CatalogEndpoint {
  interface: EndpointInterface;
  /** null when the catalog names no region (Swift v1.0) */
  region: string | null;
  url: string;
}

/** One service of the catalog (`object-store`, `compute`, `rax:object-cdn`, ...). */
export interface CatalogService {
  type: string;
  name: string;
  endpoints: CatalogEndpoint[];
}

/** What the identity service says this token may reach. */
export interface Catalog {
  services: CatalogService[];
}

export interface EndpointQuery {
  /** undefined: the only region the service has (fails when it has several) */
  region?: string | undefined;
  /** default 'public' */
  interface?: EndpointInterface | undefined;
}

/** The URL of `serviceType` for the region and interface; NotFoundError lists what exists. */
export function pickEndpoint(catalog: Catalog, serviceType: string, query: EndpointQuery, provider: string): string {
  const iface = query.interface ?? 'public';
  const services = catalog.services.filter((s) => s.type === serviceType);
  if (services.length === 0) throw new NotFoundError(`the service catalog has no ${serviceType} service`, { provider });
  const endpoints = services.flatMap((s) => s.endpoints).filter((e) => e.interface === iface);
  const regions = [...new Set(endpoints.map((e) => e.region ?? '(none)'))].sort();
  let candidates = endpoints;
  if (query.region !== undefined) {
    candidates = endpoints.filter((e) => e.region === query.region);
  } else if (regions.length > 1) {
    throw new NotFoundError(`${serviceType} has endpoints in several regions (${regions.join(', ')}); name one`, { provider });
  }
  const first = candidates[0];
  if (!first) {
    const where = query.region !== undefined ? ` in region ${query.region}` : '';
    throw new NotFoundError(`no ${iface} ${serviceType} endpoint${where} (regions: ${regions.join(', ') || 'none'})`, { provider });
  }
  return first.url;
}

/** Keystone v3 `token.catalog`. */
export function parseV3Catalog(raw: unknown, provider: string): Catalog {
  const list = raw === undefined ? [] : raw;
  if (!Array.isArray(list)) throw new MalformedResponseError('token.catalog is not a list', { provider });
  return {
    services: list.map((entry: unknown) => {
      const s = asObject(entry);
      const endpoints = Array.isArray(s.endpoints) ? s.endpoints : [];
      return {
        type: String(s.type ?? ''),
        name: String(s.name ?? ''),
        endpoints: endpoints.flatMap((e: unknown) => {
          const ep = asObject(e);
          const iface = ep.interface;
          if (typeof ep.url !== 'string' || (iface !== 'public' && iface !== 'internal' && iface !== 'admin')) return [];
          const region = typeof ep.region_id === 'string' ? ep.region_id : typeof ep.region === 'string' ? ep.region : null;
          return [{ interface: iface, region, url: ep.url }];
        }),
      };
    }),
  };
}

/** Keystone v2.0 `access.serviceCatalog` (publicURL / internalURL / adminURL per endpoint). */
export function parseV2Catalog(raw: unknown, provider: string): Catalog {
  const list = raw === undefined ? [] : raw;
  if (!Array.isArray(list)) throw new MalformedResponseError('access.serviceCatalog is not a list', { provider });
  const keys: [EndpointInterface, string][] = [
    ['public', 'publicURL'],
    ['internal', 'internalURL'],
    ['admin', 'adminURL'],
  ];
  return {
    services: list.map((entry: unknown) => {
      const s = asObject(entry);
      const endpoints = Array.isArray(s.endpoints) ? s.endpoints : [];
      return {
        type: String(s.type ?? ''),
        name: String(s.name ?? ''),
        endpoints: endpoints.flatMap((e: unknown) => {
          const ep = asObject(e);
          const region = typeof ep.region === 'string' ? ep.region : null;
          return keys.flatMap(([iface, key]) => (typeof ep[key] === 'string' ? [{ interface: iface, region, url: ep[key] as string }] : []));
        }),
      };
    }),
  };
}

function asObject(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
