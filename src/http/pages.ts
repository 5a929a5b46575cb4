/**
 * The browser pages skygraph serves itself, all from files it ships (no CDN):
 *   GET /dashboard/          the live dashboard (src/dashboard/), built on the public GraphQL API only
 *   GET /dashboard/vendor/graphql-ws.js   graphql-ws's browser build, from node_modules
 *   GET /graphiql/<file>     GraphiQL's script, stylesheet and workers (src/http/graphiql.ts)
 * They hold no data and need no token: the pages ask for one and send it with their API calls.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { GraphiQLAssets } from './graphiql.ts';
import { sendError } from './objects.ts';

export interface Pages {
  /** serves `path` when it is one of the pages' files; answers the route name, or undefined when it is not */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<string | undefined>;
}

/** why: src/dashboard from both src/http (tsx) and dist/http (npm start); the files are not compiled */
const DASHBOARD_DIR = path.resolve(import.meta.dirname, '../../src/dashboard');
const GRAPHQL_WS_UMD = path.resolve(path.dirname(createRequire(import.meta.url).resolve('graphql-ws')), '../umd/graphql-ws.min.js');

const DASHBOARD_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/dashboard/': { file: path.join(DASHBOARD_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: path.join(DASHBOARD_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard/style.css': { file: path.join(DASHBOARD_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/dashboard/vendor/graphql-ws.js': { file: GRAPHQL_WS_UMD, type: 'text/javascript; charset=utf-8' },
};

/**
 * Same-origin scripts, styles and connections only; no framing (the action buttons must not be
 * clickjacked). `connect-src 'self'` covers the same-origin WebSocket in current browsers.
 */
const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function createPages(graphiql: GraphiQLAssets): Pages {
  return {
    async handle(req, res, urlPath) {
      const isDashboard = urlPath === '/dashboard' || urlPath.startsWith('/dashboard/');
      const isGraphiQL = urlPath.startsWith('/graphiql/');
      if (!isDashboard && !isGraphiQL) return undefined;
      const route = isDashboard ? 'dashboard' : 'graphiql';
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        sendError(res, 405, 'METHOD_NOT_ALLOWED', `${urlPath} answers GET only`);
        return route;
      }
      if (urlPath === '/dashboard') {
        // why: relative, so a path prefix in front of skygraph is kept; the page's relative URLs need the slash
        res.writeHead(301, { location: 'dashboard/' });
        res.end();
        return route;
      }
      if (isDashboard) {
        const entry = DASHBOARD_FILES[urlPath];
        if (!entry) return notFound(res, urlPath, route);
        const body = await readFile(entry.file);
        send(req, res, body, { 'content-type': entry.type, 'cache-control': 'no-cache', 'content-security-policy': DASHBOARD_CSP, 'x-frame-options': 'DENY' });
        return route;
      }
      const asset = await graphiql.asset(urlPath.slice('/graphiql/'.length));
      if (!asset) return notFound(res, urlPath, route);
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      // why: the page asks for ?v=<render-graphiql version>; a new version is a new URL
      const headers: Record<string, string> = { 'content-type': asset.type, 'cache-control': 'public, max-age=604800, immutable', vary: 'accept-encoding' };
      if (gzip) headers['content-encoding'] = 'gzip';
      send(req, res, gzip ? asset.gzipped : asset.body, headers);
      return route;
    },
  };
}

// --- Internal helpers ---

function send(req: IncomingMessage, res: ServerResponse, body: Buffer, headers: Record<string, string>): void {
  res.writeHead(200, { ...headers, 'content-length': String(body.length), 'x-content-type-options': 'nosniff' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function notFound(res: ServerResponse, urlPath: string, route: string): string {
  sendError(res, 404, 'NOT_FOUND', `no such page: ${urlPath.slice(0, 100)}`);
  return route;
}
