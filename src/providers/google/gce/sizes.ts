/**
 * On-demand Linux prices of common Compute Engine machine types. The API has no prices, so this
 * is a snapshot of Google's VM instance pricing page (https://cloud.google.com/compute/vm-instance-pricing,
 * USD per hour, 2024) for the Iowa, South Carolina and Oregon regions, which share one price list.
 * Prices change: this is a guide, not a bill. Other regions, and families not listed, get `price: null`.
 *
 * Predefined types (`<family>-standard|highmem|highcpu-<n>`) cost vCPUs x the family's vCPU rate
 * plus memory GB x its memory rate, with the vCPU count and memory taken from the API's machine
 * type; the shared-core types have fixed prices.
 */

/** Regions the table prices (all three share the same list). */
export const PRICED_REGIONS: readonly string[] = ['us-central1', 'us-east1', 'us-west1'];

/** USD per vCPU-hour and per GB-hour of memory. */
const FAMILY_RATES: Record<string, { vcpu: number; gb: number }> = {
  e2: { vcpu: 0.021811, gb: 0.002923 },
  n1: { vcpu: 0.031611, gb: 0.004237 },
  n2: { vcpu: 0.031611, gb: 0.004237 },
  n2d: { vcpu: 0.027502, gb: 0.003686 },
  t2d: { vcpu: 0.027502, gb: 0.003686 },
  c2: { vcpu: 0.03398, gb: 0.00455 },
};

/** Shared-core types, USD per hour. */
const FIXED: Record<string, number> = {
  'e2-micro': 0.008376,
  'e2-small': 0.016751,
  'e2-medium': 0.033503,
  'f1-micro': 0.0076,
  'g1-small': 0.0257,
};

const PREDEFINED = /^([a-z0-9]+)-(standard|highmem|highcpu)-\d+$/;

/** The hourly price of a machine type in `region`, or null when the table does not know it. */
export function machineTypePrice(name: string, region: string, guestCpus: number | undefined, memoryMb: number | undefined): number | null {
  if (!PRICED_REGIONS.includes(region)) return null;
  const fixed = FIXED[name];
  if (fixed !== undefined) return fixed;
  const family = PREDEFINED.exec(name)?.[1];
  const rates = family === undefined ? undefined : FAMILY_RATES[family];
  if (!rates || guestCpus === undefined || memoryMb === undefined) return null;
  return Math.round((guestCpus * rates.vcpu + (memoryMb / 1024) * rates.gb) * 1e6) / 1e6;
}

/** Where the price came from, for Size.extra. */
export const PRICE_SOURCE = 'Compute Engine on-demand Linux price (us-central1/us-east1/us-west1), snapshot 2024';
