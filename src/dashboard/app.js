/* global document, location, sessionStorage, fetch, URL, setInterval, graphqlWs */
/**
 * The skygraph dashboard: accounts with their health, nodes and load balancers across accounts,
 * kept live by the nodeChanged and loadBalancerChanged subscriptions (graphql-ws), and node
 * actions when the account can do them and the token may write. It uses the public GraphQL API
 * only, as any other client would: same-origin JSON POSTs to /graphql and a WebSocket to the
 * same URL. A token (when the server has server.tokens) is kept in sessionStorage, sent as
 * `authorization` on HTTP and as the graphql-ws connection parameter.
 */

const TOKEN_KEY = 'skygraph.token';
const HEALTH_EVERY_MS = 5000;

const endpoint = new URL('../graphql', location.href);
const wsEndpoint = new URL(endpoint);
wsEndpoint.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

const NODE_FIELDS = 'id name state region publicIps account { id }';
const BALANCER_FIELDS = 'id name state region ip port protocol account { id }';
const HEALTH_FIELDS = 'health { status consecutiveFailures lastError { code message } }';

const LOAD = `query Dashboard {
  viewer { name scope }
  accounts { id driver provider services capabilities ${HEALTH_FIELDS} }
  nodes(first: 1000, orderBy: { field: NAME }) { totalCount edges { node { ${NODE_FIELDS} } } failures { account region code message } }
  loadBalancers(first: 1000) { totalCount edges { node { ${BALANCER_FIELDS} } } failures { account region code message } }
}`;
const HEALTH = `query DashboardHealth { accounts { id ${HEALTH_FIELDS} } }`;
const NODE_EVENTS = `subscription DashboardNodes { nodeChanged { kind state node { ${NODE_FIELDS} } } }`;
const BALANCER_EVENTS = `subscription DashboardBalancers { loadBalancerChanged { kind state loadBalancer { ${BALANCER_FIELDS} } } }`;

/** Node actions: the mutation, the capability the account needs, and the states it makes sense in. */
const ACTIONS = [
  { label: 'Start', mutation: 'startNode', capability: 'START_NODE', when: ['STOPPED', 'SUSPENDED', 'PAUSED'] },
  { label: 'Stop', mutation: 'stopNode', capability: 'STOP_NODE', when: ['RUNNING'] },
  { label: 'Reboot', mutation: 'rebootNode', capability: 'REBOOT_NODE', when: ['RUNNING'] },
];

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  viewer: null,
  accounts: new Map(),
  /** account id -> failures of the last full load ({ what, region, code, message }) */
  failures: new Map(),
  nodes: new Map(),
  balancers: new Map(),
  client: null,
};

const $ = (id) => document.getElementById(id);

class TokenRefused extends Error {}

/** One GraphQL request over HTTP; a 401 means the page needs a (new) token. */
async function gql(query, variables) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  const res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  if (res.status === 401) throw new TokenRefused('token refused');
  const body = await res.json();
  if (!body.data) throw new Error(body.errors?.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; ') || `HTTP ${res.status}`);
  return body;
}

function canWrite() {
  return state.viewer?.scope === 'WRITE' || state.viewer?.scope === 'DEPLOY';
}

function notice(text) {
  const p = $('notice');
  p.textContent = text ?? '';
  p.hidden = !text;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c);
  return node;
}

function badge(value) {
  return el('span', { class: `badge state-${String(value).toLowerCase()}` }, String(value));
}

// --- Loading ---

async function load() {
  const { data } = await gql(LOAD);
  state.viewer = data.viewer;
  state.accounts = new Map(data.accounts.map((a) => [a.id, a]));
  state.nodes = new Map(data.nodes.edges.map((e) => [e.node.id, e.node]));
  state.balancers = new Map(data.loadBalancers.edges.map((e) => [e.node.id, e.node]));
  state.failures = new Map();
  for (const [what, list] of [['nodes', data.nodes.failures], ['load balancers', data.loadBalancers.failures]]) {
    for (const f of list) {
      if (!state.failures.has(f.account)) state.failures.set(f.account, []);
      state.failures.get(f.account).push({ what, ...f });
    }
  }
  $('token-form').hidden = true;
  $('board').hidden = false;
  $('viewer').textContent = `${data.viewer.name} · ${data.viewer.scope.toLowerCase()}`;
  $('forget').hidden = !state.token;
  render();
}

async function refreshHealth() {
  try {
    const { data } = await gql(HEALTH);
    for (const a of data.accounts) {
      const known = state.accounts.get(a.id);
      if (!known) continue;
      known.health = a.health;
      // why: listing failures are from the last full load; an account that recovered has none left
      if (a.health.status === 'OK') state.failures.delete(a.id);
    }
    renderAccounts();
  } catch (err) {
    if (err instanceof TokenRefused) askToken('The token was refused.');
  }
}

// --- Live updates ---

function setLive(status, text) {
  const live = $('live');
  live.dataset.state = status;
  live.textContent = text;
}

function subscribe() {
  state.client?.dispose();
  const client = graphqlWs.createClient({
    url: wsEndpoint.href,
    connectionParams: () => (state.token ? { authorization: `Bearer ${state.token}` } : {}),
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: {
      connecting: () => setLive('connecting', 'connecting…'),
      connected: () => setLive('live', 'live'),
      closed: (event) => setLive('off', event?.code === 4403 ? 'token refused' : 'reconnecting…'),
    },
  });
  state.client = client;
  const sink = (apply) => ({
    next: ({ data, errors }) => {
      if (data) apply(data);
      else if (errors) notice(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
    },
    error: (err) => setLive('off', err?.message ? `error: ${err.message}` : 'disconnected'),
    complete: () => {},
  });
  client.subscribe({ query: NODE_EVENTS }, sink(({ nodeChanged: e }) => {
    if (e.kind === 'DELETED') state.nodes.delete(e.node.id);
    else state.nodes.set(e.node.id, e.node);
    renderNodes();
  }));
  client.subscribe({ query: BALANCER_EVENTS }, sink(({ loadBalancerChanged: e }) => {
    if (e.kind === 'DELETED') state.balancers.delete(e.loadBalancer.id);
    else state.balancers.set(e.loadBalancer.id, e.loadBalancer);
    renderBalancers();
  }));
}

// --- Actions ---

async function act(action, node, button) {
  button.disabled = true;
  try {
    const query = `mutation DashboardAction($id: ID!) { ${action.mutation}(input: { id: $id }) { node { ${NODE_FIELDS} } } }`;
    const body = await gql(query, { id: node.id });
    const changed = body.data?.[action.mutation]?.node;
    if (changed) state.nodes.set(changed.id, changed);
    if (body.errors?.length) notice(body.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
    else notice(`${action.label} ${node.name}: ${changed?.state ?? 'sent'}`);
    renderNodes();
  } catch (err) {
    if (err instanceof TokenRefused) return askToken('The token was refused.');
    notice(`${action.label} ${node.name} failed: ${err.message}`);
    button.disabled = false;
  }
}

// --- Rendering ---

function render() {
  renderAccounts();
  renderNodes();
  renderBalancers();
}

function renderAccounts() {
  const cards = [...state.accounts.values()].map((a) => {
    const status = a.health.status;
    const card = el('article', { class: `account health-${status.toLowerCase()}`, 'data-account': a.id },
      el('h3', {}, a.id, ' ', badge(status)),
      el('p', { class: 'provider' }, `${a.provider} (${a.driver}) · ${a.services.map((s) => s.toLowerCase()).join(', ')}`),
    );
    // why: one line per distinct error, naming where it was seen (health, and the lists that failed)
    const problems = new Map();
    const add = (where, { code, message }) => {
      const key = `${code}\n${message}`;
      if (!problems.has(key)) problems.set(key, { code, message, where: [] });
      problems.get(key).where.push(where);
    };
    if (status === 'FAILING' && a.health.lastError) add('last call', a.health.lastError);
    for (const f of state.failures.get(a.id) ?? []) add(f.region ? `${f.what} (${f.region})` : f.what, f);
    for (const p of problems.values()) {
      card.append(el('p', { class: 'failure' }, el('code', { class: 'code' }, p.code), ` ${p.message} `, el('span', { class: 'where' }, `(${p.where.join(', ')})`)));
    }
    return card;
  });
  $('accounts').replaceChildren(...cards);
}

function renderNodes() {
  const nodes = [...state.nodes.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  const rows = nodes.map((n) => {
    const account = state.accounts.get(n.account.id);
    const actions = el('td', { class: 'actions' });
    if (canWrite()) {
      for (const action of ACTIONS) {
        if (!account?.capabilities.includes(action.capability)) continue;
        const button = el('button', { type: 'button', class: `action action-${action.mutation}`, disabled: !action.when.includes(n.state), title: `${action.mutation} ${n.name}` }, action.label);
        button.addEventListener('click', () => act(action, n, button));
        actions.append(button);
      }
    }
    return el('tr', { 'data-id': n.id, 'data-name': n.name, 'data-account': n.account.id },
      el('td', { class: 'name' }, n.name),
      el('td', { class: 'state' }, badge(n.state)),
      el('td', {}, n.account.id),
      el('td', {}, n.region ?? '—'),
      el('td', { class: 'ips' }, n.publicIps.join(', ') || '—'),
      actions,
    );
  });
  $('nodes').tBodies[0].replaceChildren(...rows);
  $('nodes-empty').hidden = rows.length > 0;
  $('node-count').textContent = String(rows.length);
}

function renderBalancers() {
  const balancers = [...state.balancers.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  const rows = balancers.map((b) =>
    el('tr', { 'data-id': b.id, 'data-name': b.name },
      el('td', { class: 'name' }, b.name),
      el('td', { class: 'state' }, badge(b.state)),
      el('td', {}, b.account.id),
      el('td', {}, b.region ?? '—'),
      el('td', {}, b.ip ? `${b.ip}${b.port ? `:${b.port}` : ''}` : '—'),
      el('td', {}, b.protocol ?? '—'),
    ),
  );
  $('balancers').tBodies[0].replaceChildren(...rows);
  $('balancers-empty').hidden = rows.length > 0;
  $('lb-count').textContent = String(rows.length);
}

// --- Token ---

function askToken(message) {
  state.client?.dispose();
  state.client = null;
  setLive('off', 'offline');
  $('board').hidden = true;
  const form = $('token-form');
  form.hidden = false;
  form.querySelector('.error').textContent = message ?? '';
  form.querySelector('input').focus();
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  state.token = $('token').value.trim();
  sessionStorage.setItem(TOKEN_KEY, state.token);
  start();
});

$('forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  askToken();
});

async function start() {
  try {
    await load();
    notice(null);
    subscribe();
    // why: the load resolved the accounts' health alongside the lists; their outcome is in it now
    await refreshHealth();
  } catch (err) {
    if (err instanceof TokenRefused) {
      const had = state.token;
      sessionStorage.removeItem(TOKEN_KEY);
      state.token = null;
      askToken(had ? 'That token was refused.' : undefined);
    } else notice(`skygraph did not answer: ${err.message}`);
  }
}

setInterval(() => {
  if (!$('board').hidden) refreshHealth();
}, HEALTH_EVERY_MS);
start();
