import { builder } from '../builder.ts';
import type { ProviderFailure } from '../context.ts';
import type { ErrorCode } from '../providers/errors.ts';
import { ErrorCodeEnum } from './enums.ts';

export const ProviderFailureRef = builder.objectRef<ProviderFailure>('ProviderFailure').implement({
  description: 'One account (and region) that failed while the others answered.',
  fields: (t) => ({
    account: t.exposeString('account', { description: 'The account id.' }),
    provider: t.exposeString('provider', { description: 'The driver name.' }),
    region: t.exposeString('region', { nullable: true }),
    code: t.field({ type: ErrorCodeEnum, description: 'The same code as the top-level error\'s extensions.code.', resolve: (f) => f.code as ErrorCode }),
    message: t.exposeString('message'),
    retryable: t.exposeBoolean('retryable'),
  }),
});
