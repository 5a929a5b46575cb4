/**
 * The `local` provider: object storage on the local filesystem (Libcloud's `local` driver).
 *
 * Storage root: `options.root`, else the SKYGRAPH_DATA environment variable, else
 * `./.skygraph/storage`; resolved against the working directory and created when missing.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { ProviderError } from '../errors.ts';
import type { ProviderDefinition } from '../types.ts';
import { DRIVER_NAME } from './paths.ts';
import { localStorageDriver } from './storage.ts';

/** Options read from `account.options`. */
export interface LocalOptions {
  /** folder holding one sub-folder per container */
  root?: string;
}

const OPTION_KEYS = new Set(['root']);
const DEFAULT_ROOT = '.skygraph/storage';

export function validateLocalOptions(options: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) problems.push(`options.${key} is not a local option`);
  }
  const root = options['root'];
  if (root !== undefined && (typeof root !== 'string' || root.trim() === '' || root.includes('\0'))) {
    problems.push('options.root must be a non-empty path');
  }
  return problems;
}

/** The absolute storage root for these options, environment and working directory. */
export function resolveStorageRoot(options: LocalOptions, env: NodeJS.ProcessEnv, cwd: string): string {
  const configured = options.root || env['SKYGRAPH_DATA'] || DEFAULT_ROOT;
  return resolve(cwd, configured);
}

export const localProvider: ProviderDefinition = {
  name: DRIVER_NAME,
  title: 'Local folders',
  services: ['STORAGE'],
  regional: false,
  validate: (account) => validateLocalOptions(account.options),
  create(ctx) {
    const root = resolveStorageRoot(ctx.account.options as LocalOptions, process.env, process.cwd());
    let realRoot: string;
    try {
      mkdirSync(root, { recursive: true });
      realRoot = realpathSync(root);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ProviderError(`cannot create the storage root (${code ?? 'error'})`, { provider: DRIVER_NAME, cause: err });
    }
    return { storage: localStorageDriver({ root: realRoot }, ctx) };
  },
};
