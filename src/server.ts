/**
 * buildApp(): graphql-yoga behind a node:http server that also serves object transfers,
 * /metrics and /healthz, with graphql-ws on the same port and path as HTTP GraphQL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { ExecutionArgs } from 'graphql';
import { schema } from './schema/index.ts';
import { createContext, type Context } from './context.ts';
import { createRuntime, type Runtime } from './runtime.ts';
import type { SkygraphConfig } from './config/index.ts';
import { createTransfers, type Transfers } from './http/transfers.ts';
import { handleGetObject, handlePutObject, sendError } from './http/objects.ts';
import { usePartialFailures } from './plugins/use-partial-failures.ts';
import { maskError } from './plugins/mask-error.ts';
import { createServices, type Services } from './services.ts';
import type { Logger } from './providers/types.ts';
import { createResultMemo, shareLiveResults, type DirectSend } from './live/shared-results.ts';

export interface App {
  runtime: Runtime;
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  server: Server;
  transfers: Transfers;
  services: Services;
  /** listens and resolves with the base URL (http://host:port) */
  start(port?: number, host?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  now?: () => Date;
  /** live-event options (replica id, boost interval); the pubsub URL comes from the config */
  replicaId?: string;
  boostIntervalMs?: number;
  deployPollMs?: number;
}

export async function buildApp(config: SkygraphConfig, opts: AppOptions = {}): Promise<App> {
  const runtime = await createRuntime(config, opts);
  const transfers = createTransfers({ key: config.server.urlSigningKey, uploadMaxBytes: config.server.uploadMaxBytes, now: opts.now });
  const services = createServices(runtime, { pubsub: config.pubsub, replicaId: opts.replicaId, boostIntervalMs: opts.boostIntervalMs, deployPollMs: opts.deployPollMs });
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'skygraph', subscriptionsProtocol: 'WS', defaultQuery: GRAPHIQL_QUERY },
    maskedErrors: { maskError: maskError(runtime.logger) },
    logging: false,
    plugins: [usePartialFailures()],
    context: ({ request }) => createContext(runtime, services, transfers, originOf(request.headers.get('host'))) as never,
  });

  const apiToken = config.server.apiToken;
  const authorized = (req: IncomingMessage) => {
    if (!apiToken) return true;
    const given = Buffer.from(req.headers.authorization ?? '');
    const expected = Buffer.from(`Bearer ${apiToken}`);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<string> => {
    // why: not `new URL()`, which resolves ".." segments; object names must reach the driver as sent
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const searchParams = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', accounts: runtime.accounts.size }));
      return 'healthz';
    }
    if (path.startsWith('/objects/')) {
      const signed = transfers.verify(req.method ?? 'GET', path, searchParams);
      if (!signed && !authorized(req)) return deny(res, 'objects');
      const rest = path.slice('/objects/'.length);
      const slash = rest.indexOf('/');
      if ((req.method === 'GET' || req.method === 'HEAD') && slash < 0) {
        await handleGetObject(runtime, req, res, rest);
      } else if (req.method === 'PUT' && slash > 0) {
        let name: string;
        try {
          name = rest.slice(slash + 1).split('/').map(decodeURIComponent).join('/');
        } catch {
          sendError(res, 400, 'INVALID_INPUT', 'the object name in the path is not valid percent-encoding');
          return 'objects';
        }
        await handlePutObject(runtime, req, res, rest.slice(0, slash), name);
      } else {
        sendError(res, 405, 'METHOD_NOT_ALLOWED', 'use GET /objects/<object id> or PUT /objects/<container id>/<name>');
      }
      return 'objects';
    }
    if (!authorized(req)) return deny(res, path === '/metrics' ? 'metrics' : 'graphql');
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(runtime.metrics.render());
      return 'metrics';
    }
    if (isMultipart(req)) {
      const length = Number(req.headers['content-length'] ?? NaN);
      // why: yoga reads a multipart body whole before resolvers run; refuse big ones up front
      if (!Number.isFinite(length)) {
        sendGraphQLError(res, 411, 'multipart GraphQL requests must send Content-Length', 'LENGTH_REQUIRED');
        return 'graphql';
      }
      if (length > transfers.uploadMaxBytes + 1024 * 1024) {
        sendGraphQLError(
          res,
          413,
          `upload of ${length} bytes is over the ${transfers.uploadMaxBytes}-byte limit for GraphQL uploads; use PUT /objects/<container id>/<name> or createUploadUrl`,
          'PAYLOAD_TOO_LARGE',
        );
        return 'graphql';
      }
    }
    await yoga(req, res);
    return 'graphql';
  };

  // why: 256 KiB socket buffers (Node defaults to 16 KiB) halve the pause/resume churn of streamed objects
  const server = createServer({ highWaterMark: 256 * 1024 }, (req, res) => {
    const started = process.hrtime.bigint();
    route(req, res)
      .catch((err: unknown) => {
        runtime.logger.error('request failed', { error: err instanceof Error ? err.message : String(err) });
        sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'internal error');
        return 'error';
      })
      .then((name) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        res.once('close', () => runtime.requestDuration.observe({ route: name }, seconds));
      });
  });

  // why: no per-message compression; events are small and fan out to thousands of sockets
  const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false });
  const liveResults = createResultMemo();
  const wsServer = useServer(
    {
      execute: (args: ExecutionArgs) => (args.rootValue as WsRoot).execute(args) as never,
      subscribe: (args: ExecutionArgs) => {
        const root = args.rootValue as WsRoot;
        return shareLiveResults({
          ctx: args.contextValue as object,
          key: root.shareKey,
          memo: liveResults,
          socket: root.socket,
          direct: root.direct,
          subscribe: () => root.subscribe(args),
        }) as never;
      },
      onConnect: (ctx) => {
        if (!apiToken) return true;
        const token = (ctx.connectionParams as { authorization?: string } | undefined)?.authorization ?? ctx.extra.request.headers.authorization;
        return token === `Bearer ${apiToken}`;
      },
      onSubscribe: async (ctx, id, params) => {
        const { schema: s, execute, subscribe, parse, validate } = yoga.getEnveloped({ ...ctx, params });
        const origin = originOf(ctx.extra.request.headers.host);
        const rootValue: WsRoot = {
          execute,
          subscribe,
          // why: all a result depends on besides the event; the context differs only by origin
          shareKey: JSON.stringify([origin, params.operationName ?? null, params.query, params.variables ?? null]),
          socket: ctx.extra.request.socket,
          // why: live results are written as `next` messages by shareLiveResults, byte for byte what
          // graphql-ws would send; an onNext hook added to useServer would not see them
          direct: { id, socket: ctx.extra.socket },
        };
        const args = {
          schema: s,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: createContext(runtime, services, transfers, origin),
          rootValue,
        };
        const errors = validate(args.schema, args.document);
        return errors.length ? errors : args;
      },
    },
    wss,
  );

  return {
    runtime,
    yoga,
    server,
    transfers,
    services,
    start(port = 4000, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address() as AddressInfo;
          const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          resolve(`http://${shown}:${addr.port}`);
        });
      });
    },
    async stop() {
      await wsServer.dispose();
      wss.close();
      await services.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
    },
  };
}

/** What GraphiQL opens with: every account at once, and where to go next. */
export const GRAPHIQL_QUERY = `# skygraph: one GraphQL API over every configured cloud account.
# A query fans out to every account at once; one that fails shows up in \`failures\`
# (and in the top-level errors), never as a blank answer.
{
  accounts { id driver services regions capabilities health { ok } }
  nodes(first: 20) {
    totalCount
    edges { node { id name state region publicIps tags { key value } size { name price } image { name } location { name country } } }
    failures { account code message retryable }
  }
}

# Live changes, as they happen (run it in a second tab):
# subscription { nodeChanged { kind previousState state node { name region } } }
`;

/** What onSubscribe hands graphql-ws's execute/subscribe for one operation. */
interface WsRoot {
  execute: (a: ExecutionArgs) => unknown;
  subscribe: (a: ExecutionArgs) => unknown;
  shareKey: string;
  socket: Socket;
  direct: DirectSend;
}

function deny(res: ServerResponse, route: string): string {
  res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
  res.end(JSON.stringify({ errors: [{ message: 'missing or wrong bearer token', extensions: { code: 'UNAUTHENTICATED' } }] }));
  return route;
}

function isMultipart(req: IncomingMessage): boolean {
  return req.method === 'POST' && (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');
}

function sendGraphQLError(res: ServerResponse, status: number, message: string, code: string) {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

function originOf(host: string | null | undefined): string {
  return `http://${host ?? 'localhost'}`;
}
