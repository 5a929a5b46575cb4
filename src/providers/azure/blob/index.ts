/**
 * The `azure-blob` provider: Azure Blob Storage (block blobs) with Shared Key authorization, or
 * Azurite and other emulators reached through `endpoint`.
 *
 *   - id: azure-storage
 *     driver: azure-blob
 *     credentials: { accountName: mystorage, accountKey: ${AZURE_STORAGE_KEY} }
 *     options: { blockSizeBytes: 4194304 }
 *
 *   - id: azurite
 *     driver: azure-blob
 *     endpoint: http://127.0.0.1:10000/devstoreaccount1
 *     credentials: { accountName: devstoreaccount1, accountKey: Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw== }
 *
 * Without `endpoint` the driver talks to https://<accountName>.blob.core.windows.net. With it,
 * `endpoint` is the blob service URL exactly as requests start (an emulator's path-style URL
 * includes the account name).
 */
import type { AccountConfig, ProviderDefinition } from '../../types.ts';
import { createAzureBlobClient } from './client.ts';
import { DRIVER_NAME } from './errors.ts';
import { azureBlobStorageDriver } from './storage.ts';
import { MAX_BLOCK_BYTES, MIN_BLOCK_BYTES } from './upload.ts';

/** Options read from `account.options`. */
export interface AzureBlobOptions {
  /**
   * bodies up to this go up as one Put Blob; larger ones as blocks of this size, one block held
   * in memory per upload (default 4 MiB, 64 KiB to 4000 MiB)
   */
  blockSizeBytes?: number;
}

export const DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024;
const OPTION_KEYS = new Set(['blockSizeBytes']);
const CREDENTIAL_KEYS = new Set(['accountName', 'accountKey']);
/** storage account names: 3-24 lower-case letters and digits */
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function validateAzureBlobAccount(account: AccountConfig): string[] {
  const problems: string[] = [];
  const options = account.options ?? {};
  for (const key of Object.keys(options)) if (!OPTION_KEYS.has(key)) problems.push(`options.${key} is not an azure-blob option`);
  const block = options.blockSizeBytes;
  if (block !== undefined && !(typeof block === 'number' && Number.isSafeInteger(block) && block >= MIN_BLOCK_BYTES && block <= MAX_BLOCK_BYTES)) {
    problems.push(`options.blockSizeBytes must be an integer from ${MIN_BLOCK_BYTES} (64 KiB) to ${MAX_BLOCK_BYTES} (4000 MiB)`);
  }
  const credentials = account.credentials ?? {};
  for (const key of Object.keys(credentials)) if (!CREDENTIAL_KEYS.has(key)) problems.push(`credentials.${key} is not an azure-blob credential`);
  const name = credentials.accountName;
  if (!name?.trim()) problems.push('credentials.accountName is required');
  else if (!ACCOUNT_NAME.test(name)) problems.push('credentials.accountName must be 3-24 lower-case letters and digits');
  const key = credentials.accountKey;
  if (!key?.trim()) problems.push('credentials.accountKey is required');
  else if (!BASE64.test(key.trim()) || key.trim().length % 4 !== 0) problems.push('credentials.accountKey must be the base64 access key');
  if (account.endpoint !== undefined && !isHttpUrl(account.endpoint)) problems.push('endpoint must be an absolute http(s) URL');
  return problems;
}

export const azureBlobProvider: ProviderDefinition = {
  name: DRIVER_NAME,
  title: 'Azure Blob Storage',
  services: ['STORAGE'],
  regional: false,
  validate: validateAzureBlobAccount,
  create(ctx) {
    const { account } = ctx;
    const options = account.options as AzureBlobOptions;
    const accountName = account.credentials.accountName ?? '';
    const endpoint = new URL(account.endpoint ?? `https://${accountName}.blob.core.windows.net`);
    const client = createAzureBlobClient({
      endpoint,
      credentials: { accountName, accountKey: (account.credentials.accountKey ?? '').trim() },
      recordCall: (operation) => ctx.recordCall(operation),
      now: () => ctx.now(),
      http: ctx.http,
    });
    const storage = azureBlobStorageDriver({ client, blockSizeBytes: options.blockSizeBytes ?? DEFAULT_BLOCK_SIZE });
    return { storage, close: () => client.close() };
  },
};

// --- Internal helpers ---

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}
