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

const MAX_RETRIES = 2;
const CONNECT_TIMEOUT_MS = 5000;

export function connectRedis(url: string, role: string, opts: RedisConnectionOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: opts.connectionName ?? `skygraph-live-${role}`,
    maxRetriesPerRequest: MAX_RETRIES,
    connectTimeout: CONNECT_TIMEOUT_MS,
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

/**
 * Resolves once the connection is ready; rejects when it ends, fails as many connection attempts
 * as a command may wait for, or is not ready in time.
 *
 * why: ioredis writes SUBSCRIBE at once while it is still handshaking; a reply that lands before
 * its ready check (INFO) puts the connection in subscriber mode, the check fails and ioredis drops
 * the connection, losing what is published meanwhile. A subscriber connection must only be asked
 * to subscribe once it is ready.
 */
export function whenReady(redis: Redis, timeoutMs = 2 * CONNECT_TIMEOUT_MS): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let failures = 0;
    const done = (err?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady).off('end', onEnd).off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const onEnd = () => done(new Error('Connection is closed.'));
    const onError = (err: Error) => {
      if (++failures > MAX_RETRIES) done(err);
    };
    const timer = setTimeout(() => done(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
    redis.on('ready', onReady).on('end', onEnd).on('error', onError);
  });
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
