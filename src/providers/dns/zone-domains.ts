/**
 * The domain of each zone id, for drivers that need it to build owner names but address zones by
 * an id that does not carry it (Route 53, Cloud DNS). Zones do not move, so a zone is looked up
 * once; an answer that carried the domain primes it, and a failed look-up is not kept.
 */
import type { Zone } from '../types.ts';

export interface ZoneDomains {
  /** the zone's domain, looked up on first use */
  get(zoneId: string): Promise<string>;
  /** remembers the domain of a zone an answer carried; gives the zone back */
  prime(zone: Zone): Zone;
  /** forgets a deleted zone */
  forget(zoneId: string): void;
}

/** `lookup` is called with the key of a zone id (`key`, default the id itself). */
export function zoneDomains(lookup: (key: string) => Promise<string>, key: (zoneId: string) => string = (id) => id): ZoneDomains {
  const domains = new Map<string, Promise<string>>();
  return {
    get(zoneId) {
      const k = key(zoneId);
      let found = domains.get(k);
      if (!found) {
        found = lookup(k);
        found.catch(() => domains.delete(k));
        domains.set(k, found);
      }
      return found;
    },
    prime(zone) {
      domains.set(zone.id, Promise.resolve(zone.domain));
      return zone;
    },
    forget(zoneId) {
      domains.delete(key(zoneId));
    },
  };
}
