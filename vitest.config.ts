import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // why: vite would load graphql's .mjs build for our code while dependencies (Pothos, yoga)
    // get the CommonJS one under Node; two copies of graphql cannot share a schema
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // why: the emulator-backed suites (Swift, Nova, sshd, Redis) are heavy on a 2-core machine
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // why: s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 refuses by default
    execArgv: ['--openssl-legacy-provider'],
  },
});
