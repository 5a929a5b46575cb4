/** Starts the long-lived services the config asks for. */
import type { SkygraphConfig } from './config/index.ts';
import type { Logger } from './providers/types.ts';
import { noServices, type Services } from './services.ts';

export async function startServices(_config: SkygraphConfig, _logger: Logger): Promise<Services & { close(): Promise<void> }> {
  return { ...noServices(), close: async () => undefined };
}
