/**
 * A static table of common EC2 instance types: vCPUs, memory, instance-store disk and the
 * On-Demand Linux price per region.
 *
 * Source: the Amazon EC2 On-Demand pricing page (https://aws.amazon.com/ec2/pricing/on-demand/,
 * Linux, shared tenancy, USD per hour) and the instance type specifications
 * (https://aws.amazon.com/ec2/instance-types/), transcribed as a snapshot of 2024-06. Prices change:
 * this table is a guide, not a bill. Regions not listed here get `price: null`.
 *
 * Within these families AWS prices grow linearly with size, so each family lists the price of
 * one unit (nano for T, large otherwise) and each size its multiple of it.
 */
import type { Size } from '../../types.ts';

/** Regions with prices, in the order of every `unit` array below. */
export const PRICED_REGIONS = ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1'] as const;

interface Family {
  /** USD per hour of one unit, per PRICED_REGIONS entry */
  unit: readonly number[];
  architecture: 'x86_64' | 'arm64';
  burstable: boolean;
  /** instance-store size per unit (GB), 0 for EBS-only */
  diskPerUnit: number;
  /** size suffix, units, vCPUs, memory GiB, network performance as AWS words it */
  sizes: readonly (readonly [string, number, number, number, string])[];
}

const BURSTABLE = (net: string) =>
  [
    ['nano', 1, 2, 0.5, net],
    ['micro', 2, 2, 1, net],
    ['small', 4, 2, 2, net],
    ['medium', 8, 2, 4, net],
    ['large', 16, 2, 8, net],
    ['xlarge', 32, 4, 16, net],
    ['2xlarge', 64, 8, 32, net],
  ] as const;

/** memory GiB per vCPU: 4 (m), 2 (c), 8 (r) */
const STANDARD = (gibPerVcpu: number, net: string, sizes = ['large', 'xlarge', '2xlarge', '4xlarge']) =>
  sizes.map((suffix, i) => [suffix, 2 ** i, 2 * 2 ** i, 2 * 2 ** i * gibPerVcpu, net] as const);

const FAMILIES: Record<string, Family> = {
  t3: { unit: [0.0052, 0.0052, 0.0052, 0.0057, 0.006, 0.0066], architecture: 'x86_64', burstable: true, diskPerUnit: 0, sizes: BURSTABLE('Up to 5 Gigabit') },
  t4g: { unit: [0.0042, 0.0042, 0.0042, 0.0046, 0.0048, 0.0053], architecture: 'arm64', burstable: true, diskPerUnit: 0, sizes: BURSTABLE('Up to 5 Gigabit') },
  m5: { unit: [0.096, 0.096, 0.096, 0.107, 0.115, 0.12], architecture: 'x86_64', burstable: false, diskPerUnit: 0, sizes: STANDARD(4, 'Up to 10 Gigabit') },
  m6i: { unit: [0.096, 0.096, 0.096, 0.107, 0.115, 0.12], architecture: 'x86_64', burstable: false, diskPerUnit: 0, sizes: STANDARD(4, 'Up to 12.5 Gigabit') },
  m5d: { unit: [0.113, 0.113, 0.113, 0.126, 0.136, 0.142], architecture: 'x86_64', burstable: false, diskPerUnit: 75, sizes: STANDARD(4, 'Up to 10 Gigabit', ['large', 'xlarge']) },
  c5: { unit: [0.085, 0.085, 0.085, 0.096, 0.097, 0.098], architecture: 'x86_64', burstable: false, diskPerUnit: 0, sizes: STANDARD(2, 'Up to 10 Gigabit') },
  c6i: { unit: [0.085, 0.085, 0.085, 0.096, 0.097, 0.098], architecture: 'x86_64', burstable: false, diskPerUnit: 0, sizes: STANDARD(2, 'Up to 12.5 Gigabit') },
  c5d: { unit: [0.096, 0.096, 0.096, 0.109, 0.111, 0.112], architecture: 'x86_64', burstable: false, diskPerUnit: 50, sizes: STANDARD(2, 'Up to 10 Gigabit', ['large', 'xlarge']) },
  r5: { unit: [0.126, 0.126, 0.126, 0.141, 0.152, 0.152], architecture: 'x86_64', burstable: false, diskPerUnit: 0, sizes: STANDARD(8, 'Up to 10 Gigabit', ['large', 'xlarge', '2xlarge']) },
  r6i: { unit: [0.126, 0.126, 0.126, 0.141, 0.152, 0.152], architecture: 'x86_64', burstable: false, diskPerUnit: 0, sizes: STANDARD(8, 'Up to 12.5 Gigabit', ['large', 'xlarge', '2xlarge']) },
};

/** Every instance type in the table, with the price for `region` (null when not in the table). */
export function ec2Sizes(region: string | undefined): Size[] {
  const column = (PRICED_REGIONS as readonly string[]).indexOf(region ?? '');
  const out: Size[] = [];
  for (const [family, def] of Object.entries(FAMILIES)) {
    for (const [suffix, units, vcpus, memoryGib, network] of def.sizes) {
      const id = `${family}.${suffix}`;
      const unitPrice = column === -1 ? undefined : def.unit[column];
      out.push({
        id,
        name: id,
        ram: Math.round(memoryGib * 1024),
        disk: def.diskPerUnit * units,
        bandwidth: null,
        price: unitPrice === undefined ? null : Math.round(unitPrice * units * 1e6) / 1e6,
        extra: {
          vcpus,
          architecture: def.architecture,
          burstable: def.burstable,
          networkPerformance: network,
          storage: def.diskPerUnit ? 'nvme-ssd' : 'ebs-only',
          priceSource: column === -1 ? null : 'AWS EC2 On-Demand Linux price, snapshot 2024-06',
        },
      });
    }
  }
  return out;
}
