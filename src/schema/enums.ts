import { builder } from '../builder.ts';
import { ALGORITHMS, BALANCER_STATES, NODE_STATES, SERVICES } from '../providers/types.ts';

const upper = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [v.toUpperCase(), { value: v }])) as Record<string, { value: T }>;

export const NodeStateEnum = builder.enumType('NodeState', {
  description: "A node's state, with Apache Libcloud's values.",
  values: upper(NODE_STATES),
});

export const BalancerStateEnum = builder.enumType('LoadBalancerState', {
  values: upper(BALANCER_STATES),
});

export const AlgorithmEnum = builder.enumType('Algorithm', {
  description: 'Balancing algorithms; a driver rejects the ones its provider does not support.',
  values: ALGORITHMS,
});

export const ServiceEnum = builder.enumType('Service', { values: SERVICES });
