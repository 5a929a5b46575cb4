/**
 * buildApp(): graphql-yoga behind a node:http server that also serves object transfers,
 * /metrics, /healthz and the browser pages (/dashboard, GraphiQL's assets), with graphql-ws on
 * the same port and path as HTTP GraphQL, and OpenTelemetry tracing when configured.
 *
 * Every request passes the same gates, in order: the browser-origin policy (src/http/origin.ts),
 * the bearer token (src/http/auth.ts, one timing-safe check for HTTP, SSE, graphql-ws and
 * /objects), the per-token rate limit, body size limits; then GraphQL's own: CSRF prevention,
 * document limits (graphql-armor), token scopes per mutation, and the audit trail.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createYoga, type Plugin as YogaPlugin, type YogaServerInstance } from 'graphql-yoga';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { schema } from './schema/index.ts';
import { createContext, type Context } from './context.ts';
import { createRuntime, type Runtime } from './runtime.ts';
import { ConfigError, type SkygraphConfig } from './config/index.ts';
import { isLoopbackHost } from './config/server.ts';
import { createTransfers, type Transfers } from './http/transfers.ts';
import { handleGetObject, handlePutObject, sendError } from './http/objects.ts';
import { createAuthenticator, hasScope, type Principal } from './http/auth.ts';
import { createOriginPolicy } from './http/origin.ts';
import { createRateLimiter, UNLIMITED } from './http/rate-limit.ts';
import { usePartialFailures } from './plugins/use-partial-failures.ts';
import { useLimits } from './plugins/use-limits.ts';
import { useListingCost } from './plugins/use-listing-cost.ts';
import { useScopes } from './plugins/use-scopes.ts';
import { auditMutations } from './plugins/audit.ts';
import { maskError } from './plugins/mask-error.ts';
import { createServices, type Services } from './services.ts';
import type { Logger } from './providers/types.ts';
import type { ConnectionDefaults } from './providers/http/connection.ts';
import { createResultMemo, shareLiveResults, type DirectSend } from './live/shared-results.ts';
import { createGraphiQLAssets } from './http/graphiql.ts';
import { createPages } from './http/pages.ts';
import { createTracing, tracingSettings, useTracing, type Tracing } from './tracing.ts';

export interface App {
  runtime: Runtime;
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  server: Server;
  transfers: Transfers;
  services: Services;
  /** the tracer, when tracing is configured (server.tracing or OTEL_EXPORTER_OTLP_*) */
  tracing: Tracing | undefined;
  /**
   * Listens and resolves with the base URL (http://host:port). Refuses a non-loopback host
   * without server.tokens, or without server.publicUrl.
   */
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
  /** connection settings handed to every driver (tests shorten retries here) */
  http?: ConnectionDefaults;
  /** where OTEL_* variables are read (default process.env) */
  env?: NodeJS.ProcessEnv;
}

/** Either header makes a form-encoded or multipart POST "preflighted" (yoga's CSRF prevention). */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'apollo-require-preflight'];

/**
 * yoga's CSRF prevention for every method but GET: a GET can only run a query (yoga refuses
 * mutations over GET), which changes nothing, so `curl '/graphql?query=...'` keeps working; the
 * origin policy still refuses cross-site reads.
 */
function useCsrfOnWrites(): YogaPlugin {
  const csrf = useCSRFPrevention({ requestHeaders: CSRF_HEADERS });
  return { onRequestParse: (payload) => (payload.request.method === 'GET' ? undefined : csrf.onRequestParse?.(payload)) };
}

export async function buildApp(config: SkygraphConfig, opts: AppOptions = {}): Promise<App> {
  const { server: settings } = config;
  const traceTo = tracingSettings(settings.tracing, opts.env);
  const tracing = traceTo ? await createTracing(traceTo) : undefined;
  const runtime = await createRuntime(config, { ...opts, tracing });
  const { logger } = runtime;
  // why: the origin only; the path or query of an endpoint URL may hold a collector's key
  if (traceTo) logger.info('tracing on', { otlp: new URL(traceTo.url).origin, serviceName: traceTo.serviceName, sampleRatio: traceTo.sampleRatio });
  const transfers = createTransfers({ key: settings.urlSigningKey, uploadMaxBytes: settings.uploadMaxBytes, now: opts.now });
  const services = createServices(runtime, { pubsub: config.pubsub, replicaId: opts.replicaId, boostIntervalMs: opts.boostIntervalMs, deployPollMs: opts.deployPollMs });
  const auth = createAuthenticator(settings.tokens);
  const origins = createOriginPolicy({ publicUrl: settings.publicUrl, corsOrigins: settings.cors.origins, checkHost: auth.open });
  const limiter = settings.limits.rateLimit ? createRateLimiter(settings.limits.rateLimit) : UNLIMITED;
  const graphiql = createGraphiQLAssets({ tokenRequired: !auth.open });
  const pages = createPages(graphiql);
  // why: the URLs we hand out use the configured public address, else the listen address; never the Host header
  let publicUrl = settings.publicUrl ?? 'http://127.0.0.1:4000';

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema: auditMutations(schema, logger),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // why: yoga's default CORS echoes any Origin with credentials; src/http/origin.ts decides instead
    cors: false,
    graphiql: { title: 'skygraph', subscriptionsProtocol: 'WS', defaultQuery: GRAPHIQL_QUERY },
    // why: yoga's own page loads GraphiQL from a CDN; this one serves the package's files (offline)
    renderGraphiQL: (options) => graphiql.render(options),
    maskedErrors: { maskError: maskError(logger) },
    logging: false,
    plugins: [...(tracing ? [useTracing(tracing)] : []), useCsrfOnWrites(), ...useLimits(settings.limits), useListingCost(settings.limits.cost, runtime), useScopes(logger), usePartialFailures()],
    context: ({ request }) => createContext(runtime, services, transfers, publicUrl, auth.authenticate(request.headers.get('authorization'))) as never,
  });

  const endpointOpen = (access: 'public' | 'token' | 'off', req: IncomingMessage) =>
    access === 'public' || (access === 'token' && auth.authenticate(req.headers.authorization) !== undefined);

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<string> => {
    // why: not `new URL()`, which resolves ".." segments; object names must reach the driver as sent
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const searchParams = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    const isObjects = path.startsWith('/objects/');
    // why: a signed URL is a capability of its own; it may be used from any page, like a presigned S3 URL
    const signed = isObjects && transfers.verify(req.method ?? 'GET', path, searchParams);
    if (req.method === 'OPTIONS') return preflight(req, res);
    if (!signed) {
      const refusal = origins.refusal(req.headers, req.method);
      if (refusal) {
        sendGraphQLError(res, 403, refusal, 'FORBIDDEN_ORIGIN');
        return 'refused';
      }
    }
    for (const [k, v] of Object.entries(origins.corsHeaders(req.headers))) res.setHeader(k, v);

    if (path === '/healthz' || path === '/metrics') {
      const access = path === '/healthz' ? settings.healthz : settings.metrics;
      if (access === 'off') {
        sendError(res, 404, 'NOT_FOUND', `${path} is turned off (server.${path.slice(1)}: off)`);
        return path.slice(1);
      }
      if (!endpointOpen(access, req)) return deny(res, path.slice(1));
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'ok', accounts: runtime.accounts.size }));
      } else {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(runtime.metrics.render());
      }
      return path.slice(1);
    }

    const page = await pages.handle(req, res, path);
    if (page) return page;

    const graphiqlPage = req.method === 'GET' && path === '/graphql' && (req.headers.accept ?? '').includes('text/html');
    const principal = auth.authenticate(req.headers.authorization);
    if (!signed && !graphiqlPage) {
      if (!principal) return deny(res, isObjects ? 'objects' : 'graphql');
      const wait = limiter.take(principal.name);
      if (wait > 0) {
        res.setHeader('retry-after', String(wait));
        sendGraphQLError(res, 429, `token "${principal.name}" is over its rate limit (server.limits.rateLimit); retry in ${wait} s`, 'RATE_LIMITED');
        return isObjects ? 'objects' : 'graphql';
      }
    }

    if (isObjects) {
      const rest = path.slice('/objects/'.length);
      const slash = rest.indexOf('/');
      if ((req.method === 'GET' || req.method === 'HEAD') && slash < 0) {
        await handleGetObject(runtime, req, res, rest);
      } else if (req.method === 'PUT' && slash > 0) {
        if (!signed && !hasScope(principal, 'write')) return forbid(res, principal, 'PUT /objects needs scope write');
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

    if (req.method === 'POST') {
      const length = Number(req.headers['content-length'] ?? NaN);
      const multipart = isMultipart(req);
      // why: yoga reads a request body whole before resolvers run; refuse big ones up front
      if (!Number.isFinite(length)) {
        sendGraphQLError(res, 411, 'GraphQL POST requests must send Content-Length', 'LENGTH_REQUIRED');
        return 'graphql';
      }
      if (multipart && length > transfers.uploadMaxBytes + 1024 * 1024) {
        sendGraphQLError(
          res,
          413,
          `upload of ${length} bytes is over the ${transfers.uploadMaxBytes}-byte limit for GraphQL uploads; use PUT /objects/<container id>/<name> or createUploadUrl`,
          'PAYLOAD_TOO_LARGE',
        );
        return 'graphql';
      }
      if (!multipart && length > settings.limits.bodyBytes) {
        sendGraphQLError(res, 413, `request body of ${length} bytes is over the ${settings.limits.bodyBytes}-byte limit (server.limits.bodyBytes)`, 'PAYLOAD_TOO_LARGE');
        return 'graphql';
      }
    }
    // why: the caller's traceparent makes the operation's span a child of its own
    await (tracing ? tracing.withIncoming(req.headers, () => yoga(req, res)) : yoga(req, res));
    return 'graphql';
  };

  const preflight = (req: IncomingMessage, res: ServerResponse): string => {
    const cors = origins.corsHeaders(req.headers);
    if (!cors['access-control-allow-origin']) {
      sendGraphQLError(res, 403, `requests from the web origin ${JSON.stringify(String(req.headers.origin ?? '').slice(0, 100))} are not allowed`, 'FORBIDDEN_ORIGIN');
      return 'refused';
    }
    res.writeHead(204, cors);
    res.end();
    return 'preflight';
  };

  // why: 256 KiB socket buffers (Node defaults to 16 KiB) halve the pause/resume churn of streamed objects
  const server = createServer({ highWaterMark: 256 * 1024 }, (req, res) => {
    const started = process.hrtime.bigint();
    route(req, res)
      .catch((err: unknown) => {
        logger.error('request failed', { error: err instanceof Error ? err.message : String(err) });
        sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'internal error');
        return 'error';
      })
      .then((name) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        res.once('close', () => runtime.requestDuration.observe({ route: name }, seconds));
      });
  });

  // why: no per-message compression; events are small and fan out to thousands of sockets
  const wss = new WebSocketServer({
    server,
    path: '/graphql',
    perMessageDeflate: false,
    maxPayload: settings.limits.bodyBytes,
    verifyClient: (info, done) => {
      const refusal = origins.refusal(info.req.headers, 'GET');
      if (refusal) done(false, 403, refusal);
      else done(true);
    },
  });
  const principals = new WeakMap<object, Principal>();
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
        // why: browsers cannot set headers on a WebSocket; the token comes in connectionParams
        const given = (ctx.connectionParams as { authorization?: unknown } | undefined)?.authorization;
        const principal = auth.authenticate(typeof given === 'string' ? given : ctx.extra.request.headers.authorization);
        if (!principal) return false;
        principals.set(ctx.extra.socket, principal);
        return true;
      },
      onSubscribe: async (ctx, id, params) => {
        const principal = principals.get(ctx.extra.socket);
        if (!principal) return [new GraphQLError('a valid bearer token is required', { extensions: { code: 'UNAUTHENTICATED' } })];
        const wait = limiter.take(principal.name);
        if (wait > 0) {
          return [new GraphQLError(`token "${principal.name}" is over its rate limit (server.limits.rateLimit); retry in ${wait} s`, { extensions: { code: 'RATE_LIMITED', retryAfter: wait } })];
        }
        const { schema: s, execute, subscribe, parse, validate } = yoga.getEnveloped({ ...ctx, params });
        const rootValue: WsRoot = {
          execute,
          subscribe,
          // why: all a result depends on besides the event; every subscriber may read, and the public URL is fixed
          shareKey: JSON.stringify([params.operationName ?? null, params.query, params.variables ?? null]),
          socket: ctx.extra.request.socket,
          // why: live results are written as `next` messages by shareLiveResults, byte for byte what
          // graphql-ws would send; an onNext hook added to useServer would not see them
          direct: { id, socket: ctx.extra.socket },
        };
        try {
          const args = {
            schema: s,
            operationName: params.operationName,
            document: parse(params.query),
            variableValues: params.variables,
            contextValue: createContext(runtime, services, transfers, publicUrl, principal),
            rootValue,
          };
          const errors = validate(args.schema, args.document);
          return errors.length ? errors : args;
        } catch (err) {
          // why: the document limits throw from parse and validate; the client gets them as errors
          if (err instanceof GraphQLError) return [err];
          throw err;
        }
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
    tracing,
    start(port = 4000, host = '127.0.0.1') {
      if (!isLoopbackHost(host) && auth.open) {
        return Promise.reject(
          new ConfigError(config.source, [
            `field "server.tokens" is empty, so skygraph listens only on a loopback address (127.0.0.1, ::1); it was asked to listen on ${host}. Add server.tokens, or listen on 127.0.0.1`,
          ]),
        );
      }
      if (!isLoopbackHost(host) && !settings.publicUrl) {
        return Promise.reject(
          new ConfigError(config.source, [`field "server.publicUrl" is required to listen on ${host}: it is the address browsers and signed URLs use (https://skygraph.example.com)`]),
        );
      }
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address() as AddressInfo;
          const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          const url = `http://${shown}:${addr.port}`;
          origins.listening(url);
          publicUrl = settings.publicUrl ?? url;
          resolve(url);
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
      await tracing?.shutdown();
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

function forbid(res: ServerResponse, principal: Principal | undefined, what: string): string {
  sendGraphQLError(res, 403, `token "${principal?.name ?? ''}" has scope ${principal?.scope ?? 'none'}; ${what}`, 'FORBIDDEN');
  return 'objects';
}

function isMultipart(req: IncomingMessage): boolean {
  return req.method === 'POST' && (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');
}

function sendGraphQLError(res: ServerResponse, status: number, message: string, code: string) {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

