import DataLoader from 'dataloader';
import type { DnsDriver, DnsRecord, Zone } from '../providers/types.ts';
import { once, perKey, type Batching, type Cached } from './util.ts';

export interface DnsLoaders {
  zones: () => Promise<Zone[]>;
  /** one zone as the provider has it now */
  zone: DataLoader<string, Zone>;
  /** the records of a zone, through the shared result cache */
  records: (zoneId: string) => Promise<DnsRecord[]>;
  /** the same listing made now, for lookups of one record */
  currentRecords: (zoneId: string) => Promise<DnsRecord[]>;
}

export function createDnsLoaders(driver: DnsDriver, cached: Cached, batching: Batching = {}): DnsLoaders {
  const zones = once(async () => {
    const list = await cached.get('listZones', null, () => driver.listZones());
    for (const z of list) zone.prime(z.id, z);
    return list;
  });
  const zone = new DataLoader<string, Zone>(
    (ids) => Promise.all(ids.map((id) => cached.call('getZone', () => driver.getZone(id)).catch((e: unknown) => e as Error))),
    batching,
  );
  const records = perKey((zoneId: string) => cached.get('listRecords', zoneId, () => driver.listRecords(zoneId)));
  const currentRecords = perKey((zoneId: string) => cached.refresh('listRecords', zoneId, () => driver.listRecords(zoneId)));
  return { zones, zone, records, currentRecords };
}
