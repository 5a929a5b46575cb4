/**
 * `npm start`: serve GraphQL (with GraphiQL and the dashboard) on 127.0.0.1:4000 unless told
 * otherwise. `--help` lists every flag and environment variable.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, findConfigFile, loadConfig } from './config/index.ts';
import { buildApp } from './server.ts';
import { createLogger, LOG_LEVELS, parseLogLevel } from './logger.ts';

const HELP = `usage: skygraph [options]          (from a checkout: npm start -- [options])

One GraphQL API over every cloud: GraphQL and GraphiQL at /graphql, the live dashboard at
/dashboard, Prometheus metrics at /metrics, health at /healthz.

Options:
  -p, --port N           port to listen on (default $PORT, else 4000; 0 picks a free port)
      --host ADDR        listen address (default 127.0.0.1; the API can destroy machines, so any
                         other address needs server.tokens and server.publicUrl in the config)
  -c, --config FILE      config file, YAML or JSON (default $SKYGRAPH_CONFIG, else ./skygraph.yaml,
                         else the embedded default: a sandbox cloud and a local storage account)
      --log-level LEVEL  ${LOG_LEVELS.join(' | ')} (default $SKYGRAPH_LOG_LEVEL, else info)
  -h, --help             print this and exit
  -v, --version          print the version and exit

Environment:
  PORT                          port, when --port is not given
  SKYGRAPH_CONFIG               config file, when --config is not given
  SKYGRAPH_DATA                 root folder of the embedded local storage account
                                (default ./.skygraph/storage)
  SKYGRAPH_LOG_LEVEL            log threshold of the JSON lines on stderr, when --log-level is not given
  OTEL_EXPORTER_OTLP_ENDPOINT   OTLP/HTTP collector base URL: turns tracing on, spans go to
                                <url>/v1/traces (server.tracing.otlpEndpoint wins over it)
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
                                OTLP/HTTP traces URL, used as is (wins over the one above)
  OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS
                                headers the exporter sends (key=value,key2=value2)
  OTEL_SERVICE_NAME             service.name on every span (default skygraph)
  OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER=none
                                tracing off, whatever the config says
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,
  AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_REGION, AWS_DEFAULT_REGION
                                credentials and region of AWS accounts (ec2, s3, elb, alb) whose
                                config names none
  OS_CLIENT_CONFIG_FILE, OS_CLIENT_SECURE_FILE
                                clouds.yaml and secure.yaml of OpenStack accounts with \`cloud:\`
  GOOGLE_APPLICATION_CREDENTIALS
                                service-account key file of Google Cloud accounts without credentials
  AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_SUBSCRIPTION_ID
                                service principal and subscription of Azure accounts whose config
                                names none
  DIGITALOCEAN_TOKEN, HCLOUD_TOKEN, LINODE_TOKEN, VULTR_API_KEY
                                API tokens of DigitalOcean, Hetzner, Linode and Vultr accounts
                                without credentials
  A config file may use \${VAR} and \${VAR:-default}; they are read from the environment.
`;

function version(): string {
  // why: ../package.json from both src/main.ts (tsx) and dist/main.js (npm start)
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      config: { type: 'string', short: 'c' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.version) {
    console.log(version());
    return;
  }
  const port = Number(values.port ?? process.env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(values.port !== undefined ? '--port' : 'PORT', ['port must be 0-65535']);
  const levelSource = values['log-level'] !== undefined ? '--log-level' : 'SKYGRAPH_LOG_LEVEL';
  const levelValue = values['log-level'] ?? process.env.SKYGRAPH_LOG_LEVEL ?? 'info';
  const level = parseLogLevel(levelValue);
  if (!level) throw new ConfigError(levelSource, [`must be one of ${LOG_LEVELS.join(', ')}`]);
  const logger = createLogger(level);
  const file = findConfigFile(values.config);
  const config = await loadConfig(file);
  const app = await buildApp(config, { logger });
  const url = await app.start(port, values.host ?? '127.0.0.1');
  logger.info('skygraph listening', {
    graphql: `${url}/graphql`,
    dashboard: `${url}/dashboard`,
    config: config.source,
    accounts: config.accounts.map((a) => `${a.id} (${a.driver})`),
  });
  console.log(`skygraph: GraphQL and GraphiQL at ${url}/graphql, dashboard at ${url}/dashboard (config: ${config.source})`);
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
