/**
 * ioredis connections for the live engine: bounded retries so a lost Redis fails a tick
 * instead of hanging it, one log line per outage, and a close that never hangs.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../providers/types.ts';

export interface RedisConnectionOptions {
  logger?: Logger | undefined;
  /** shown in CLIENT LIST */
  connectionName?: string | undefined;
}

export function connectRedis(url: string, role: string, opts: RedisConnectionOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: opts.connectionName ?? `skygraph-live-${role}`,
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    commandTimeout: 5000,
  });
  let reported = false;
  redis.on('error', (err: Error) => {
    if (reported) return;
    reported = true;
    // why: never log the URL, it may carry a password
    const fields = { role, code: (err as { code?: string }).code, message: err.message };
    if (opts.logger) opts.logger.warn('live: redis connection error', fields);
    else console.warn('[live] redis connection error', fields);
  });
  redis.on('ready', () => {
    reported = false;
  });
  return redis;
}

/** QUIT when connected (bounded by a second), otherwise drop the socket. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), 1000);
  });
  const result = await Promise.race([redis.quit().catch(() => 'failed'), gaveUp]);
  clearTimeout(timer);
  if (result !== 'OK') redis.disconnect();
}
