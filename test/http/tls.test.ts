/**
 * X.509 client certificates through the connection layer against a real OpenSSL server that
 * requires and verifies one (certificates made at test time in a temp dir).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, ConnectionFailedError, InvalidInputError, SkygraphError } from '../../src/providers/errors.ts';
import { createConnection, type Connection } from '../../src/providers/http/connection.ts';
import { loadClientTls, type ClientTlsOptions } from '../../src/providers/http/tls.ts';
import { createPki, type Issued, type TestCa, type TestPki } from '../helpers/pki.ts';
import { STRICT_TLS_BODY, startStrictTlsServer, type StrictTlsServer } from '../helpers/tls-server.ts';
import { instantSleep } from './support.ts';

let pki: TestPki;
let serverCa: TestCa;
let clientCa: TestCa;
let alice: Issued;
let mallory: Issued;
let server: Issued;
let namedServer: Issued;

beforeAll(async () => {
  pki = await createPki();
  [serverCa, clientCa] = await Promise.all([pki.createCa('server-ca'), pki.createCa('client-ca')]);
  const otherCa = await pki.createCa('other-ca');
  [alice, mallory, server, namedServer] = await Promise.all([
    clientCa.issue('alice'),
    otherCa.issue('alice'),
    serverCa.issue('server', { server: true }),
    serverCa.issue('kube', { server: true, sans: ['DNS:kube.internal'] }),
  ]);
}, 30_000);
afterAll(async () => {
  await pki?.cleanup();
});

/** Every key's base64 body, which must never show in an error. */
const keyBodies = () => [alice, mallory, server, namedServer].map((i) => i.key.split('\n')[1]!);
function expectNoKeyIn(err: unknown) {
  let text = '';
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) text += `${e.message}\n${e.stack}\n${JSON.stringify(e)}\n`;
  for (const body of keyBodies()) expect(text).not.toContain(body);
}

for (const version of ['tls1_3', 'tls1_2'] as const) {
  describe(`http: mutual TLS (${version})`, () => {
    let strict: StrictTlsServer;
    const conns: Connection[] = [];
    beforeAll(async () => {
      strict = await startStrictTlsServer({ certFile: server.certFile, keyFile: server.keyFile, clientCaFile: clientCa.certFile, version, dir: pki.dir });
    });
    afterAll(async () => {
      for (const c of conns) await c.close();
      await strict?.stop();
    });
    const connect = (tls: ClientTlsOptions, url = strict.url) => {
      const calls: string[] = [];
      const conn = createConnection({ provider: 'tls-test', baseUrl: url, tls, sleep: instantSleep().sleep, recordCall: (op) => calls.push(op) });
      conns.push(conn);
      return { conn, calls };
    };

    it('the right client certificate gets 200', async () => {
      const { conn } = connect({ cert: alice.cert, key: alice.key, ca: serverCa.cert });
      const res = await conn.request<string>({ operation: 'GetOk', path: 'ok.txt', responseType: 'text' });
      expect(res.status).toBe(200);
      expect(res.body).toBe(STRICT_TLS_BODY);
    });

    it('no client certificate is an AuthenticationError, not retried', async () => {
      const { conn, calls } = connect({ ca: serverCa.cert });
      const err = await conn.request({ operation: 'GetOk', path: 'ok.txt', responseType: 'text' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthenticationError);
      expect((err as SkygraphError).message).toMatch(/^\[tls-test\] GetOk: the server refused the TLS client certificate, or its absence \(ERR_SSL_\w+_ALERT_(CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE)\)$/);
      expect((err as SkygraphError).retryable).toBe(false);
      expect(calls).toHaveLength(1);
      expectNoKeyIn(err);
    });

    it('a certificate from another CA is an AuthenticationError (unknown CA), and the error holds no key', async () => {
      const { conn, calls } = connect({ cert: mallory.cert, key: mallory.key, ca: serverCa.cert });
      const err = await conn.request({ operation: 'GetOk', path: 'ok.txt', responseType: 'text' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthenticationError);
      expect((err as Error).message).toContain('ALERT_UNKNOWN_CA');
      expect(calls).toHaveLength(1);
      expectNoKeyIn(err);
    });

    it("a server certificate the CA bundle does not vouch for is a ConnectionFailedError that is not retried", async () => {
      const { conn, calls } = connect({ cert: alice.cert, key: alice.key, ca: clientCa.cert });
      const err = await conn.request({ operation: 'GetOk', path: 'ok.txt' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionFailedError);
      expect(err).toMatchObject({ retryable: false });
      expect((err as Error).message).toContain('(UNABLE_TO_VERIFY_LEAF_SIGNATURE); check the CA bundle and server name');
      expect(calls).toHaveLength(1);
      expectNoKeyIn(err);
    });
  });
}

describe('http: TLS server name and loading', () => {
  let strict: StrictTlsServer;
  const conns: Connection[] = [];
  beforeAll(async () => {
    strict = await startStrictTlsServer({ certFile: namedServer.certFile, keyFile: namedServer.keyFile, clientCaFile: clientCa.certFile, version: 'tls1_3', dir: pki.dir });
  });
  afterAll(async () => {
    for (const c of conns) await c.close();
    await strict?.stop();
  });

  it('servername checks the certificate against that name instead of the URL host', async () => {
    const base = { cert: alice.cert, key: alice.key, ca: serverCa.cert };
    const named = createConnection({ provider: 'tls-test', baseUrl: strict.url, tls: { ...base, servername: 'kube.internal' } });
    const unnamed = createConnection({ provider: 'tls-test', baseUrl: strict.url, tls: base, sleep: instantSleep().sleep });
    conns.push(named, unnamed);
    expect((await named.request({ operation: 'GetOk', path: 'ok.txt', responseType: 'text' })).status).toBe(200);
    const err = await unnamed.request({ operation: 'GetOk', path: 'ok.txt' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionFailedError);
    expect((err as Error).message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('loads files or base64 data (data wins), and the loaded options reach the server', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const fromFiles = await loadClientTls(
      {
        cert: { file: alice.certFile, fileField: 'options.certFile', dataField: 'credentials.certData' },
        key: { file: alice.keyFile, fileField: 'options.keyFile', dataField: 'credentials.keyData' },
        ca: { file: serverCa.certFile, fileField: 'options.caFile', dataField: 'credentials.caData' },
        servername: 'kube.internal',
      },
      'tls-test',
    );
    expect(fromFiles).toEqual({ cert: alice.cert, key: alice.key, ca: serverCa.cert, servername: 'kube.internal' });
    const fromData = await loadClientTls(
      {
        cert: { file: mallory.certFile, data: b64(alice.cert), fileField: 'options.certFile', dataField: 'credentials.certData' },
        key: { data: b64(alice.key), fileField: 'options.keyFile', dataField: 'credentials.keyData' },
        ca: { data: b64(serverCa.cert), fileField: 'options.caFile', dataField: 'credentials.caData' },
        servername: 'kube.internal',
      },
      'tls-test',
    );
    expect(fromData).toEqual(fromFiles);
    const conn = createConnection({ provider: 'tls-test', baseUrl: strict.url, tls: fromData });
    conns.push(conn);
    expect((await conn.request({ operation: 'GetOk', path: 'ok.txt', responseType: 'text' })).status).toBe(200);
  });

  it('bad material is an InvalidInputError naming the field, never holding the key', async () => {
    const field = (src: Parameters<typeof loadClientTls>[0]) => loadClientTls(src, 'tls-test').then(() => undefined, (e: unknown) => e);
    const certFrom = (file: string) => ({ file, fileField: 'options.certFile', dataField: 'credentials.certData' });
    const keyFrom = (file: string) => ({ file, fileField: 'options.keyFile', dataField: 'credentials.keyData' });
    const cases: [Parameters<typeof loadClientTls>[0], string][] = [
      [{ cert: certFrom(alice.certFile), key: keyFrom(mallory.keyFile) }, '[tls-test] options.keyFile does not match the client certificate'],
      [{ cert: certFrom(alice.certFile) }, '[tls-test] tls.key is required with a client certificate'],
      [{ cert: certFrom(alice.certFile), key: keyFrom(join(pki.dir, 'missing.key')) }, '[tls-test] options.keyFile cannot be read (ENOENT)'],
      [{ cert: certFrom(alice.certFile), key: { data: 'bm90IHBlbQ==', fileField: 'options.keyFile', dataField: 'credentials.keyData' } }, '[tls-test] credentials.keyData is not base64 of PEM text'],
    ];
    const garbled = join(pki.dir, 'garbled.key');
    await writeFile(garbled, alice.key.replace(/\n[A-Za-z0-9+/]{8}/, '\n!!!!!!!!'));
    cases.push([{ cert: certFrom(alice.certFile), key: keyFrom(garbled) }, '[tls-test] options.keyFile is not an unencrypted PEM private key']);
    for (const [src, message] of cases) {
      const err = await field(src);
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as Error).message).toBe(message);
      expectNoKeyIn(err);
    }
    expect(() => createConnection({ provider: 'tls-test', baseUrl: 'http://127.0.0.1:1', tls: { ca: serverCa.cert } })).toThrow(/TLS options need an https baseUrl/);
    expect(() => createConnection({ provider: 'tls-test', baseUrl: strict.url, tls: { cert: alice.cert, key: mallory.key } })).toThrow('[tls-test] tls.key does not match the client certificate');
  });
});
