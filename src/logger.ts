/** JSON-lines logger on stderr. Fields named like secrets are masked before writing. */
import type { Logger } from './providers/types.ts';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
/** A logger threshold: lines below it are not written. */
export type LogLevel = keyof typeof LEVELS;
export const LOG_LEVELS = Object.keys(LEVELS) as LogLevel[];
const SECRET_FIELD = /secret|password|token|key|credential|authorization/i;

/** The level a SKYGRAPH_LOG_LEVEL or --log-level value names (any case, `warning` too); undefined when it names none. */
export function parseLogLevel(value: string): LogLevel | undefined {
  const name = value.trim().toLowerCase();
  const level = name === 'warning' ? 'warn' : name;
  // why: Object.hasOwn, not `in`: "constructor" or "toString" must not pass as a level
  return Object.hasOwn(LEVELS, level) ? (level as LogLevel) : undefined;
}

/**
 * A logger writing lines at `level` and above (default $SKYGRAPH_LOG_LEVEL, else info). A value
 * that names no level falls back to info; `npm start` refuses one before it gets here.
 */
export function createLogger(level: string = process.env.SKYGRAPH_LOG_LEVEL ?? 'info', bindings: Record<string, unknown> = {}): Logger {
  const min = LEVELS[parseLogLevel(level) ?? 'info'];
  const write = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg, ...bindings };
    for (const [k, v] of Object.entries(fields ?? {})) entry[k] = SECRET_FIELD.test(k) ? '[redacted]' : v;
    process.stderr.write(JSON.stringify(entry) + '\n');
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
