/**
 * A DriverContext for tests: counts recordCall() per operation, keeps log lines, and has a
 * clock tests can freeze and move forward.
 */
import type { AccountConfig, DriverContext, Logger } from '../../src/providers/types.ts';

/** A clock that follows real time until frozen; `advance` works in both modes. */
export interface TestClock {
  now(): Date;
  /** freezes the clock at this instant */
  set(at: Date | number): void;
  /** moves the clock forward by `ms` */
  advance(ms: number): void;
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown> | undefined;
}

/** DriverContext plus what tests inspect. */
export interface TestDriverContext extends DriverContext {
  /** recordCall() count per operation */
  calls: Map<string, number>;
  clock: TestClock;
  logs: LogLine[];
  /** total of all recorded calls */
  totalCalls(): number;
  /** forgets the counted calls */
  resetCalls(): void;
}

export function testClock(start?: Date | number): TestClock {
  let frozenAt: number | undefined = start === undefined ? undefined : +start;
  let offset = 0;
  return {
    now: () => new Date(frozenAt ?? Date.now() + offset),
    set(at) {
      frozenAt = +at;
    },
    advance(ms) {
      if (frozenAt === undefined) offset += ms;
      else frozenAt += ms;
    },
  };
}

export function testDriverContext(
  account: Partial<AccountConfig> & { driver: string },
  overrides: Partial<Omit<DriverContext, 'account'>> = {},
): TestDriverContext {
  const calls = new Map<string, number>();
  const logs: LogLine[] = [];
  const clock = testClock();
  const logger: Logger = {
    debug: (msg, fields) => logs.push({ level: 'debug', msg, fields }),
    info: (msg, fields) => logs.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => logs.push({ level: 'warn', msg, fields }),
    error: (msg, fields) => logs.push({ level: 'error', msg, fields }),
  };
  const fullAccount: AccountConfig = {
    id: `${account.driver}-test`,
    regions: [],
    credentials: {},
    options: {},
    pollIntervalMs: 5_000,
    timeoutMs: 10_000,
    ...account,
  };
  return {
    account: fullAccount,
    region: overrides.region,
    recordCall(operation) {
      calls.set(operation, (calls.get(operation) ?? 0) + 1);
      overrides.recordCall?.(operation);
    },
    now: overrides.now ?? (() => clock.now()),
    logger: overrides.logger ?? logger,
    calls,
    clock,
    logs,
    totalCalls: () => [...calls.values()].reduce((a, b) => a + b, 0),
    resetCalls: () => calls.clear(),
  };
}
