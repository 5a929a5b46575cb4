/**
 * The command line: --help and --version, SKYGRAPH_LOG_LEVEL and --log-level, and the build
 * check `npm start` runs first (scripts/build.mjs --if-stale), on a copy of the build setup.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, parseLogLevel } from '../src/logger.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);
const MAIN = ['--import', 'tsx', path.join(ROOT, 'src/main.ts')];
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** Starts skygraph (tsx) on a free port; resolves with what it wrote to stderr until its listen line, then stops it. */
async function startupLog(env: Record<string, string>, args: string[] = []): Promise<string> {
  const data = mkdtempSync(path.join(tmpdir(), 'skygraph-cli-'));
  made.push(data);
  const child = spawn(process.execPath, [...MAIN, '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, SKYGRAPH_CONFIG: '', SKYGRAPH_DATA: data, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('/graphql')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`skygraph exited with ${code}: ${stderr}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  return stderr;
}

describe('cli', () => {
  it('--help lists every flag and environment variable', async () => {
    const { stdout } = await run(process.execPath, [...MAIN, '--help']);
    for (const flag of ['--port', '--host', '--config', '--log-level', '--help', '--version']) expect(stdout).toContain(flag);
    for (const name of ['PORT', 'SKYGRAPH_CONFIG', 'SKYGRAPH_DATA', 'SKYGRAPH_LOG_LEVEL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_SERVICE_NAME', 'OTEL_SDK_DISABLED', 'AWS_ACCESS_KEY_ID', 'OS_CLIENT_CONFIG_FILE']) {
      expect(stdout).toContain(name);
    }
    // every variable the sources read is listed
    const { stdout: grep } = await run('grep', ['-rhoE', String.raw`env(\.|\[')[A-Z][A-Z0-9_]+`, path.join(ROOT, 'src')]);
    const read = new Set(grep.split('\n').filter(Boolean).map((m) => m.replace(/^env(\.|\[')/, '')));
    expect(read.size).toBeGreaterThan(5);
    for (const name of read) if (name !== 'HOME') expect(stdout, name).toContain(name);
  });

  it('--version prints package.json\'s version', async () => {
    const { stdout } = await run(process.execPath, [...MAIN, '--version']);
    expect(stdout.trim()).toBe(pkg.version);
  });

  it('honours SKYGRAPH_LOG_LEVEL, and --log-level over it', async () => {
    expect(await startupLog({ SKYGRAPH_LOG_LEVEL: 'info' })).toContain('"msg":"skygraph listening"');
    expect(await startupLog({ SKYGRAPH_LOG_LEVEL: 'warn' })).not.toContain('skygraph listening');
    expect(await startupLog({ SKYGRAPH_LOG_LEVEL: 'WARN' })).not.toContain('skygraph listening');
    expect(await startupLog({ SKYGRAPH_LOG_LEVEL: 'error' }, ['--log-level', 'debug'])).toContain('"level":"info","msg":"skygraph listening"');
  });

  it('refuses a log level that names none, naming where it came from', async () => {
    const env = { ...process.env, SKYGRAPH_LOG_LEVEL: 'loud' };
    const failed = await run(process.execPath, [...MAIN, '--port', '0'], { env }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('SKYGRAPH_LOG_LEVEL');
    expect(failed?.stderr).toContain('debug, info, warn, error, silent');
  });

  it('parses levels strictly', () => {
    expect(parseLogLevel('Warning')).toBe('warn');
    expect(parseLogLevel(' debug ')).toBe('debug');
    expect(parseLogLevel('constructor')).toBeUndefined();
    expect(parseLogLevel('toString')).toBeUndefined();
    // a silent logger writes nothing, whatever the level of the line
    const write = process.stderr.write;
    let written = '';
    process.stderr.write = ((chunk: string) => ((written += chunk), true)) as typeof process.stderr.write;
    try {
      createLogger('silent').error('x');
      createLogger('warn').info('y');
      createLogger('warn').warn('z');
    } finally {
      process.stderr.write = write;
    }
    expect(written).not.toContain('"x"');
    expect(written).not.toContain('"msg":"y"');
    expect(written).toContain('"msg":"z"');
  });
});

describe('cli: npm start builds only when something changed', () => {
  // why: a copy of the real build setup (scripts/build.mjs, both tsconfigs, package.json) around a one-file src/
  const dir = mkdtempSync(path.join(tmpdir(), 'skygraph-build-'));
  made.push(dir);
  mkdirSync(path.join(dir, 'scripts'));
  mkdirSync(path.join(dir, 'src'));
  for (const f of ['scripts/build.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json']) cpSync(path.join(ROOT, f), path.join(dir, f));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'src/main.ts'), "export const answer: number = 42;\n");
  const build = async () => (await run(process.execPath, [path.join(dir, 'scripts/build.mjs'), '--if-stale'])).stderr;
  // why: the last build moved a minute back, so a file written now is newer, as after an edit
  const builtAMinuteAgo = () => utimesSync(path.join(dir, 'dist/.build-stamp'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));

  it('builds, then skips while nothing is newer than the last build', async () => {
    expect(await build()).toContain('built dist/');
    expect(readFileSync(path.join(dir, 'dist/main.js'), 'utf8')).toContain('answer = 42');
    expect(await build()).toBe('');
  });

  it('rebuilds after a source, a new file or a tsconfig changes', async () => {
    builtAMinuteAgo();
    writeFileSync(path.join(dir, 'src/main.ts'), "export const answer: number = 43;\n");
    expect(await build()).toContain('built dist/');
    expect(readFileSync(path.join(dir, 'dist/main.js'), 'utf8')).toContain('answer = 43');
    expect(await build()).toBe('');

    builtAMinuteAgo();
    mkdirSync(path.join(dir, 'src/more'));
    writeFileSync(path.join(dir, 'src/more/extra.ts'), 'export const extra = 1;\n');
    expect(await build()).toContain('built dist/');
    expect(existsSync(path.join(dir, 'dist/more/extra.js'))).toBe(true);

    builtAMinuteAgo();
    utimesSync(path.join(dir, 'tsconfig.build.json'), new Date(), new Date());
    expect(await build()).toContain('built dist/');
    expect(await build()).toBe('');

    // a file that is not TypeScript (the dashboard's, served as they are) needs no build
    const folder = statSync(path.join(dir, 'src/more')).mtime;
    writeFileSync(path.join(dir, 'src/more/page.js'), 'export {};\n');
    // why: an edit in place leaves the folder's mtime as it was; writing a new file here did not
    utimesSync(path.join(dir, 'src/more'), folder, folder);
    expect(await build()).toBe('');
  });

  it('rebuilds a deleted dist/main.js even though tsc\'s build info says all is done', async () => {
    rmSync(path.join(dir, 'dist/main.js'));
    expect(await build()).toContain('built dist/');
    expect(existsSync(path.join(dir, 'dist/main.js'))).toBe(true);
  });
});
