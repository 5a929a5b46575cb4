/**
 * Input checks the load-balancer drivers of the bearer-token clouds share: ports, algorithms and
 * protocols against what the cloud offers, createBalancer's `ex` keys.
 */
import { InvalidInputError } from '../errors.ts';
import type { Algorithm } from '../types.ts';

/** What the cloud's balancers take. */
export interface BalancerRules {
  provider: string;
  /** who the algorithm error says does not support it: `DigitalOcean`, `NodeBalancers` */
  vendor: string;
  /** skygraph algorithm -> the cloud's name for it */
  algorithms: Readonly<Partial<Record<Algorithm, string>>>;
  /** the protocols, lower case */
  protocols: readonly string[];
  /** createBalancer's `ex` keys */
  exKeys: readonly string[];
  /** what the `ex` keys are options of: `a DigitalOcean balancer`, `a NodeBalancer` */
  exOf: string;
}

/** The checks, each throwing InvalidInputError that names the field. */
export interface BalancerChecks {
  /** the algorithms offered, in skygraph's names */
  algorithms: Algorithm[];
  fail(field: string, message: string): InvalidInputError;
  checkPort(port: unknown, field: string): number;
  /** the cloud's name for the algorithm */
  checkAlgorithm(algorithm: unknown): string;
  /** the protocol, lower case */
  checkProtocol(protocol: unknown, field?: string): string;
  /** refuses an `ex` key the cloud's balancers do not take */
  checkExKeys(ex: Record<string, unknown>): void;
}

export function balancerChecks(rules: BalancerRules): BalancerChecks {
  const { provider, protocols } = rules;
  const algorithms = Object.keys(rules.algorithms) as Algorithm[];
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider, field });
  return {
    algorithms,
    fail,
    checkPort(port, field) {
      if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) throw fail(field, `${field} must be an integer from 1 to 65535`);
      return port as number;
    },
    checkAlgorithm(algorithm) {
      const name = typeof algorithm === 'string' ? rules.algorithms[algorithm as Algorithm] : undefined;
      if (!name) throw fail('algorithm', `algorithm ${String(algorithm)} is not supported by ${rules.vendor} (supported: ${algorithms.join(', ')})`);
      return name;
    },
    checkProtocol(protocol, field = 'protocol') {
      const p = typeof protocol === 'string' ? protocol.toLowerCase() : '';
      if (!protocols.includes(p)) throw fail(field, `${field} must be one of ${protocols.join(', ')}`);
      return p;
    },
    checkExKeys(ex) {
      const unknown = Object.keys(ex).filter((k) => !rules.exKeys.includes(k));
      if (unknown.length) throw fail(`ex.${unknown[0]}`, `ex.${unknown[0]} is not ${rules.exOf} option (known: ${rules.exKeys.join(', ')})`);
    },
  };
}

