/**
 * Nova server status (and task state) -> NodeState.
 *
 * https://docs.openstack.org/api-guide/compute/server_concepts.html
 */
import type { NodeState } from '../../types.ts';

// https://docs.openstack.org/api-ref/compute/#show-server-details (status)
export const NODE_STATE: Readonly<Record<string, NodeState>> = {
  ACTIVE: 'running',
  BUILD: 'pending',
  REBUILD: 'pending',
  REBOOT: 'rebooting',
  HARD_REBOOT: 'rebooting',
  SHUTOFF: 'stopped',
  STOPPED: 'stopped',
  SUSPENDED: 'suspended',
  PAUSED: 'paused',
  ERROR: 'error',
  DELETED: 'terminated',
  SOFT_DELETED: 'terminated',
  RESIZE: 'reconfiguring',
  VERIFY_RESIZE: 'reconfiguring',
  REVERT_RESIZE: 'reconfiguring',
  MIGRATING: 'migrating',
  SHELVED: 'stopped',
  SHELVED_OFFLOADED: 'stopped',
  RESCUE: 'pending',
  PASSWORD: 'pending',
  UNKNOWN: 'unknown',
};

/** OS-EXT-STS:task_state values that say more than the status does (a SHUTOFF server being powered on is starting). */
export const TASK_STATE: Readonly<Record<string, NodeState>> = {
  'powering-off': 'stopping',
  'powering-on': 'starting',
  rebooting: 'rebooting',
  reboot_pending: 'rebooting',
  reboot_started: 'rebooting',
  rebooting_hard: 'rebooting',
  reboot_pending_hard: 'rebooting',
  reboot_started_hard: 'rebooting',
  deleting: 'pending',
  migrating: 'migrating',
  resize_prep: 'reconfiguring',
  resize_migrating: 'reconfiguring',
  resize_migrated: 'reconfiguring',
  resize_finish: 'reconfiguring',
  rebuilding: 'pending',
  rebuild_spawning: 'pending',
  suspending: 'stopping',
  pausing: 'stopping',
  shelving: 'stopping',
  unshelving: 'starting',
  resuming: 'starting',
  unpausing: 'starting',
};

/** why: a final status outranks the task in flight (an ERROR server stays error while being deleted) */
const FINAL = new Set(['ERROR', 'DELETED', 'SOFT_DELETED']);

export function toNodeState(status: unknown, taskState: unknown): NodeState {
  const s = typeof status === 'string' ? status.toUpperCase() : '';
  const task = typeof taskState === 'string' ? TASK_STATE[taskState] : undefined;
  if (task && !FINAL.has(s)) return task;
  return NODE_STATE[s] ?? 'unknown';
}
