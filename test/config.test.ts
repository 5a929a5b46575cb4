import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, findConfigFile, loadConfig } from '../src/config/index.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'skygraph-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function problems(text: string, env: Record<string, string> = {}, name = 'skygraph.yaml'): Promise<ConfigError> {
  const file = write(name, text);
  try {
    await loadConfig(file, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('config was accepted');
}

describe('config', () => {
  it('runs the embedded default without a file: accounts sandbox and local', async () => {
    expect(findConfigFile(undefined, {}, dir)).toBeUndefined();
    const config = await loadConfig(undefined, {});
    expect(config.accounts.map((a) => [a.id, a.driver])).toEqual([
      ['sandbox', 'sandbox'],
      ['local', 'local'],
    ]);
    expect(config.source).toBe('<embedded default>');
  });

  it('finds SKYGRAPH_CONFIG, then ./skygraph.yaml', () => {
    const file = write('skygraph.yaml', 'accounts: []');
    expect(findConfigFile(undefined, {}, dir)).toBe(file);
    expect(findConfigFile(undefined, { SKYGRAPH_CONFIG: file }, '/')).toBe(file);
    expect(() => findConfigFile('missing.yaml', {}, dir)).toThrow(/missing\.yaml.*file not found/s);
  });

  it('interpolates ${ENV} and reads JSON as well as YAML', async () => {
    const file = write('c.json', JSON.stringify({ accounts: [{ id: 'demo', driver: 'sandbox', options: { latencyMs: 5 }, endpoint: '${EP:-https://example.com/}', credentials: { token: '${TOKEN}' } }] }));
    const config = await loadConfig(file, { TOKEN: 's3cr3t-value' });
    expect(config.accounts[0]!.credentials.token).toBe('s3cr3t-value');
    expect(config.accounts[0]!.endpoint).toBe('https://example.com/');
  });

  it('names the file, the account and the field, and never prints a secret', async () => {
    const err = await problems(
      [
        'accounts:',
        '  - id: good',
        '    driver: sandbox',
        '  - id: bad-driver',
        '    driver: nimbus',
        '    credentials: { password: hunter2-very-secret }',
        '  - id: bad-options',
        '    driver: sandbox',
        '    options: { latencyMs: -5 }',
        '  - id: good',
        '    driver: local',
        '  - id: poll',
        '    driver: sandbox',
        '    pollIntervalMs: 10',
        '  - id: insecure',
        '    driver: sandbox',
        '    endpoint: http://cloud.example.com/',
        '  - id: missing-env',
        '    driver: sandbox',
        '    credentials: { key: "${NOT_SET_ANYWHERE}" }',
      ].join('\n'),
    );
    const text = err.message;
    expect(text).toContain(path.join(dir, 'skygraph.yaml'));
    expect(text).toMatch(/accounts\[1\] \(id "bad-driver"\): field "driver" "nimbus" is not a known driver/);
    expect(text).toMatch(/accounts\[2\] \(id "bad-options"\): .*options\.latencyMs/);
    expect(text).toMatch(/accounts\[3\] \(id "good"\): duplicate account id/);
    expect(text).toMatch(/accounts\[4\] \(id "poll"\): field "pollIntervalMs" must be an integer of at least 250/);
    expect(text).toMatch(/accounts\[5\] \(id "insecure"\): field "endpoint" uses http for a non-local host/);
    expect(text).toMatch(/accounts\[6\]\.credentials\.key: environment variable NOT_SET_ANYWHERE is not set/);
    expect(text).not.toContain('hunter2');
  });

  it('takes maxConcurrency per account (default 16), naming the file, account and field when it is wrong', async () => {
    const ok = await loadConfig(write('slots.yaml', 'accounts:\n  - { id: a, driver: sandbox }\n  - { id: b, driver: sandbox, maxConcurrency: 4 }\n'), {});
    expect(ok.accounts.map((a) => a.maxConcurrency)).toEqual([16, 4]);
    const err = await problems(
      ['accounts:', '  - { id: zero, driver: sandbox, maxConcurrency: 0 }', '  - { id: huge, driver: sandbox, maxConcurrency: 5000 }', '  - { id: text, driver: sandbox, maxConcurrency: "8" }'].join('\n'),
      {},
      'slots-bad.yaml',
    );
    expect(err.message).toContain(path.join(dir, 'slots-bad.yaml'));
    for (const [i, id] of ['zero', 'huge', 'text'].entries()) {
      expect(err.message).toContain(`accounts[${i}] (id "${id}"): field "maxConcurrency" must be an integer from 1 to 1024 (upstream requests open at once)`);
    }
  });

  it('does not quote the offending line of a broken YAML file', async () => {
    const err = await problems('accounts:\n  - id: x\n    credentials: { password: "unterminated-secret\n');
    expect(err.message).toMatch(/not valid YAML/);
    expect(err.message).not.toContain('unterminated-secret');
  });

  it('rejects an unknown top-level field and a bad pubsub URL', async () => {
    const err = await problems('acounts: []\npubsub: http://nope\n');
    expect(err.message).toMatch(/unknown top-level field "acounts"/);
    expect(err.message).toMatch(/field "accounts" must be a non-empty list/);
    expect(err.message).toMatch(/field "pubsub" must be a redis:\/\/ URL/);
  });
});
