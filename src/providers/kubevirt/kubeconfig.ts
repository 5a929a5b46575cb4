/**
 * Which cluster, namespace and credentials a kubevirt account means: a kubeconfig file (its
 * current-context, or options.context) with explicit endpoint, credentials and options winning
 * over it field by field, as kubectl's flags win over its kubeconfig. Problems name the field
 * (`options.kubeconfig: users[0].user.exec ...`), never a value.
 *
 * https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import type { TlsSources } from '../http/tls.ts';
import type { AccountConfig } from '../types.ts';

/** What the driver connects with. */
export interface KubeTarget {
  /** the API server URL (may carry a path prefix, e.g. a Rancher proxy) */
  server: string;
  namespace: string;
  /** the kubeconfig context used, when there was one */
  context: string | undefined;
  /** the kubeconfig cluster used, when there was one */
  cluster: string | undefined;
  tls: TlsSources;
  /** a bearer token, or a file holding one (re-read as it rotates) */
  token: { value: string } | { file: string; field: string } | undefined;
}

/** Option keys naming files (kubeconfig's client-certificate, client-key, certificate-authority). */
export const FILE_OPTIONS = ['clientCertificate', 'clientKey', 'certificateAuthority', 'tokenFile'] as const;
/** Credential keys: a token, or base64 PEM as in kubeconfig `*-data`. */
export const CREDENTIAL_KEYS = ['token', 'clientCertificateData', 'clientKeyData', 'certificateAuthorityData'] as const;

type Json = Record<string, unknown>;

/** Resolves an account to its target, or the problems that stop it. Reads the kubeconfig file synchronously. */
export function resolveKubeTarget(account: AccountConfig): { target?: KubeTarget; problems: string[] } {
  const problems: string[] = [];
  const opt = (key: string): string | undefined => (typeof account.options[key] === 'string' && account.options[key] !== '' ? (account.options[key] as string) : undefined);
  const cred = (key: string): string | undefined => (account.credentials[key] !== undefined && account.credentials[key] !== '' ? account.credentials[key] : undefined);

  let cluster: Json = {};
  let user: Json = {};
  let kubeNamespace: string | undefined;
  let contextName: string | undefined;
  let clusterName: string | undefined;
  let base = process.cwd();
  const kubeconfigPath = opt('kubeconfig');
  if (kubeconfigPath !== undefined) {
    const path = expandHome(kubeconfigPath);
    base = dirname(path);
    const loaded = loadKubeconfig(path, opt('context'), problems);
    // why: without the file, every later check would only repeat that it is missing
    if (!loaded) return { problems };
    ({ cluster, user, clusterName } = loaded);
    kubeNamespace = loaded.namespace;
    contextName = loaded.context;
  } else if (opt('context') !== undefined) {
    problems.push('options.context needs options.kubeconfig');
  }
  const k = (o: Json, key: string) => (typeof o[key] === 'string' && o[key] !== '' ? (o[key] as string) : undefined);
  const kubePath = (o: Json, key: string) => {
    const v = k(o, key);
    return v === undefined ? undefined : isAbsolute(v) ? v : resolve(base, expandHome(v));
  };

  const server = account.endpoint ?? k(cluster, 'server');
  if (server === undefined) problems.push(kubeconfigPath ? 'options.kubeconfig: the cluster has no server; set endpoint' : 'endpoint is required without options.kubeconfig (the Kubernetes API server URL)');
  else if (!URL.canParse(server) || !/^https?:$/.test(new URL(server).protocol)) problems.push(account.endpoint ? 'endpoint must be an http(s) URL' : 'options.kubeconfig: the cluster server must be an http(s) URL');

  const source = (dataField: string, dataValue: string | undefined, fileField: string, fileValue: string | undefined) =>
    dataValue === undefined && fileValue === undefined ? undefined : { data: dataValue, file: fileValue, dataField, fileField };
  const fromKube = (field: string) => `options.kubeconfig: ${field}`;
  // why: an explicit value replaces the kubeconfig's, whichever form (file or data) each one has
  const pick = (dataKey: string, fileKey: string, kube: Json, kubeKey: string) => {
    const file = opt(fileKey);
    const explicit = source(`credentials.${dataKey}`, cred(dataKey), `options.${fileKey}`, file === undefined ? undefined : expandHome(file));
    return explicit ?? source(fromKube(`${kubeKey}-data`), k(kube, `${kubeKey}-data`), fromKube(kubeKey), kubePath(kube, kubeKey));
  };
  const tls: TlsSources = {
    cert: pick('clientCertificateData', 'clientCertificate', user, 'client-certificate'),
    key: pick('clientKeyData', 'clientKey', user, 'client-key'),
    ca: pick('certificateAuthorityData', 'certificateAuthority', cluster, 'certificate-authority'),
    servername: opt('tlsServerName') ?? k(cluster, 'tls-server-name'),
    insecureSkipVerify: account.options.insecureSkipTlsVerify === true || (account.options.insecureSkipTlsVerify === undefined && cluster['insecure-skip-tls-verify'] === true),
  };
  if ((tls.cert === undefined) !== (tls.key === undefined)) problems.push('a client certificate needs its key, and a key its certificate (clientCertificate[Data] with clientKey[Data])');

  const tokenFile = opt('tokenFile') ?? kubePath(user, 'tokenFile');
  const tokenValue = cred('token') ?? k(user, 'token');
  const token = tokenValue !== undefined ? { value: tokenValue } : tokenFile !== undefined ? { file: expandHome(tokenFile), field: opt('tokenFile') ? 'options.tokenFile' : fromKube('tokenFile') } : undefined;
  if (!token && !tls.cert) {
    const plugin = ['exec', 'auth-provider'].find((key) => user[key] !== undefined);
    problems.push(
      plugin
        ? `options.kubeconfig: the user's ${plugin} credential plugin is not supported; give a token or a client certificate`
        : 'credentials: give a token, a client certificate (clientCertificateData + clientKeyData, or options.clientCertificate + options.clientKey) or a kubeconfig user with one',
    );
  }
  if (server !== undefined && URL.canParse(server) && new URL(server).protocol === 'http:' && (tls.cert || tls.ca)) {
    problems.push('endpoint uses http, where client certificates and CA bundles do not apply');
  }

  const namespace = opt('namespace') ?? kubeNamespace ?? 'default';
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) problems.push('options.namespace must be a Kubernetes namespace name (lower-case letters, digits and "-", at most 63)');
  if (problems.length > 0 || server === undefined) return { problems };
  return { problems, target: { server, namespace, context: contextName, cluster: clusterName, tls, token } };
}

/** `~/x` -> `<home>/x`, as kubectl reads paths. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
}

// --- Internal helpers ---

function loadKubeconfig(
  path: string,
  wantedContext: string | undefined,
  problems: string[],
): { cluster: Json; clusterName: string | undefined; user: Json; namespace: string | undefined; context: string | undefined } | undefined {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(code ? `options.kubeconfig cannot be read (${code})` : 'options.kubeconfig is not YAML');
    return undefined;
  }
  if (!isObj(doc)) {
    problems.push('options.kubeconfig is not a kubeconfig (a mapping with clusters, contexts and users)');
    return undefined;
  }
  const named = (list: string, name: string | undefined, inner: string): Json | undefined => {
    if (name === undefined) return undefined;
    const entries = Array.isArray(doc[list]) ? (doc[list] as unknown[]) : [];
    const hit = entries.find((e) => isObj(e) && e.name === name);
    return isObj(hit) && isObj(hit[inner]) ? hit[inner] : undefined;
  };
  const contextName = wantedContext ?? (typeof doc['current-context'] === 'string' && doc['current-context'] !== '' ? doc['current-context'] : undefined);
  if (contextName === undefined) {
    problems.push('options.kubeconfig has no current-context; set options.context');
    return undefined;
  }
  const context = named('contexts', contextName, 'context');
  if (!context) {
    problems.push(wantedContext !== undefined ? 'options.context names no context of options.kubeconfig' : 'options.kubeconfig: current-context names no context');
    return undefined;
  }
  const clusterName = typeof context.cluster === 'string' ? context.cluster : undefined;
  const cluster = named('clusters', clusterName, 'cluster');
  if (!cluster) problems.push('options.kubeconfig: the context names no cluster of the file');
  const userName = typeof context.user === 'string' ? context.user : undefined;
  const user = named('users', userName, 'user') ?? {};
  return {
    cluster: cluster ?? {},
    clusterName,
    user,
    namespace: typeof context.namespace === 'string' && context.namespace !== '' ? context.namespace : undefined,
    context: contextName,
  };
}

function isObj(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
