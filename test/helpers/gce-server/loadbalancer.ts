/**
 * Network load balancing stand-in: regional target pools (with addInstance / removeInstance) and
 * the forwarding rules that point at them. Instances named in a pool must exist; a pool still
 * targeted by a forwarding rule cannot be deleted (resourceInUseByAnotherResource).
 *
 * https://cloud.google.com/compute/docs/reference/rest/v1/targetPools
 * https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules
 */
import { randomInt } from 'node:crypto';
import type { ReplayRequest } from '../replay-server.ts';
import { fixture, filterNames, googleError, json, notFound, onlyKeys, onlyQuery, page, requireJson, violation, type GoogleRoutes, type Json } from './core.ts';
import { GCE_SELF, last, type ComputeState, type RepeatedOperation, type StartOperation } from './compute.ts';
import { TEST_PROJECT } from './token.ts';

const P = `/compute/v1/projects/${TEST_PROJECT}`;
const NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

export interface LoadBalancingState {
  /** by `region/name` */
  targetPools: Map<string, Json>;
  forwardingRules: Map<string, Json>;
}

export function installLoadBalancing(
  routes: GoogleRoutes,
  compute: { state: ComputeState; startOperation: StartOperation; repeated: RepeatedOperation },
  opts: { maxResults: number },
): LoadBalancingState {
  const { startOperation, repeated } = compute;
  const { route } = routes;
  const state: LoadBalancingState = {
    targetPools: new Map(fixture<{ items: Json[] }>('gce/target-pools.json').items.map((p) => [`${last(p.region)}/${String(p.name)}`, p])),
    forwardingRules: new Map(fixture<{ items: Json[] }>('gce/forwarding-rules.json').items.map((r) => [`${last(r.region)}/${String(r.name)}`, r])),
  };
  const pool = (region: string, name: string) => {
    const p = state.targetPools.get(`${region}/${name}`);
    if (!p) throw notFound(`projects/${TEST_PROJECT}/regions/${region}/targetPools/${name}`);
    return p;
  };
  const instanceUrl = (ref: unknown): string => {
    const m = /(?:^|\/)zones\/([^/]+)\/instances\/([^/]+)$/.exec(String(ref));
    if (!m) throw violation(`not an instance reference: ${String(ref)}`);
    if (!compute.state.instances.has(`${m[1]!}/${m[2]!}`)) throw notFound(`projects/${TEST_PROJECT}/zones/${m[1]!}/instances/${m[2]!}`);
    return `${GCE_SELF}/zones/${m[1]!}/instances/${m[2]!}`;
  };
  const list = (req: ReplayRequest, region: string, map: Map<string, Json>, kind: string) => {
    onlyQuery(req.query, ['maxResults', 'pageToken', 'filter'], `${kind}.list`);
    const names = filterNames(req.query);
    const all = [...map.entries()].filter(([k]) => k.startsWith(`${region}/`)).map(([, v]) => v).filter((v) => names === undefined || names.includes(v.name as string));
    return json(200, { kind: `compute#${kind}List`, id: `projects/${TEST_PROJECT}/regions/${region}/${kind}s`, ...page(all, req.query, opts.maxResults) });
  };
  const operation = (req: ReplayRequest, region: string, type: string, link: string, effects: { start?: () => void; done?: () => void }) => {
    onlyQuery(req.query, ['requestId'], type);
    const again = repeated(req);
    if (again) return json(200, again);
    return json(200, startOperation(req, { region }, type, { link }, effects));
  };

  // https://cloud.google.com/compute/docs/reference/rest/v1/targetPools/list
  route('GET', new RegExp(`^${P}/regions/([^/]+)/targetPools$`), (req, m) => list(req, m[1]!, state.targetPools, 'targetPool'));
  route('GET', new RegExp(`^${P}/regions/([^/]+)/targetPools/([^/]+)$`), (_req, m) => json(200, pool(m[1]!, m[2]!)));

  // https://cloud.google.com/compute/docs/reference/rest/v1/targetPools/insert
  route('POST', new RegExp(`^${P}/regions/([^/]+)/targetPools$`), (req, m) => {
    const region = m[1]!;
    const body = requireJson(req);
    onlyKeys(body, ['name', 'description', 'instances', 'healthChecks', 'sessionAffinity'], 'targetPool');
    if (typeof body.name !== 'string' || !NAME.test(body.name)) throw violation(`invalid target pool name ${String(body.name)}`);
    if (body.sessionAffinity !== undefined && !['NONE', 'CLIENT_IP', 'CLIENT_IP_PROTO'].includes(String(body.sessionAffinity))) throw violation(`invalid sessionAffinity ${String(body.sessionAffinity)}`);
    const key = `${region}/${body.name}`;
    if (!repeated(req) && state.targetPools.has(key)) throw googleError(409, 'alreadyExists', `The resource 'projects/${TEST_PROJECT}/regions/${region}/targetPools/${body.name}' already exists`);
    const instances = (Array.isArray(body.instances) ? body.instances : []).map(instanceUrl);
    const link = `${GCE_SELF}/regions/${region}/targetPools/${body.name}`;
    const created: Json = {
      kind: 'compute#targetPool',
      id: `${randomInt(1e9, 1e10)}${randomInt(1e6, 1e7)}`,
      creationTimestamp: new Date().toISOString(),
      name: body.name,
      ...(body.description ? { description: body.description } : {}),
      region: `${GCE_SELF}/regions/${region}`,
      ...(Array.isArray(body.healthChecks) ? { healthChecks: body.healthChecks } : {}),
      instances,
      sessionAffinity: body.sessionAffinity ?? 'NONE',
      selfLink: link,
    };
    return operation(req, region, 'insert', link, { done: () => state.targetPools.set(key, created) });
  });

  // https://cloud.google.com/compute/docs/reference/rest/v1/targetPools/delete
  route('DELETE', new RegExp(`^${P}/regions/([^/]+)/targetPools/([^/]+)$`), (req, m) => {
    const again = repeated(req);
    if (again) return json(200, again);
    const p = pool(m[1]!, m[2]!);
    const user = [...state.forwardingRules.values()].find((r) => r.target === p.selfLink);
    if (user) {
      throw googleError(400, 'resourceInUseByAnotherResource', `The target_pool resource '${String(p.selfLink)}' is already being used by '${String(user.selfLink)}'`);
    }
    return operation(req, m[1]!, 'delete', p.selfLink as string, { done: () => state.targetPools.delete(`${m[1]!}/${m[2]!}`) });
  });

  // https://cloud.google.com/compute/docs/reference/rest/v1/targetPools/addInstance (and removeInstance)
  route('POST', new RegExp(`^${P}/regions/([^/]+)/targetPools/([^/]+)/(addInstance|removeInstance)$`), (req, m) => {
    const body = requireJson(req);
    onlyKeys(body, ['instances'], m[3]!);
    const again = repeated(req);
    if (again) return json(200, again);
    const p = pool(m[1]!, m[2]!);
    if (!Array.isArray(body.instances) || body.instances.length === 0) throw violation(`${m[3]!}: instances must be a non-empty list`);
    const urls = (body.instances as Json[]).map((i) => {
      onlyKeys(i, ['instance'], `${m[3]!}.instances[]`);
      return instanceUrl(i.instance);
    });
    const current = (p.instances as string[] | undefined) ?? [];
    return operation(req, m[1]!, m[3]!, p.selfLink as string, {
      done: () => {
        p.instances = m[3] === 'addInstance' ? [...new Set([...current, ...urls])] : current.filter((u) => !urls.includes(u));
      },
    });
  });

  // https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules/list
  route('GET', new RegExp(`^${P}/regions/([^/]+)/forwardingRules$`), (req, m) => list(req, m[1]!, state.forwardingRules, 'forwardingRule'));
  route('GET', new RegExp(`^${P}/regions/([^/]+)/forwardingRules/([^/]+)$`), (_req, m) => {
    const r = state.forwardingRules.get(`${m[1]!}/${m[2]!}`);
    if (!r) throw notFound(`projects/${TEST_PROJECT}/regions/${m[1]!}/forwardingRules/${m[2]!}`);
    return json(200, r);
  });

  // https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules/insert
  route('POST', new RegExp(`^${P}/regions/([^/]+)/forwardingRules$`), (req, m) => {
    const region = m[1]!;
    const body = requireJson(req);
    onlyKeys(body, ['name', 'description', 'IPAddress', 'IPProtocol', 'portRange', 'target', 'loadBalancingScheme', 'networkTier'], 'forwardingRule');
    if (typeof body.name !== 'string' || !NAME.test(body.name)) throw violation(`invalid forwarding rule name ${String(body.name)}`);
    if (!['TCP', 'UDP'].includes(String(body.IPProtocol))) throw violation(`IPProtocol must be TCP or UDP for a target pool, got ${String(body.IPProtocol)}`);
    if (!/^\d{1,5}(-\d{1,5})?$/.test(String(body.portRange))) throw violation(`portRange must be "port" or "first-last", got ${String(body.portRange)}`);
    if (body.loadBalancingScheme !== undefined && body.loadBalancingScheme !== 'EXTERNAL') throw violation('loadBalancingScheme must be EXTERNAL for a target pool');
    const target = /(?:^|\/)regions\/([^/]+)\/targetPools\/([^/]+)$/.exec(String(body.target));
    if (!target || target[1] !== region) throw violation(`target must be a target pool of ${region}`);
    const targetPool = pool(region, target[2]!);
    const key = `${region}/${body.name}`;
    if (!repeated(req) && state.forwardingRules.has(key)) throw googleError(409, 'alreadyExists', `The resource 'projects/${TEST_PROJECT}/regions/${region}/forwardingRules/${body.name}' already exists`);
    const link = `${GCE_SELF}/regions/${region}/forwardingRules/${body.name}`;
    const range = String(body.portRange);
    const created: Json = {
      kind: 'compute#forwardingRule',
      id: `${randomInt(1e9, 1e10)}${randomInt(1e6, 1e7)}`,
      creationTimestamp: new Date().toISOString(),
      name: body.name,
      ...(body.description ? { description: body.description } : {}),
      region: `${GCE_SELF}/regions/${region}`,
      IPAddress: body.IPAddress ?? `203.0.113.${randomInt(20, 250)}`,
      IPProtocol: body.IPProtocol,
      portRange: range.includes('-') ? range : `${range}-${range}`,
      target: targetPool.selfLink,
      selfLink: link,
      loadBalancingScheme: 'EXTERNAL',
      networkTier: body.networkTier ?? 'PREMIUM',
      fingerprint: 'n0aSDSuw8GE=',
    };
    return operation(req, region, 'insert', link, { done: () => state.forwardingRules.set(key, created) });
  });

  // https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules/delete
  route('DELETE', new RegExp(`^${P}/regions/([^/]+)/forwardingRules/([^/]+)$`), (req, m) => {
    const again = repeated(req);
    if (again) return json(200, again);
    const r = state.forwardingRules.get(`${m[1]!}/${m[2]!}`);
    if (!r) throw notFound(`projects/${TEST_PROJECT}/regions/${m[1]!}/forwardingRules/${m[2]!}`);
    return operation(req, m[1]!, 'delete', r.selfLink as string, { done: () => state.forwardingRules.delete(`${m[1]!}/${m[2]!}`) });
  });

  return state;
}
