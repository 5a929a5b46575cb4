import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveAwsCredentials, parseIni } from '../../src/providers/aws/credentials.ts';
import { AWS_REGIONS } from '../../src/providers/aws/regions.ts';
import { AuthenticationError } from '../../src/providers/errors.ts';
import type { AccountConfig } from '../../src/providers/types.ts';

const SECRETS = ['AKIDCONFIG', 'config-secret', 'AKIDENV', 'env-secret', 'env-token', 'AKIDFILE', 'file-secret', 'file-token', 'AKIDDEV', 'dev-secret'];

function account(credentials: Record<string, string> = {}, options: Record<string, unknown> = {}): AccountConfig {
  return {
    id: 'acct-1',
    driver: 'ec2',
    regions: [],
    credentials,
    options,
    pollIntervalMs: 30_000,
    timeoutMs: 10_000,
  };
}

async function failure(promise: Promise<unknown>): Promise<AuthenticationError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthenticationError);
  const message = (err as Error).message;
  for (const secret of SECRETS) expect(message).not.toContain(secret);
  expect(message).toContain('acct-1');
  return err as AuthenticationError;
}

describe('aws: credentials', () => {
  let home: string;

  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'skygraph-aws-home-'));
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  async function writeAws(name: 'credentials' | 'config', text: string): Promise<string> {
    await mkdir(path.join(home, '.aws'), { recursive: true });
    const file = path.join(home, '.aws', name);
    await writeFile(file, text);
    return file;
  }

  const fullEnv = { AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_REGION: 'eu-west-3' };

  describe('account config', () => {
    it('wins over the environment and the files', async () => {
      await writeAws('credentials', '[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n');
      const got = await resolveAwsCredentials(
        account({ accessKeyId: 'AKIDCONFIG', secretAccessKey: 'config-secret', sessionToken: 'tok' }),
        fullEnv,
        home,
      );
      expect(got).toEqual({
        credentials: { accessKeyId: 'AKIDCONFIG', secretAccessKey: 'config-secret', sessionToken: 'tok' },
        source: 'config',
      });
    });

    it('names credentials.secretAccessKey when only the key id is given', async () => {
      const err = await failure(resolveAwsCredentials(account({ accessKeyId: 'AKIDCONFIG' }), fullEnv, home));
      expect(err.message).toContain('credentials.secretAccessKey');
      expect(err.code).toBe('AUTHENTICATION_FAILED');
      expect(err.message.startsWith('[ec2] ')).toBe(true);
    });

    it('names credentials.accessKeyId when only the secret is given', async () => {
      const err = await failure(resolveAwsCredentials(account({ secretAccessKey: 'config-secret' }), fullEnv, home));
      expect(err.message).toContain('credentials.accessKeyId is missing');
    });

    it('refuses a session token on its own', async () => {
      const err = await failure(resolveAwsCredentials(account({ sessionToken: 'env-token' }), fullEnv, home));
      expect(err.message).toContain('credentials.sessionToken');
    });
  });

  describe('environment', () => {
    it('reads keys, token and region', async () => {
      const got = await resolveAwsCredentials(account(), { ...fullEnv, AWS_SESSION_TOKEN: 'env-token', AWS_DEFAULT_REGION: 'us-west-2' }, home);
      expect(got).toEqual({
        credentials: { accessKeyId: 'AKIDENV', secretAccessKey: 'env-secret', sessionToken: 'env-token' },
        source: 'env',
        region: 'eu-west-3',
      });
    });

    it('falls back to AWS_DEFAULT_REGION, and to no region', async () => {
      const base = { AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'env-secret' };
      expect((await resolveAwsCredentials(account(), { ...base, AWS_DEFAULT_REGION: 'us-west-2' }, home)).region).toBe('us-west-2');
      const none = await resolveAwsCredentials(account(), base, home);
      expect(none.region).toBeUndefined();
      expect(none.credentials).toEqual({ accessKeyId: 'AKIDENV', secretAccessKey: 'env-secret' });
    });

    it('wins over the default profile', async () => {
      await writeAws('credentials', '[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n');
      expect((await resolveAwsCredentials(account(), fullEnv, home)).source).toBe('env');
    });

    it('refuses half a pair, naming the missing variable', async () => {
      const a = await failure(resolveAwsCredentials(account(), { AWS_ACCESS_KEY_ID: 'AKIDENV' }, home));
      expect(a.message).toContain('AWS_SECRET_ACCESS_KEY is not');
      const b = await failure(resolveAwsCredentials(account(), { AWS_SECRET_ACCESS_KEY: 'env-secret' }, home));
      expect(b.message).toContain('AWS_ACCESS_KEY_ID is not');
    });

    it('treats empty variables as unset', async () => {
      await writeAws('credentials', '[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n');
      const got = await resolveAwsCredentials(account(), { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: ' ', AWS_PROFILE: '' }, home);
      expect(got.source).toBe('profile');
    });
  });

  describe('profiles', () => {
    it('reads the default profile, with the region from the config file', async () => {
      await writeAws(
        'credentials',
        [
          '# shared credentials',
          '; another comment',
          '',
          '  [ default ]  ',
          '  aws_access_key_id   =   AKIDFILE   ',
          'aws_secret_access_key=file-secret',
          'aws_session_token = file-token ; inline comment',
          '',
          '[dev]',
          'aws_access_key_id = AKIDDEV',
          'aws_secret_access_key = dev-secret',
        ].join('\r\n'),
      );
      await writeAws('config', '[default]\nregion = ap-southeast-2\noutput = json\n[profile dev]\nregion = eu-central-1\n');
      expect(await resolveAwsCredentials(account(), {}, home)).toEqual({
        credentials: { accessKeyId: 'AKIDFILE', secretAccessKey: 'file-secret', sessionToken: 'file-token' },
        source: 'profile',
        region: 'ap-southeast-2',
      });
    });

    it('uses AWS_PROFILE, and [profile name] sections of the config file only', async () => {
      await writeAws('credentials', '[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = dev-secret\n');
      await writeAws('config', '[dev]\nregion = us-east-2\n[profile  dev]\nregion = eu-central-1\n');
      expect(await resolveAwsCredentials(account(), { AWS_PROFILE: 'dev' }, home)).toEqual({
        credentials: { accessKeyId: 'AKIDDEV', secretAccessKey: 'dev-secret' },
        source: 'profile',
        region: 'eu-central-1',
      });
    });

    it('uses a profile named in the account over AWS_PROFILE and the environment keys', async () => {
      await writeAws('credentials', '[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = dev-secret\n[other]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n');
      const env = { ...fullEnv, AWS_PROFILE: 'other' };
      const viaOptions = await resolveAwsCredentials(account({}, { profile: 'dev' }), env, home);
      expect(viaOptions).toMatchObject({ source: 'profile', credentials: { accessKeyId: 'AKIDDEV' }, region: 'eu-west-3' });
      const viaCredentials = await resolveAwsCredentials(account({ profile: 'dev' }), env, home);
      expect(viaCredentials).toMatchObject({ source: 'profile', credentials: { accessKeyId: 'AKIDDEV' } });
    });

    it('takes keys from the config file, the credentials file winning', async () => {
      await writeAws('config', '[profile dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = stale\nregion = sa-east-1\n');
      await writeAws('credentials', '[dev]\naws_secret_access_key = dev-secret\n');
      expect(await resolveAwsCredentials(account({}, { profile: 'dev' }), {}, home)).toEqual({
        credentials: { accessKeyId: 'AKIDDEV', secretAccessKey: 'dev-secret' },
        source: 'profile',
        region: 'sa-east-1',
      });
    });

    it('honours AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE (with ~)', async () => {
      await mkdir(path.join(home, 'elsewhere'));
      await writeFile(path.join(home, 'elsewhere', 'creds.ini'), '[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n');
      await writeFile(path.join(home, 'elsewhere', 'conf.ini'), '[default]\nregion = me-central-1\n');
      await writeAws('credentials', '[default]\naws_access_key_id = AKIDDEV\naws_secret_access_key = dev-secret\n');
      const got = await resolveAwsCredentials(
        account(),
        { AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'elsewhere', 'creds.ini'), AWS_CONFIG_FILE: '~/elsewhere/conf.ini' },
        home,
      );
      expect(got).toEqual({ credentials: { accessKeyId: 'AKIDFILE', secretAccessKey: 'file-secret' }, source: 'profile', region: 'me-central-1' });
    });

    it('lists every source tried when nothing is found', async () => {
      const err = await failure(resolveAwsCredentials(account(), {}, home));
      expect(err.message).toContain('account config (credentials.accessKeyId, credentials.secretAccessKey)');
      expect(err.message).toContain('environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
      expect(err.message).toContain(`profile "default" in ${path.join(home, '.aws', 'credentials')} and ${path.join(home, '.aws', 'config')}`);
    });

    it('does not claim the environment was tried when the account names a profile', async () => {
      await writeAws('credentials', '[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n');
      const err = await failure(resolveAwsCredentials(account({}, { profile: 'missing' }), fullEnv, home));
      expect(err.message).toContain('profile "missing"');
      expect(err.message).not.toContain('environment');
    });

    it('names the missing key of a half-filled profile', async () => {
      await writeAws('credentials', '[default]\naws_access_key_id = AKIDFILE\n');
      const err = await failure(resolveAwsCredentials(account(), {}, home));
      expect(err.message).toContain('has aws_access_key_id but no aws_secret_access_key');
    });

    it('says so when a profile assumes a role or uses SSO', async () => {
      await writeAws('config', '[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = default\n');
      const err = await failure(resolveAwsCredentials(account({}, { profile: 'admin' }), {}, home));
      expect(err.message).toContain('role_arn');
      expect(err.message).not.toContain('123456789012');
    });

    it('reports a file it cannot read', async () => {
      await mkdir(path.join(home, '.aws', 'credentials'), { recursive: true });
      const err = await failure(resolveAwsCredentials(account(), {}, home));
      expect(err.message).toContain(`cannot read ${path.join(home, '.aws', 'credentials')}`);
    });
  });

  describe('parseIni', () => {
    it('reads sections, comments, whitespace and nested settings', () => {
      const ini = parseIni(
        [
          'orphan = ignored',
          '[profile   a]',
          '# comment',
          'region=us-east-1',
          's3 =',
          '  max_concurrent_requests = 20',
          '  region = nested',
          'Output = json # trailing',
          'url = http://host/#fragment',
          '[profile a]',
          'extra = 1',
          '[b] ; comment after header',
          'key = value=with=equals',
        ].join('\n'),
      );
      expect(Object.keys(ini)).toEqual(['profile a', 'b']);
      expect({ ...ini['profile a'] }).toEqual({
        region: 'us-east-1',
        s3: '',
        's3.max_concurrent_requests': '20',
        's3.region': 'nested',
        output: 'json',
        url: 'http://host/#fragment',
        extra: '1',
      });
      expect({ ...ini['b'] }).toEqual({ key: 'value=with=equals' });
    });
  });
});

describe('aws: regions', () => {
  it('maps commercial regions to names and ISO countries', () => {
    expect(AWS_REGIONS['us-east-1']).toEqual({ name: 'US East (N. Virginia)', country: 'US' });
    expect(AWS_REGIONS['eu-west-2']?.country).toBe('GB');
    expect(Object.keys(AWS_REGIONS).length).toBeGreaterThanOrEqual(30);
    for (const [id, info] of Object.entries(AWS_REGIONS)) {
      expect(id).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
      expect(info.country).toMatch(/^[A-Z]{2}$/);
      expect(info.name.length).toBeGreaterThan(3);
    }
  });
});
