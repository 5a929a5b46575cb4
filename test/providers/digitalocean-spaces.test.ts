/**
 * DigitalOcean Spaces is S3-compatible, so it has no driver of its own: an `s3` account with the
 * Spaces endpoint of a region. These checks run without network.
 */
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../src/config/index.ts';
import { s3Provider, validateS3Account } from '../../src/providers/aws/s3/index.ts';
import { testDriverContext } from '../helpers/driver-context.ts';

const SPACES_KEY = 'DO00SPACESKEYEXAMPLE1';
const SPACES_SECRET = 'spaces/secret+example/0123456789abcdefghijABCDEFGHIJ';

const README_EXAMPLE = `
accounts:
  - id: spaces
    driver: s3
    region: nyc3
    endpoint: https://nyc3.digitaloceanspaces.com
    credentials: { accessKeyId: "\${SPACES_KEY}", secretAccessKey: "\${SPACES_SECRET}" }
`;

describe('storage: digitalocean spaces through the s3 driver', () => {
  it('accepts the README account (endpoint https://<region>.digitaloceanspaces.com)', async () => {
    const config = await validateConfig(parseYaml(README_EXAMPLE), 'README', { SPACES_KEY, SPACES_SECRET });
    const [account] = config.accounts;
    expect(account).toMatchObject({ driver: 's3', regions: ['nyc3'], endpoint: 'https://nyc3.digitaloceanspaces.com', credentials: { accessKeyId: SPACES_KEY } });
    expect(validateS3Account(account!)).toEqual([]);
  });

  it('refuses the same account over http, naming the field and not the secret', async () => {
    const text = README_EXAMPLE.replace('https://', 'http://');
    const err = await validateConfig(parseYaml(text), 'README', { SPACES_KEY, SPACES_SECRET }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toContain('endpoint');
    expect(String((err as Error).message)).not.toContain(SPACES_SECRET);
  });

  it('signs for the Spaces host and region, path-style, without a request', async () => {
    const ctx = testDriverContext({ driver: 's3', regions: ['nyc3'], endpoint: 'https://nyc3.digitaloceanspaces.com', credentials: { accessKeyId: SPACES_KEY, secretAccessKey: SPACES_SECRET } }, { region: 'nyc3' });
    const instance = s3Provider.create(ctx);
    try {
      const url = new URL(await instance.storage!.getDownloadUrl!('assets', 'logo.png', 600));
      expect(url.origin).toBe('https://nyc3.digitaloceanspaces.com');
      expect(url.pathname).toBe('/assets/logo.png');
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(new RegExp(`^${SPACES_KEY}/\\d{8}/nyc3/s3/aws4_request$`));
      expect(url.toString()).not.toContain(encodeURIComponent(SPACES_SECRET));
      expect(ctx.totalCalls()).toBe(0);
    } finally {
      await instance.close?.();
    }
  });
});
