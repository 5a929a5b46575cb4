/** Enums shared by several types: states, codes, capabilities, ordering. */
import { builder } from '../builder.ts';
import { ERROR_CODES } from '../providers/errors.ts';
import { ALGORITHMS, BALANCER_STATES, NODE_STATES, SERVICES, SNAPSHOT_STATES, VOLUME_STATES } from '../providers/types.ts';
import { CAPABILITIES, CAPABILITY_NAMES } from '../resolvers/capability.ts';

const upper = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [v.toUpperCase(), { value: v }])) as Record<string, { value: T }>;

export const NodeStateEnum = builder.enumType('NodeState', {
  description: "A node's state, with Apache Libcloud's values.",
  values: upper(NODE_STATES),
});

export const BalancerStateEnum = builder.enumType('LoadBalancerState', {
  values: upper(BALANCER_STATES),
});

export const VolumeStateEnum = builder.enumType('VolumeState', {
  description: "A volume's state, with Apache Libcloud's StorageVolumeState values.",
  values: upper(VOLUME_STATES),
});

export const SnapshotStateEnum = builder.enumType('VolumeSnapshotState', {
  description: "A snapshot's state, with Apache Libcloud's VolumeSnapshotState values.",
  values: upper(SNAPSHOT_STATES),
});

export const AlgorithmEnum = builder.enumType('Algorithm', {
  description: 'Balancing algorithms; a driver rejects the ones its provider does not support.',
  values: ALGORITHMS,
});

export const ServiceEnum = builder.enumType('Service', { values: SERVICES });

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Why a call failed; the same value as the top-level error\'s extensions.code.',
  values: ERROR_CODES,
});

export const CapabilityEnum = builder.enumType('Capability', {
  description: 'What an account can do, named after the GraphQL fields it enables. A field whose capability an account lacks fails with UNSUPPORTED.',
  values: Object.fromEntries(CAPABILITY_NAMES.map((name) => [name, { value: name, description: CAPABILITIES[name].fields }])) as Record<
    (typeof CAPABILITY_NAMES)[number],
    { value: (typeof CAPABILITY_NAMES)[number]; description: string }
  >,
});

export const OrderDirectionEnum = builder.enumType('OrderDirection', { values: ['ASC', 'DESC'] as const });
