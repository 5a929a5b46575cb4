/**
 * Driver registry: name -> lazy loader of its ProviderDefinition, so a process only loads the
 * drivers its config names. Adding a provider is one line here (see docs/architecture.md).
 */
import type { ProviderDefinition } from './types.ts';

type Loader = () => Promise<ProviderDefinition>;

const DRIVERS: Record<string, Loader> = {
  sandbox: async () => (await import('./sandbox/index.ts')).sandboxProvider,
  local: async () => (await import('./local/index.ts')).localProvider,
};

/** Every registered driver name, sorted. */
export function providerNames(): string[] {
  return Object.keys(DRIVERS).sort();
}

/** Loads a driver's definition, or undefined when no driver has that name. */
export async function loadProvider(name: string): Promise<ProviderDefinition | undefined> {
  const loader = Object.hasOwn(DRIVERS, name) ? DRIVERS[name] : undefined;
  return loader ? loader() : undefined;
}
