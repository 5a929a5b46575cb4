/**
 * EC2 instance states -> skygraph NodeState.
 *
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceState.html
 */
import type { NodeState } from '../../types.ts';

/**
 * By the low byte of `instanceState.code` (the high byte is internal to AWS and must be ignored).
 *
 * `shutting-down` (32) is an instance on its way to `terminated`. NodeState has no
 * "terminating", and Libcloud reports it as unknown; skygraph says `stopping` (it is going down
 * and takes no more start/reboot requests) and keeps the exact EC2 name in `extra.instanceState`.
 */
export const NODE_STATE: Readonly<Record<number, NodeState>> = {
  0: 'pending',
  16: 'running',
  32: 'stopping',
  48: 'terminated',
  64: 'stopping',
  80: 'stopped',
};

/** The same mapping by EC2 state name, for responses that carry only the name. */
const BY_NAME: Readonly<Record<string, NodeState>> = {
  pending: 'pending',
  running: 'running',
  'shutting-down': 'stopping',
  terminated: 'terminated',
  stopping: 'stopping',
  stopped: 'stopped',
};

/** NodeState from an `instanceState` (`{code, name}`); `unknown` when neither is recognised. */
export function toNodeState(code: string | undefined, name: string | undefined): NodeState {
  const n = code === undefined ? NaN : Number.parseInt(code, 10);
  if (Number.isInteger(n)) {
    const byCode = NODE_STATE[n & 0xff];
    if (byCode) return byCode;
  }
  return (name !== undefined ? BY_NAME[name] : undefined) ?? 'unknown';
}
