/** JSON-lines logger on stderr. Fields named like secrets are masked before writing. */
import type { Logger } from './providers/types.ts';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
type Level = keyof typeof LEVELS;
const SECRET_FIELD = /secret|password|token|key|credential|authorization/i;

export function createLogger(level: string = process.env.SKYGRAPH_LOG_LEVEL ?? 'info', bindings: Record<string, unknown> = {}): Logger {
  const min = LEVELS[(level in LEVELS ? level : 'info') as Level];
  const write = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
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
