/**
 * A strict mutual-TLS server on 127.0.0.1: `openssl s_server` requiring a client certificate signed
 * by the given CA (-Verify 1 -verify_return_error), answering GET /ok.txt with 200. A real OpenSSL
 * server sends the TLS alerts (certificate required, unknown CA) that nginx, Apache or Envoy send.
 * It serves one connection at a time, which is enough for sequential tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const STRICT_TLS_BODY = 'hello over mutual TLS\n';

export interface StrictTlsServer {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** ends the process and removes its dir; safe to call twice */
  stop(): Promise<void>;
}

export async function startStrictTlsServer(opts: { certFile: string; keyFile: string; clientCaFile: string; version: 'tls1_2' | 'tls1_3'; dir: string }): Promise<StrictTlsServer> {
  const root = await mkdtemp(join(opts.dir, 'www-'));
  await writeFile(join(root, 'ok.txt'), `HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n${STRICT_TLS_BODY}`);
  const args = ['s_server', '-accept', '127.0.0.1:0', '-cert', opts.certFile, '-key', opts.keyFile, '-CAfile', opts.clientCaFile, '-Verify', '1', '-verify_return_error', '-HTTP', `-${opts.version}`];
  const child: ChildProcess = spawn('openssl', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(root, { recursive: true, force: true });
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /ACCEPT [^\n]*:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.once('exit', (code) => reject(new Error(`openssl s_server exited with ${code}: ${err}`)));
      setTimeout(() => reject(new Error(`openssl s_server did not start: ${err}`)), 10_000).unref();
    });
    return { url: `https://127.0.0.1:${port}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
