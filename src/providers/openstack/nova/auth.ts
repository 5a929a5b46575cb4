/**
 * The OpenStack auth seam the Nova, Octavia and Cloud Load Balancers drivers code against: a
 * Signer that adds X-Auth-Token, plus endpoint lookup by service type. Today only the preset
 * token mode lives here (credentials.token + account.endpoint); Keystone catalog auth
 * (src/providers/openstack/identity) plugs in behind the same interface.
 */
import { InvalidInputError } from '../../errors.ts';
import type { HttpRequest, Signer } from '../../http/types.ts';

/** Token signer plus service-catalog lookup. */
export interface OpenStackAuth extends Signer {
  /** the endpoint of a service type (e.g. 'compute', 'image', 'load-balancer'), or undefined when none is known */
  endpoint(serviceType: string, opts?: { region?: string | undefined; interface?: string | undefined }): Promise<string | undefined>;
}

/** Preset token mode: a token the caller already has, and the endpoints to use it with. */
export interface PresetTokenOptions {
  token: string;
  /** service type -> base URL */
  endpoints: Record<string, string | undefined>;
}

export function createPresetTokenAuth(opts: PresetTokenOptions): OpenStackAuth {
  return {
    async sign(req: HttpRequest): Promise<HttpRequest> {
      return { ...req, headers: { ...req.headers, 'x-auth-token': opts.token } };
    },
    // why: a preset token cannot be renewed; the 401 is retried once and then surfaces as AuthenticationError
    onUnauthorized: () => undefined,
    endpoint: async (serviceType) => opts.endpoints[serviceType],
  };
}

/** The endpoint of `serviceType`, or an InvalidInputError naming where to configure it. */
export async function requireEndpoint(auth: OpenStackAuth, provider: string, serviceType: string, region: string | undefined, field: string): Promise<string> {
  const url = await auth.endpoint(serviceType, { region, interface: 'public' });
  if (!url) throw new InvalidInputError(`no ${serviceType} endpoint: set ${field} or use a catalog that has one`, { provider, field });
  return url;
}
