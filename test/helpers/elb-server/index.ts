/**
 * A small stateful stand-in for the Elastic Load Balancing APIs on 127.0.0.1, for the `elb`
 * (2012-06-01) and `alb` (2015-12-01) driver tests. Every request must be a form-encoded POST
 * to `/` with a valid SigV4 signature (checked with verifyNodeRequest), the right Version, an
 * Action it knows, every required parameter and no unknown one; anything else is answered with
 * the error a real endpoint would give and listed in `failures`. Balancers, listeners, target
 * groups and registrations are kept in memory so create -> attach -> detach -> destroy round
 * trips work. Every response body is rendered from a template under fixtures/elb or fixtures/alb.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { verifyNodeRequest } from '../aws-verify.ts';
import { albApi } from './alb.ts';
import { classicApi } from './classic.ts';
import { TEST_CREDENTIALS, type ElbApiName, type ElbServerOptions } from './constants.ts';
import { AwsFault, checkParams, type Reply } from './protocol.ts';
import { errorReply, render } from './render.ts';

export { INSTANCE_IDS, SUBNETS, TEST_ACCOUNT_ID, TEST_CREDENTIALS, VPC_ID, type ElbApiName, type ElbServerOptions } from './constants.ts';

/** One request the server accepted as well-formed and signed. */
export interface ElbCall {
  action: string;
  params: URLSearchParams;
}

export interface ElbServer {
  url: string;
  calls: ElbCall[];
  /** protocol violations and rejected signatures, as readable lines */
  failures: string[];
  /** the actions called, in order */
  actions(): string[];
  close(): Promise<void>;
}

const VERSIONS: Record<ElbApiName, string> = { elb: '2012-06-01', alb: '2015-12-01' };

export async function startElbServer(opts: ElbServerOptions): Promise<ElbServer> {
  const region = opts.region ?? 'us-east-1';
  const calls: ElbCall[] = [];
  const failures: string[] = [];
  const sockets = new Set<Socket>();
  const api = opts.api === 'elb' ? classicApi(region, opts) : albApi(region, opts);

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      failures.push(`server error: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const params = new URLSearchParams(body.toString('utf8'));
    const action = params.get('Action') ?? '';
    const send = (reply: Reply) => {
      res.writeHead(reply.status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(reply.body) });
      res.end(reply.body);
    };
    const reject = (status: number, code: string, message: string, why: string) => {
      failures.push(`${action || req.method + ' ' + req.url}: ${why}`);
      send(errorReply(opts.api, new AwsFault(status, code, message)));
    };

    const verified = verifyNodeRequest(
      req,
      body,
      (id) => (id === TEST_CREDENTIALS.accessKeyId ? TEST_CREDENTIALS.secretAccessKey : undefined),
      new Date(),
      { region, service: 'elasticloadbalancing' },
    );
    if (!verified.ok) {
      const unknownKey = verified.reason === 'unknown access key id';
      return reject(
        403,
        unknownKey ? 'InvalidClientTokenId' : 'SignatureDoesNotMatch',
        unknownKey
          ? 'The security token included in the request is invalid.'
          : 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
        `signature rejected (${verified.reason})`,
      );
    }
    if (req.method !== 'POST' || (req.url ?? '') !== '/') return reject(400, 'InvalidAction', 'Use POST /', `expected POST /, got ${req.method} ${req.url}`);
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return reject(400, 'MalformedQueryString', 'The body must be form-encoded', `content-type ${req.headers['content-type']}`);
    }
    if (params.get('Version') !== VERSIONS[opts.api]) {
      return reject(400, 'InvalidAction', 'Unsupported version', `Version ${params.get('Version')} is not ${VERSIONS[opts.api]}`);
    }
    const spec = api.specs[action];
    if (!spec) return reject(400, 'InvalidAction', `Could not find operation ${action} for version ${VERSIONS[opts.api]}`, 'unknown action');
    const problem = checkParams(params, spec);
    if (problem) return reject(400, problem.code, problem.message, problem.message);
    calls.push({ action, params });
    try {
      send({ status: 200, body: render(opts.api, spec.template, { requestId: randomUUID(), ...api.handlers[action]!(params) }) });
    } catch (err) {
      if (!(err instanceof AwsFault)) throw err;
      send(errorReply(opts.api, err));
    }
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    failures,
    actions: () => calls.map((c) => c.action),
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((err) => (err ? fail(err) : ok()));
        for (const s of sockets) s.destroy();
      }),
  };
}
