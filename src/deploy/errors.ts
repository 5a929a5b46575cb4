/**
 * Deploy-only failures. They extend SkygraphError (so the GraphQL layer maps them like any typed
 * error) and carry the more precise `deploymentCode` a Deployment reports.
 */
import { SkygraphError, type SkygraphErrorOptions } from '../providers/errors.ts';
import type { DeploymentError } from './types.ts';

/** The server presented a host key other than the pinned `hostKeyFingerprint`. Never retried. */
export class HostKeyMismatchError extends SkygraphError {
  readonly deploymentCode = 'HOST_KEY_MISMATCH';
  constructor(message: string, opts: SkygraphErrorOptions = {}) {
    super('CONNECTION_FAILED', message, opts);
  }
}

/** The node went to `terminated` or `error` while we waited for it. */
export class NodeFailedError extends SkygraphError {
  readonly deploymentCode = 'NODE_FAILED';
  constructor(message: string, opts: SkygraphErrorOptions = {}) {
    super('PROVIDER_ERROR', message, opts);
  }
}

/** Maps anything thrown during a deployment to the `{ code, message }` it reports. */
export function toDeploymentError(err: unknown): DeploymentError {
  if (err instanceof HostKeyMismatchError || err instanceof NodeFailedError) {
    return { code: err.deploymentCode, message: err.message };
  }
  if (err instanceof SkygraphError) return { code: err.code, message: err.message };
  return { code: 'PROVIDER_ERROR', message: err instanceof Error ? err.message : String(err) };
}
