/**
 * Hetzner Cloud actions: most changes answer an action (`running`, then `success` or `error`);
 * the drivers wait for it so a change is done when the call returns and the next one does not
 * meet a locked resource.
 *
 * https://docs.hetzner.cloud/reference/cloud#actions
 */
import { MalformedResponseError, ProviderError } from '../errors.ts';
import type { Connection } from '../http/connection.ts';
import { obj, str, type Json } from '../rest/json.ts';
import { waitFor, type WaitOptions } from '../rest/wait.ts';

export interface HetznerActions {
  /** POSTs `body` to `path` (an action endpoint) and waits for the action it answers */
  run(operation: string, path: string, body?: unknown): Promise<void>;
  /** waits for an action given by a response (`{ action: {...} }`) */
  settle(action: unknown, what: string): Promise<void>;
}

export function hetznerActions(conn: () => Connection, wait: WaitOptions): HetznerActions {
  const provider = wait.provider;
  const settle = async (action: unknown, what: string): Promise<void> => {
    let current = obj(action);
    const id = str(current?.id);
    if (!id) throw new MalformedResponseError(`${what} answered without an action`, { provider });
    await waitFor(
      async () => {
        if (!current) {
          // https://docs.hetzner.cloud/reference/cloud#actions-get-an-action
          const res = await conn().request<Json>({ operation: 'GET /actions/{id}', path: `actions/${encodeURIComponent(id)}` });
          current = obj(obj(res.body)?.action);
        }
        const status = str(current?.status);
        const error = obj(current?.error);
        current = undefined;
        if (status === 'success') return true;
        if (status === 'error') {
          throw new ProviderError(`${what}: action ${id} failed${error ? ` (${str(error.code) ?? 'error'}: ${str(error.message) ?? ''})` : ''}`, { provider });
        }
        return undefined;
      },
      `action ${id} (${what}) to finish`,
      wait,
    );
  };
  return {
    settle,
    async run(operation, path, body) {
      const res = await conn().request<Json>({ operation, method: 'POST', path, json: body ?? {}, expect: [201, 200] });
      await settle(obj(res.body)?.action, operation);
    },
  };
}
