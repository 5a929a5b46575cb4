/**
 * A recorded-response EC2 Query API server on 127.0.0.1 for the ec2 driver tests and bench.
 *
 * Every request is checked the way EC2 would: POST / form-encoded, a valid SigV4 signature
 * (service ec2; a wrong secret gets 401 AuthFailure), Version, a known Action, required and
 * allowed parameters. What fails a check is answered with an EC2 error and listed in `failures`.
 *
 * Answers come from fixtures/ec2: the recorded DescribeInstances/DescribeImages/DescribeKeyPairs
 * pages seed the state of `seedRegion`; instances launched later, generated instances (for
 * pagination and the 10,000-instance bench) and key pairs are rendered from fixtures/ec2/templates.
 * State moves like EC2's (pending -> running, stopping -> stopped, shutting-down -> terminated)
 * after `transitionMs`. The region of each request is the one its signature is scoped to.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { EC2_TEST_KEY_ID, EC2_TEST_SECRET } from './constants.ts';
import { createImageApi } from './images.ts';
import { createInstanceApi } from './instances.ts';
import { createRouter, type Ec2Request, type Injected } from './routing.ts';
import { createSim } from './state.ts';
import { createVolumeApi } from './volumes.ts';

export { EC2_OWNER_ID, EC2_TEST_KEY_ID, EC2_TEST_SECRET } from './constants.ts';
export type { Ec2Request } from './routing.ts';

export interface Ec2ServerOptions {
  /** access key id -> secret; default {EC2_TEST_KEY_ID: EC2_TEST_SECRET} */
  credentials?: Record<string, string>;
  /** region whose state starts from the recorded fixtures; default us-east-1 */
  seedRegion?: string;
  /** false starts every region empty */
  seed?: boolean;
  /** read-only instances generated into seedRegion's listing, before the recorded ones */
  generated?: number;
  /** the server's own page-size cap for DescribeInstances/DescribeImages (AWS may return fewer than MaxResults) */
  pageSize?: number;
  /** how long pending/stopping/shutting-down last (ms); default 100 */
  transitionMs?: number;
  /** regions that answer every request with 503 Unavailable */
  failingRegions?: string[];
}

export interface Ec2Server {
  url: string;
  requests: Ec2Request[];
  /** requests that failed a check: wrong signature, unknown action or parameter, unsupported filter */
  failures: string[];
  /** answers the next `times` requests for `action` with this error instead */
  failNext(action: string, error: { status: number; code: string; message: string }, times?: number): void;
  /** instances launched through RunInstances, per region */
  launched(region: string): string[];
  close(): Promise<void>;
}
export async function startEc2Server(opts: Ec2ServerOptions = {}): Promise<Ec2Server> {
  const secrets = opts.credentials ?? { [EC2_TEST_KEY_ID]: EC2_TEST_SECRET };
  const requests: Ec2Request[] = [];
  const failures: string[] = [];
  const injected: Injected[] = [];
  const sim = createSim(opts, failures);
  const { regions } = sim;
  const instances = createInstanceApi(sim);
  const handlers = { ...instances.handlers, ...createImageApi(sim, instances), ...createVolumeApi(sim, instances) };
  const respond = createRouter({ secrets, handlers, requests, failures, injected, failingRegions: opts.failingRegions });

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => respond(req, Buffer.concat(chunks), res));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((ok, bad) => {
    server.once('error', bad);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    failures,
    failNext: (action, error, times = 1) => void injected.push({ action, error, left: times }),
    launched: (name) => [...(regions.get(name)?.launched ?? [])],
    close: () =>
      new Promise<void>((ok, bad) => {
        server.close((err) => (err ? bad(err) : ok()));
        for (const s of sockets) s.destroy();
      }),
  };
}
