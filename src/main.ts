/**
 * `npm start`: serve GraphQL (with GraphiQL) on 127.0.0.1:4000 unless told otherwise.
 *   --port N | PORT        port (default 4000)
 *   --host H               listen address (default 127.0.0.1: the API can destroy machines; any
 *                          other address needs server.tokens and server.publicUrl)
 *   --config FILE | SKYGRAPH_CONFIG   config file (default ./skygraph.yaml, else the embedded default)
 */
import { parseArgs } from 'node:util';
import { ConfigError, findConfigFile, loadConfig } from './config/index.ts';
import { buildApp } from './server.ts';
import { createLogger } from './logger.ts';

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: skygraph [--port N] [--host ADDR] [--config FILE]');
    return;
  }
  const port = Number(values.port ?? process.env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('--port', [`port must be 0-65535`]);
  const logger = createLogger();
  const file = findConfigFile(values.config);
  const config = await loadConfig(file);
  const app = await buildApp(config, { logger });
  const url = await app.start(port, values.host ?? '127.0.0.1');
  logger.info('skygraph listening', {
    graphql: `${url}/graphql`,
    config: config.source,
    accounts: config.accounts.map((a) => `${a.id} (${a.driver})`),
  });
  console.log(`skygraph: GraphQL and GraphiQL at ${url}/graphql (config: ${config.source})`);
  const shutdown = async () => {
    await app.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`skygraph: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
