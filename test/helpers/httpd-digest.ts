/**
 * A real Apache httpd with mod_auth_digest on 127.0.0.1 (scripts/httpd-digest-start.sh): its own
 * temp dir holding httpd.conf, the htdigest file, the document root and logs, on a free port.
 * The system apache2 service is never touched.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../scripts/', import.meta.url));

/** One line of the httpd's access log. */
export interface DigestLogLine {
  status: number;
  method: string;
  path: string;
  /** the Authorization header as httpd received it, or undefined */
  authorization: string | undefined;
  /** the WWW-Authenticate header httpd answered, or undefined */
  challenge: string | undefined;
}

export interface DigestHttpd {
  /** `http://127.0.0.1:<port>` */
  url: string;
  realm: string;
  dir: string;
  /** the access log so far (httpd writes a line once the response is sent) */
  log(): Promise<DigestLogLine[]>;
  /** stops httpd and removes the temp dir; safe to call twice */
  stop(): Promise<void>;
}

export async function startDigestHttpd(user: string, password: string, realm = 'skygraph-test'): Promise<DigestHttpd> {
  const dir = await mkdtemp(join(tmpdir(), 'skygraph-httpd-'));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await run('bash', [join(SCRIPTS, 'httpd-digest-stop.sh'), dir]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const { stdout } = await run('bash', [join(SCRIPTS, 'httpd-digest-start.sh'), dir], {
      env: { ...process.env, DIGEST_USER: user, DIGEST_PASSWORD: password, DIGEST_REALM: realm },
    });
    const port = Number(stdout.trim().split('\n').at(-1));
    return {
      url: `http://127.0.0.1:${port}`,
      realm,
      dir,
      async log() {
        const text = await readFile(join(dir, 'access.log'), 'utf8');
        return text
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const m = /^(\d{3}) (\S+) (\S+) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/.exec(line);
            if (!m) throw new Error(`unexpected access.log line: ${line}`);
            const field = (v: string) => (v === '-' ? undefined : v.replace(/\\"/g, '"'));
            return { status: Number(m[1]), method: m[2]!, path: m[3]!, authorization: field(m[4]!), challenge: field(m[5]!) };
          });
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A parameter of a Digest Authorization header (quoted or not). */
export function digestParam(header: string | undefined, name: string): string | undefined {
  const m = new RegExp(`(?:^|[\\s,])${name}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^,\\s]+))`).exec(header ?? '');
  return m ? (m[1] ?? m[2]) : undefined;
}
