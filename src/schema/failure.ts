import { builder } from '../builder.ts';
import type { ProviderFailure } from '../context.ts';

export const ProviderFailureRef = builder.objectRef<ProviderFailure>('ProviderFailure').implement({
  description: 'One account (and region) that failed while the others answered.',
  fields: (t) => ({
    account: t.exposeString('account'),
    provider: t.exposeString('provider', { description: 'The driver name.' }),
    region: t.exposeString('region', { nullable: true }),
    code: t.exposeString('code', { description: 'Stable error code, as in the top-level error extensions.code.' }),
    message: t.exposeString('message'),
    retryable: t.exposeBoolean('retryable'),
  }),
});
