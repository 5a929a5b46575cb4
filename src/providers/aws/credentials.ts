/**
 * AWS credential resolution for one account: the account config, then the environment, then
 * a named profile in the shared files (~/.aws/credentials and ~/.aws/config).
 *
 * https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html
 * https://docs.aws.amazon.com/sdkref/latest/guide/environment-variables.html
 *
 * Errors name the sources tried, the account id, fields and file paths; never a value.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AuthenticationError } from '../errors.ts';
import type { AwsCredentials } from '../http/signers/aws-v4.ts';
import type { AccountConfig } from '../types.ts';

/** Where the credentials came from, and the region that came with them (env or profile). */
export interface ResolvedAwsCredentials {
  credentials: AwsCredentials;
  source: 'config' | 'env' | 'profile';
  region?: string | undefined;
}

/** Sections of an INI file; each section's keys lower-cased. Nested settings are `parent.child`. */
export type IniFile = Record<string, Record<string, string>>;

/** Profile settings that mean "get credentials some other way", which skygraph does not do. */
const INDIRECT_SETTINGS = [
  'role_arn',
  'source_profile',
  'credential_source',
  'credential_process',
  'sso_session',
  'sso_start_url',
  'web_identity_token_file',
  'login_session',
];

/**
 * Resolves the credentials for an AWS (or AWS-compatible) account.
 *
 * 1. `credentials.accessKeyId` + `credentials.secretAccessKey` (+ `sessionToken`) in the account;
 * 2. when the account names no profile: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 *    AWS_SESSION_TOKEN, region from AWS_REGION or AWS_DEFAULT_REGION;
 * 3. the profile named by `options.profile` or `credentials.profile`, else AWS_PROFILE, else
 *    `default`, from AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and AWS_CONFIG_FILE
 *    (~/.aws/config); region from the profile's config section, else the environment.
 *
 * A profile named in the account is account config, so it wins over the environment.
 */
export async function resolveAwsCredentials(
  account: AccountConfig,
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
): Promise<ResolvedAwsCredentials> {
  const provider = account.driver;
  const fail = (message: string) => new AuthenticationError(`account "${account.id}": ${message}`, { provider });
  const config = account.credentials ?? {};
  const tried: string[] = [];

  const accessKeyId = nonEmpty(config['accessKeyId']);
  const secretAccessKey = nonEmpty(config['secretAccessKey']);
  const sessionToken = nonEmpty(config['sessionToken']);
  if (accessKeyId || secretAccessKey) {
    if (!accessKeyId) throw fail('credentials.accessKeyId is missing (credentials.secretAccessKey is set)');
    if (!secretAccessKey) throw fail('credentials.secretAccessKey is missing (credentials.accessKeyId is set)');
    return { credentials: withToken(accessKeyId, secretAccessKey, sessionToken), source: 'config' };
  }
  if (sessionToken) throw fail('credentials.sessionToken is set without credentials.accessKeyId and credentials.secretAccessKey');
  tried.push('account config (credentials.accessKeyId, credentials.secretAccessKey)');

  const envRegion = nonEmpty(env['AWS_REGION']) ?? nonEmpty(env['AWS_DEFAULT_REGION']);
  const namedProfile = nonEmpty(account.options?.['profile']) ?? nonEmpty(config['profile']);
  if (namedProfile === undefined) {
    const envId = nonEmpty(env['AWS_ACCESS_KEY_ID']);
    const envSecret = nonEmpty(env['AWS_SECRET_ACCESS_KEY']);
    if (envId || envSecret) {
      if (!envId) throw fail('AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not');
      if (!envSecret) throw fail('AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not');
      return {
        credentials: withToken(envId, envSecret, nonEmpty(env['AWS_SESSION_TOKEN'])),
        source: 'env',
        region: envRegion,
      };
    }
    tried.push('environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
  }

  const profile = namedProfile ?? nonEmpty(env['AWS_PROFILE']) ?? 'default';
  const credentialsFile = filePath(env['AWS_SHARED_CREDENTIALS_FILE'], home, 'credentials');
  const configFile = filePath(env['AWS_CONFIG_FILE'], home, 'config');
  const [credentialsIni, configIni] = await Promise.all([readIni(credentialsFile, fail), readIni(configFile, fail)]);
  const fromCredentials = credentialsIni[profile];
  const fromConfig = profile === 'default' ? (configIni['default'] ?? configIni['profile default']) : configIni[`profile ${profile}`];
  tried.push(`profile "${profile}" in ${credentialsFile} and ${configFile}`);
  if (!fromCredentials && !fromConfig) throw fail(`no AWS credentials found; tried ${tried.join('; ')}`);

  // why: the credentials file wins over the config file for the same key, as in the AWS SDKs
  const merged = { ...fromConfig, ...fromCredentials };
  const id = nonEmpty(merged['aws_access_key_id']);
  const secret = nonEmpty(merged['aws_secret_access_key']);
  if (!id && !secret) {
    const indirect = INDIRECT_SETTINGS.find((key) => key in merged);
    if (indirect) {
      throw fail(`profile "${profile}" gets its credentials through ${indirect}, which skygraph does not resolve; give it aws_access_key_id and aws_secret_access_key`);
    }
    throw fail(`profile "${profile}" has no aws_access_key_id or aws_secret_access_key; tried ${tried.join('; ')}`);
  }
  if (!id) throw fail(`profile "${profile}" has aws_secret_access_key but no aws_access_key_id`);
  if (!secret) throw fail(`profile "${profile}" has aws_access_key_id but no aws_secret_access_key`);
  return {
    credentials: withToken(id, secret, nonEmpty(merged['aws_session_token'])),
    source: 'profile',
    region: nonEmpty(fromConfig?.['region']) ?? envRegion,
  };
}

/**
 * A small INI reader for the AWS shared files: `[section]` headers (inner whitespace
 * collapsed), `key = value` lines, full-line comments starting with `#` or `;`, inline comments
 * after whitespace, and indented nested settings stored as `parent.child`.
 */
export function parseIni(text: string): IniFile {
  const out: IniFile = Object.create(null) as IniFile;
  let section: Record<string, string> | undefined;
  let parent: string | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]*)\]\s*([#;].*)?$/.exec(line);
    if (header) {
      const name = (header[1] as string).trim().replace(/\s+/g, ' ');
      section = out[name] ??= Object.create(null) as Record<string, string>;
      parent = undefined;
      continue;
    }
    const eq = line.indexOf('=');
    if (section === undefined || eq <= 0) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line
      .slice(eq + 1)
      .replace(/\s[#;].*$/, '')
      .trim();
    if (/^\s/.test(rawLine) && parent !== undefined) {
      section[`${parent}.${key}`] = value;
      continue;
    }
    section[key] = value;
    parent = value === '' ? key : undefined;
  }
  return out;
}

// --- Internal helpers ---

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function withToken(accessKeyId: string, secretAccessKey: string, sessionToken: string | undefined): AwsCredentials {
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

function filePath(fromEnv: string | undefined, home: string, name: string): string {
  const given = nonEmpty(fromEnv);
  if (given === undefined) return path.join(home, '.aws', name);
  if (given === '~') return home;
  if (given.startsWith('~/')) return path.join(home, given.slice(2));
  return given;
}

async function readIni(file: string, fail: (message: string) => AuthenticationError): Promise<IniFile> {
  try {
    return parseIni(await readFile(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return Object.create(null) as IniFile;
    throw fail(`cannot read ${file} (${code ?? 'error'})`);
  }
}
