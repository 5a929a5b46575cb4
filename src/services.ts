/**
 * Long-lived services beside the runtime: live events and deployments. Mutations report what
 * they changed here so subscribers hear of it at once, without waiting for the next poll.
 */

export interface MutationEvent {
  resource: 'node' | 'loadBalancer';
  kind: 'CREATED' | 'UPDATED' | 'DELETED';
  accountId: string;
  region: string | null;
  id: string;
  item: unknown;
  previousState: string | null;
  state: string | null;
}

export interface Services {
  /** called after each successful node or balancer mutation */
  mutated(event: MutationEvent): void;
}

export function noServices(): Services {
  return { mutated: () => undefined };
}
