/**
 * GraphiQL from the package's own files, never a CDN: yoga's GraphiQL build as shipped in
 * @graphql-yoga/render-graphiql (its script, stylesheet and Monaco workers) is served under
 * /graphiql/, and the page at GET /graphql (accept: text/html) is a small shell around it.
 * Nothing it loads leaves skygraph's origin, so it works offline.
 *
 * With server.tokens the page loads without a token (it holds none) and asks for one, checks it
 * with `{ viewer { name } }`, keeps it in sessionStorage (shared with /dashboard) and sends it as
 * `authorization` on HTTP and as the graphql-ws connection parameter.
 */
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import type { GraphiQLOptions } from 'graphql-yoga';

/** One file under /graphiql/. */
interface Asset {
  type: string;
  body: Buffer;
  gzipped: Buffer;
}

type AssetName = 'graphiql.js' | 'graphiql.css' | 'favicon.ico' | 'editor.worker.js' | 'json.worker.js' | 'graphql.worker.js';

/** Serves /graphiql/<file> and renders the GraphiQL page. */
export interface GraphiQLAssets {
  /** the HTML of the page, for yoga's `renderGraphiQL` */
  render(opts: GraphiQLOptions): string;
  /** the file named by a path under /graphiql/, or undefined (404) */
  asset(name: string): Promise<Asset | undefined>;
}

const require = createRequire(import.meta.url);
const VERSION = (require('@graphql-yoga/render-graphiql/package.json') as { version: string }).version;

export function createGraphiQLAssets(opts: { tokenRequired: boolean }): GraphiQLAssets {
  let loading: Promise<Map<string, Asset>> | undefined;
  // why: ~9 MB of script; loaded on the first GraphiQL request, not at every start
  const load = () => (loading ??= loadAssets());
  return {
    render(options) {
      return page({ ...options, endpoint: options.endpoint?.replace(/^\//, '') ?? 'graphql' }, opts.tokenRequired);
    },
    async asset(name) {
      return (await load()).get(name);
    },
  };
}

// --- Internal helpers ---

async function loadAssets(): Promise<Map<string, Asset>> {
  const m = await import('@graphql-yoga/render-graphiql/graphiql');
  const compress = promisify(gzip);
  const files: [AssetName, string, Buffer][] = [
    ['graphiql.js', 'text/javascript; charset=utf-8', Buffer.from(m.js)],
    ['graphiql.css', 'text/css; charset=utf-8', Buffer.from(m.css)],
    ['favicon.ico', 'image/x-icon', Buffer.from(m.favicon.replace(/^data:[^,]*;base64,/, ''), 'base64')],
    ['editor.worker.js', 'text/javascript; charset=utf-8', Buffer.from(m.editorWorkerService)],
    ['json.worker.js', 'text/javascript; charset=utf-8', Buffer.from(m.jsonWorker)],
    ['graphql.worker.js', 'text/javascript; charset=utf-8', Buffer.from(m.graphqlWorker)],
  ];
  const out = new Map<string, Asset>();
  for (const [name, type, body] of files) out.set(name, { type, body, gzipped: await compress(body) });
  return out;
}

/** JSON safe inside <script>: `</script>` or `<!--` in a default query cannot end the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page. Asset URLs are relative (`graphiql/...` from `/graphql`), so a path prefix in front
 * of skygraph (`https://example.com/skygraph/graphql`) keeps working.
 */
function page(options: GraphiQLOptions, tokenRequired: boolean): string {
  const title = escapeHtml(options.title ?? 'skygraph');
  const v = `?v=${VERSION}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<link rel="icon" href="graphiql/favicon.ico${v}">
<link rel="stylesheet" href="graphiql/graphiql.css${v}">
<style>
  html, body, #root { height: 100%; margin: 0; }
  #token-form { max-width: 28rem; margin: 15vh auto; font: 15px/1.5 system-ui, sans-serif; color: #1b2432; }
  #token-form input { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; margin: .5rem 0; }
  #token-form button { padding: .45rem 1rem; font: inherit; }
  #token-form .error { color: #b42318; min-height: 1.5em; }
</style>
</head>
<body id="body" class="no-focus-outline">
<noscript>GraphiQL needs JavaScript.</noscript>
<form id="token-form" hidden>
  <h1>${title}</h1>
  <label for="token">This server needs a bearer token (server.tokens). It is kept in this tab only.</label>
  <input id="token" name="token" type="password" autocomplete="off" required>
  <button type="submit">Open GraphiQL</button>
  <p class="error" role="alert"></p>
</form>
<div id="root"></div>
<script>
self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: function (_moduleId, label) {
    var file = label === 'json' ? 'json' : label === 'graphql' ? 'graphql' : 'editor';
    return new URL('graphiql/' + file + '.worker.js${v}', location.href).href;
  },
};
</script>
<script src="graphiql/graphiql.js${v}"></script>
<script>
(function () {
  var options = ${scriptJson(options)};
  var tokenRequired = ${tokenRequired ? 'true' : 'false'};
  var KEY = 'skygraph.token';
  var form = document.getElementById('token-form');
  var endpoint = new URL(options.endpoint, location.href).href;

  function open(token) {
    form.hidden = true;
    if (token) {
      options.additionalHeaders = { authorization: 'Bearer ' + token };
      options.connectionParams = { authorization: 'Bearer ' + token };
    }
    options.endpoint = endpoint;
    YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
  }

  function check(token) {
    return fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify({ query: '{ viewer { name } }' }),
    }).then(function (res) { return res.status !== 401; });
  }

  function ask(message) {
    form.hidden = false;
    form.querySelector('.error').textContent = message || '';
    form.querySelector('input').focus();
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var token = form.querySelector('input').value.trim();
    check(token).then(function (ok) {
      if (!ok) return ask('That token was refused.');
      sessionStorage.setItem(KEY, token);
      open(token);
    }, function () { ask('skygraph did not answer.'); });
  });

  if (!tokenRequired) return open(null);
  var saved = sessionStorage.getItem(KEY);
  if (!saved) return ask();
  check(saved).then(function (ok) {
    if (ok) return open(saved);
    sessionStorage.removeItem(KEY);
    ask('The saved token was refused.');
  }, function () { ask('skygraph did not answer.'); });
})();
</script>
</body>
</html>
`;
}
