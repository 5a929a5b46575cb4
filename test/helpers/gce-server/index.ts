/**
 * Stateful stand-ins on 127.0.0.1 for Google APIs, built on the replay server: an OAuth token
 * endpoint that verifies the service account's signed JWT (token.ts), Compute Engine v1
 * (compute.ts, loadbalancer.ts), Cloud Storage JSON API (storage.ts) and Cloud DNS v1 (dns.ts). Every API request must
 * carry a bearer token the token endpoint issued; anything the driver sends wrong lands in
 * `failures`.
 */
import type { KeyObject } from 'node:crypto';
import { startReplayServer, type ReplayRequest, type ReplayServer } from '../replay-server.ts';
import { installCompute, type ComputeState } from './compute.ts';
import { googleRoutes, type GoogleRoutes, type InjectedFault } from './core.ts';
import { installDns, type DnsState } from './dns.ts';
import { installLoadBalancing, type LoadBalancingState } from './loadbalancer.ts';
import { installStorage, type StorageState } from './storage.ts';
import { installTokenEndpoint, testServiceAccount, type TokenEndpoint } from './token.ts';

export { TEST_CLIENT_EMAIL, TEST_PROJECT, testServiceAccount } from './token.ts';

/** What every Google test server has. */
export interface GoogleTestServer {
  url: string;
  requests: ReplayRequest[];
  failures: string[];
  token: TokenEndpoint;
  /** a service-account key JSON whose token_uri is this server */
  serviceAccountJson: string;
  privateKeyPem: string;
  publicKey: KeyObject;
  /** answers the next matching request(s) with a canned error */
  inject(fault: InjectedFault): void;
  close(): Promise<void>;
}

export interface GceServerOptions {
  /** how long operations and instance transitions take (default 30 ms) */
  transitionMs?: number;
  /** the most items one page holds (default 500) */
  maxResults?: number;
  /** scopes (`zones/x`) the aggregated instance list reports UNREACHABLE */
  unreachable?: string[];
}

export interface GceTestServer extends GoogleTestServer {
  compute: ComputeState;
  lb: LoadBalancingState;
}

export async function startGceServer(opts: GceServerOptions = {}): Promise<GceTestServer> {
  const { routes, server } = await startGoogleServer('https://www.googleapis.com/auth/compute', opts.transitionMs ?? 30);
  const maxResults = opts.maxResults ?? 500;
  const compute = installCompute(routes, { maxResults, unreachable: opts.unreachable ?? [] });
  const lb = installLoadBalancing(routes, compute, { maxResults });
  return { ...server, compute: compute.state, lb };
}

export interface GcsTestServer extends GoogleTestServer {
  storage: StorageState;
}

export async function startGcsServer(opts: { maxResults?: number } = {}): Promise<GcsTestServer> {
  const { replay, routes, server } = await startGoogleServer('https://www.googleapis.com/auth/devstorage.full_control', 0);
  const storage = installStorage(routes, replay, { maxResults: opts.maxResults ?? 1000, publicKey: server.publicKey });
  return { ...server, storage };
}

export interface GoogleDnsServerOptions {
  /** the most zones or rrsets one page holds (default 500) */
  maxResults?: number;
  /** how long a change stays pending (default 30 ms) */
  transitionMs?: number;
}

export interface GoogleDnsTestServer extends GoogleTestServer {
  dns: DnsState;
}

export async function startGoogleDnsServer(opts: GoogleDnsServerOptions = {}): Promise<GoogleDnsTestServer> {
  const { routes, server } = await startGoogleServer('https://www.googleapis.com/auth/ndev.clouddns.readwrite', 0);
  const dns = installDns(routes, { maxResults: opts.maxResults ?? 500, transitionMs: opts.transitionMs ?? 30 });
  return { ...server, dns };
}

// --- Internal helpers ---

/** A replay server with a token endpoint granting `scope`, and the API routes an installer adds to. */
async function startGoogleServer(scope: string, transitionMs: number): Promise<{ replay: ReplayServer; routes: GoogleRoutes; server: GoogleTestServer }> {
  const replay = await startReplayServer();
  const sa = testServiceAccount(`${replay.url}/token`);
  const token = installTokenEndpoint(replay, { publicKey: sa.publicKey, scope });
  const routes = googleRoutes(replay, token, transitionMs);
  const server: GoogleTestServer = {
    url: replay.url,
    requests: replay.requests,
    failures: replay.failures,
    token,
    serviceAccountJson: sa.json,
    privateKeyPem: sa.privateKeyPem,
    publicKey: sa.publicKey,
    inject: routes.inject,
    close: () => replay.close(),
  };
  return { replay, routes, server };
}
