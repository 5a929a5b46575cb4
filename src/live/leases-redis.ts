/**
 * Leases in Redis: SET NX PX to take one, Lua compare-and-renew / compare-and-delete so only the
 * holder extends or drops it, and a fenced snapshot write (only while holding the lease).
 * Keys: `skygraph:lease:<key>` and `skygraph:snapshot:<key>`.
 */
import { closeRedis, connectRedis, type RedisConnectionOptions } from './redis-connection.ts';
import type { LeaseStore } from './types.ts';

const LEASE_PREFIX = 'skygraph:lease:';
const SNAPSHOT_PREFIX = 'skygraph:snapshot:';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

const SAVE_SNAPSHOT = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

/** Leases and snapshots in Redis at `url`, on their own connection; close() quits it. */
export function redisLeases(url: string, opts: RedisConnectionOptions = {}): LeaseStore {
  const redis = connectRedis(url, 'leases', opts);
  const ms = (ttlMs: number) => String(Math.max(1, Math.ceil(ttlMs)));

  async function renew(key: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await redis.eval(RENEW, 1, LEASE_PREFIX + key, holder, ms(ttlMs))) === 1;
  }

  return {
    async acquire(key, holder, ttlMs) {
      const taken = await redis.set(LEASE_PREFIX + key, holder, 'PX', ms(ttlMs), 'NX');
      if (taken === 'OK') return true;
      // why: a holder re-acquiring its own lease (e.g. a poller restarted on the same replica)
      return renew(key, holder, ttlMs);
    },
    renew,
    async release(key, holder) {
      await redis.eval(RELEASE, 1, LEASE_PREFIX + key, holder);
    },
    async loadSnapshot(key) {
      return redis.get(SNAPSHOT_PREFIX + key);
    },
    async saveSnapshot(key, holder, value, ttlMs) {
      const saved = await redis.eval(SAVE_SNAPSHOT, 2, LEASE_PREFIX + key, SNAPSHOT_PREFIX + key, holder, value, ms(ttlMs));
      return saved === 1;
    },
    async close() {
      await closeRedis(redis);
    },
  };
}
