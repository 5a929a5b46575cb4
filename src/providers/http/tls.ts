/**
 * TLS settings of a connection: an X.509 client certificate (mutual TLS authentication), the CA
 * bundle that signs the server's certificate, and the name to expect on it. A small loader takes
 * them from files named in the config or from inline base64 PEM (kubeconfig `*-data` fields) and
 * checks them once, so a bad key is an InvalidInputError naming the field, not a failure on the
 * first request. No message ever holds PEM text or a path's contents.
 */
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { InvalidInputError } from '../errors.ts';

/** What the connection's sockets use. PEM text. */
export interface ClientTlsOptions {
  /** client certificate chain, PEM; needs `key` */
  cert?: string | undefined;
  /** the client certificate's private key, PEM (never logged or echoed) */
  key?: string | undefined;
  /** CA certificates trusted for the server, PEM; default: Node's bundled roots */
  ca?: string | undefined;
  /** name checked against the server certificate (and sent as SNI) instead of the URL's host */
  servername?: string | undefined;
  /** false skips verifying the server certificate (kubeconfig insecure-skip-tls-verify); default true */
  rejectUnauthorized?: boolean | undefined;
}

/** One item of PEM material: a file path, or base64 of the PEM text (kubeconfig `*-data`), with the field names to blame. */
export interface PemSource {
  file?: string | undefined;
  data?: string | undefined;
  /** e.g. `options.certFile` */
  fileField: string;
  /** e.g. `credentials.clientCertificateData` */
  dataField: string;
}

/** Where each item comes from; `data` wins over `file` when both are set, as kubectl does. */
export interface TlsSources {
  cert?: PemSource | undefined;
  key?: PemSource | undefined;
  ca?: PemSource | undefined;
  servername?: string | undefined;
  insecureSkipVerify?: boolean | undefined;
}

/** Reads and checks the TLS material; throws InvalidInputError naming the field at fault. */
export async function loadClientTls(sources: TlsSources, provider: string): Promise<ClientTlsOptions> {
  const [cert, key, ca] = await Promise.all([readPem(sources.cert, provider), readPem(sources.key, provider), readPem(sources.ca, provider)]);
  const tls: ClientTlsOptions = { cert: cert?.pem, key: key?.pem, ca: ca?.pem, servername: sources.servername };
  if (sources.insecureSkipVerify) tls.rejectUnauthorized = false;
  checkClientTls(tls, provider, { cert: cert?.field, key: key?.field, ca: ca?.field });
  return tls;
}

/**
 * Checks PEM text by building a TLS context from it: a certificate without its key, a key that
 * does not match, or text that is not PEM is an InvalidInputError naming the field (never its value).
 */
export function checkClientTls(tls: ClientTlsOptions, provider: string, fields: { cert?: string | undefined; key?: string | undefined; ca?: string | undefined } = {}): void {
  const certField = fields.cert ?? 'tls.cert';
  const keyField = fields.key ?? 'tls.key';
  const caField = fields.ca ?? 'tls.ca';
  const fail = (field: string, message: string) => new InvalidInputError(`${field} ${message}`, { provider, field });
  if (tls.cert !== undefined && tls.key === undefined) throw fail(keyField, 'is required with a client certificate');
  if (tls.key !== undefined && tls.cert === undefined) throw fail(certField, 'is required with a client key');
  if (tls.servername !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(tls.servername)) throw fail('servername', 'must be a DNS name');
  const attempt = (field: string, make: () => void, what: string) => {
    try {
      make();
    } catch {
      // why: OpenSSL's message is generic and the input is secret; name the field and what was expected
      throw fail(field, what);
    }
  };
  if (tls.ca !== undefined) attempt(caField, () => createSecureContext({ ca: tls.ca }), 'is not a PEM CA certificate bundle');
  if (tls.cert !== undefined && tls.key !== undefined) {
    attempt(certField, () => createSecureContext({ cert: tls.cert }), 'is not a PEM certificate');
    attempt(keyField, () => createSecureContext({ key: tls.key }), 'is not an unencrypted PEM private key');
    attempt(keyField, () => createSecureContext({ cert: tls.cert, key: tls.key }), 'does not match the client certificate');
  }
}

// --- Internal helpers ---

async function readPem(source: PemSource | undefined, provider: string): Promise<{ pem: string; field: string } | undefined> {
  if (!source) return undefined;
  if (source.data !== undefined && source.data !== '') {
    const text = Buffer.from(source.data, 'base64').toString('utf8');
    if (!text.includes('-----BEGIN ')) throw new InvalidInputError(`${source.dataField} is not base64 of PEM text`, { provider, field: source.dataField });
    return { pem: text, field: source.dataField };
  }
  if (source.file !== undefined && source.file !== '') {
    let text: string;
    try {
      text = await readFile(source.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new InvalidInputError(`${source.fileField} cannot be read (${code})`, { provider, field: source.fileField });
    }
    if (!text.includes('-----BEGIN ')) throw new InvalidInputError(`${source.fileField} does not hold PEM text`, { provider, field: source.fileField });
    return { pem: text, field: source.fileField };
  }
  return undefined;
}
