/**
 * The `bluebox` provider: Blue Box Blocks (JSON, HTTP Basic with the customer id and API key).
 * The service is gone; the driver is kept working against recorded responses.
 *
 * ```yaml
 * accounts:
 *   - id: bluebox
 *     driver: bluebox
 *     credentials: { customerId: c44905, apiKey: "${BLUEBOX_API_KEY}" }
 *     endpoint: https://boxpanel.bluebox.net/   # the default
 * ```
 */
import { createConnection, type Connection, type RetryOptions } from '../http/connection.ts';
import { basicSigner } from '../http/signers/basic.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../types.ts';
import { blueboxComputeDriver, DRIVER_NAME } from './compute.ts';

export { BLUEBOX_LOCATION, NODE_STATE } from './compute.ts';

export const BLUEBOX_ENDPOINT = 'https://boxpanel.bluebox.net/';
const CREDENTIAL_KEYS = ['customerId', 'apiKey'];

/** Test seams. */
export interface BlueboxDeps {
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
}

export function createBlueboxProvider(deps: BlueboxDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'Blue Box Blocks',
    services: ['COMPUTE'],
    regional: false,
    validate: validateBlueboxAccount,
    create: (ctx) => createBlueboxInstance(ctx, deps),
  };
}

export const blueboxProvider: ProviderDefinition = createBlueboxProvider();

/** One account instance; the endpoint defaults to boxpanel.bluebox.net. */
export function createBlueboxInstance(ctx: DriverContext, deps: BlueboxDeps = {}): ProviderInstance {
  const { credentials } = ctx.account;
  let conn: Connection | undefined;
  const open = () =>
    (conn ??= createConnection({
      provider: DRIVER_NAME,
      baseUrl: ctx.account.endpoint ?? BLUEBOX_ENDPOINT,
      signer: basicSigner(() => ({ username: credentials.customerId ?? '', password: credentials.apiKey ?? '' })),
      recordCall: ctx.recordCall,
      now: ctx.now,
      retry: deps.retry,
      sleep: deps.sleep,
      defaults: ctx.http,
    }));
  return {
    compute: blueboxComputeDriver(open, () => [credentials.apiKey ?? '']),
    close: async () => {
      await conn?.close();
    },
  };
}

/** Problems with a bluebox account, naming fields and never their values. */
export function validateBlueboxAccount(account: AccountConfig): string[] {
  const problems: string[] = [];
  if ((account.credentials.customerId ?? '').trim() === '') problems.push('credentials.customerId is required (the Blue Box customer number)');
  else if (account.credentials.customerId!.includes(':')) problems.push('credentials.customerId must not contain ":"');
  if ((account.credentials.apiKey ?? '').trim() === '') problems.push('credentials.apiKey is required');
  for (const key of Object.keys(account.credentials)) {
    if (!CREDENTIAL_KEYS.includes(key)) problems.push(`credentials.${key} is not a bluebox credential (known: ${CREDENTIAL_KEYS.join(', ')})`);
  }
  if (account.endpoint !== undefined && !URL.canParse(account.endpoint)) problems.push('endpoint must be an absolute URL');
  for (const key of Object.keys(account.options)) problems.push(`options.${key} is not a bluebox option (it takes none)`);
  return problems;
}
