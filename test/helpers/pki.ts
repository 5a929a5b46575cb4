/**
 * Throwaway X.509 material for TLS tests, made at test time with the openssl CLI in a temp dir:
 * CAs, server certificates (with IP/DNS SANs) and client certificates (CN = user, O = groups).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM text of a certificate and its private key, and where they were written. */
export interface Issued {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export interface TestCa extends Issued {
  name: string;
  /** a certificate signed by this CA; `server` adds serverAuth and the SANs, otherwise clientAuth */
  issue(name: string, opts?: { server?: boolean; sans?: string[]; organization?: string }): Promise<Issued>;
}

export interface TestPki {
  dir: string;
  createCa(name: string): Promise<TestCa>;
  /** removes the temp dir */
  cleanup(): Promise<void>;
}

export async function createPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'skygraph-pki-'));
  let serial = 0;
  const files = async (base: string): Promise<Issued> => ({
    cert: await readFile(`${base}.crt`, 'utf8'),
    key: await readFile(`${base}.key`, 'utf8'),
    certFile: `${base}.crt`,
    keyFile: `${base}.key`,
  });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  return {
    dir,
    async createCa(name) {
      const base = join(dir, `ca-${name}`);
      await run('openssl', [
        'req', '-x509', ...ecKey, '-keyout', `${base}.key`, '-out', `${base}.crt`, '-days', '2', '-subj', `/CN=${name}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      ]);
      const ca = await files(base);
      return {
        ...ca,
        name,
        async issue(leaf, opts = {}) {
          const out = join(dir, `${name}-${leaf}-${++serial}`);
          const subject = `/CN=${leaf}${opts.organization ? `/O=${opts.organization}` : ''}`;
          await run('openssl', ['req', ...ecKey, '-keyout', `${out}.key`, '-out', `${out}.csr`, '-subj', subject]);
          const ext = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment'];
          if (opts.server) ext.push('extendedKeyUsage=serverAuth', `subjectAltName=${(opts.sans ?? ['IP:127.0.0.1']).join(',')}`);
          else ext.push('extendedKeyUsage=clientAuth');
          await writeFile(`${out}.ext`, `${ext.join('\n')}\n`);
          await run('openssl', [
            'x509', '-req', '-in', `${out}.csr`, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(Date.now() * 100 + serial),
            '-days', '2', '-out', `${out}.crt`, '-extfile', `${out}.ext`,
          ]);
          return files(out);
        },
      };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
