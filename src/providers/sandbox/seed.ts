/**
 * The sandbox catalog (images, sizes, locations) and the seeded nodes, volumes, key pair,
 * balancer and DNS zones. Ids and data are deterministic (two accounts with the same options see the same
 * ids); only the seeded key pair's key material is random.
 */
import type { Image, Location, NodeState, RecordType, Size } from '../types.ts';
import { addZone, putRecord } from './dns.ts';
import { generateEd25519 } from './ssh-keys.ts';
import {
  allocateAddress,
  emptyState,
  nextId,
  privateAddress,
  type NodeRecord,
  type SandboxState,
} from './state.ts';
import type { SandboxOptions } from './options.ts';

const IMAGES: Image[] = [
  linux('img-ubuntu-2404', 'Ubuntu 24.04 LTS (Noble Numbat)', 'ubuntu', '24.04', 'ubuntu'),
  linux('img-ubuntu-2204', 'Ubuntu 22.04 LTS (Jammy Jellyfish)', 'ubuntu', '22.04', 'ubuntu'),
  linux('img-debian-12', 'Debian 12 (bookworm)', 'debian', '12', 'debian'),
  linux('img-rocky-9', 'Rocky Linux 9.4', 'rocky', '9.4', 'rocky'),
  linux('img-alpine-320', 'Alpine Linux 3.20', 'alpine', '3.20', 'alpine'),
  {
    id: 'img-windows-2022',
    name: 'Windows Server 2022 Datacenter',
    extra: {
      os: 'windows',
      distribution: 'windows-server',
      version: '2022',
      architecture: 'x86_64',
      owner: 'sandbox',
      public: true,
      defaultUser: 'Administrator',
      minDiskGb: 40,
    },
  },
];

const SIZES: Size[] = [
  size('sb-nano', 'Nano (1 vCPU, 512 MiB)', 1, 512, 10, 500, 0.0042),
  size('sb-micro', 'Micro (1 vCPU, 1 GiB)', 1, 1024, 25, 1000, 0.0084),
  size('sb-small', 'Small (2 vCPU, 2 GiB)', 2, 2048, 50, 2000, 0.0168),
  size('sb-medium', 'Medium (2 vCPU, 4 GiB)', 2, 4096, 80, 4000, 0.0336),
  size('sb-large', 'Large (4 vCPU, 8 GiB)', 4, 8192, 160, 5000, 0.0672),
  size('sb-xlarge', 'XLarge (8 vCPU, 32 GiB)', 8, 32768, 320, 10000, 0.2688),
];

const LOCATIONS: Location[] = [
  { id: 'sb-fra1', name: 'Frankfurt 1', country: 'DE', extra: { city: 'Frankfurt', continent: 'EU' } },
  { id: 'sb-ams1', name: 'Amsterdam 1', country: 'NL', extra: { city: 'Amsterdam', continent: 'EU' } },
  { id: 'sb-nyc1', name: 'New York 1', country: 'US', extra: { city: 'New York', continent: 'NA' } },
  { id: 'sb-sgp1', name: 'Singapore 1', country: 'SG', extra: { city: 'Singapore', continent: 'AS' } },
];

/** Seeded nodes cycle through these, so listings show more than one state. */
const SEED_STATES: NodeState[] = ['running', 'running', 'stopped', 'pending'];

/** A fresh account's state at `now` (ms). */
export function seedState(options: SandboxOptions, now: number): SandboxState {
  const state = emptyState(options);
  for (const image of IMAGES) state.images.set(image.id, structuredClone(image));
  for (const s of SIZES) state.sizes.set(s.id, structuredClone(s));
  for (const loc of LOCATIONS) state.locations.set(loc.id, structuredClone(loc));
  if (!options.seed) return state;

  for (let i = 0; i < options.nodes; i++) {
    const node = seedNode(state, i, now);
    state.nodes.set(node.id, node);
  }

  const key = generateEd25519('sandbox-default');
  state.keyPairs.set('sandbox-default', {
    name: 'sandbox-default',
    fingerprint: key.fingerprint,
    publicKey: key.publicKey,
    createdAt: new Date(Date.UTC(2024, 0, 1)),
  });

  const firstNode = state.nodes.get('node-1');
  const dataVolume = nextId(state, 'volume', 'vol');
  state.volumes.set(dataVolume, {
    id: dataVolume,
    name: 'data',
    size: 50,
    locationId: firstNode?.locationId ?? 'sb-fra1',
    createdAt: new Date(Date.UTC(2024, 0, 2)),
    snapshotId: null,
    life: { state: firstNode ? 'inuse' : 'available' },
    nodeId: firstNode?.id ?? null,
    device: firstNode ? '/dev/vdb' : null,
  });
  const snapshot = nextId(state, 'snapshot', 'snap');
  state.snapshots.set(snapshot, {
    id: snapshot,
    volumeId: dataVolume,
    name: 'data-nightly',
    size: 50,
    createdAt: new Date(Date.UTC(2024, 0, 3)),
    life: { state: 'available' },
  });
  const scratch = nextId(state, 'volume', 'vol');
  state.volumes.set(scratch, {
    id: scratch,
    name: 'scratch',
    size: 10,
    locationId: 'sb-ams1',
    createdAt: new Date(Date.UTC(2024, 0, 4)),
    snapshotId: null,
    life: { state: 'available' },
    nodeId: null,
    device: null,
  });

  const balancerId = nextId(state, 'balancer', 'lb');
  const backends = [...state.nodes.values()].slice(0, 2);
  state.balancers.set(balancerId, {
    id: balancerId,
    name: 'web',
    port: 80,
    protocol: 'http',
    algorithm: 'ROUND_ROBIN',
    ip: '198.51.100.10',
    createdAt: new Date(Date.UTC(2024, 0, 5)),
    life: { state: 'running' },
    members: backends.map((node) => ({
      id: nextId(state, 'member', 'member'),
      ip: node.privateIps[0] ?? null,
      port: 8080,
      nodeId: node.id,
      extra: { weight: 1, condition: 'ENABLED' },
    })),
  });
  seedZones(state);
  return state;
}

// --- Internal helpers ---

/** example.com, a master zone with one record of most types (www has two A values); example.net, a slave zone. */
function seedZones(state: SandboxState): void {
  const com = addZone(state, { domain: 'example.com', type: 'master', ttl: 3600, email: 'hostmaster@example.com', masters: [] }, new Date(Date.UTC(2024, 0, 6)));
  const records: [string, RecordType, string, number | null][] = [
    ['', 'A', '198.51.100.10', null],
    ['www', 'A', '203.0.113.1', null],
    ['www', 'A', '203.0.113.2', null],
    ['www', 'AAAA', '2001:db8::10', null],
    ['', 'MX', 'mail.example.com', 10],
    ['', 'MX', 'mail2.example.com', 20],
    ['mail', 'A', '203.0.113.25', null],
    ['', 'TXT', 'v=spf1 mx -all', null],
    ['docs', 'CNAME', 'www.example.com', null],
    ['_sip._tcp', 'SRV', '5 5060 sip.example.com', 10],
    ['', 'CAA', '0 issue "letsencrypt.org"', null],
  ];
  for (const [name, type, data, priority] of records) {
    putRecord(com, { name, type, data, ttl: type === 'A' ? 300 : undefined, priority }, nextId(state, 'record', 'rec'));
  }
  const net = addZone(state, { domain: 'example.net', type: 'slave', ttl: 86400, email: 'hostmaster@example.net', masters: ['192.0.2.53'] }, new Date(Date.UTC(2024, 0, 7)));
  putRecord(net, { name: '', type: 'A', data: '192.0.2.80', ttl: undefined, priority: null }, nextId(state, 'record', 'rec'));
}

function seedNode(state: SandboxState, i: number, now: number): NodeRecord {
  const id = nextId(state, 'node', 'node');
  const image = IMAGES[i % (IMAGES.length - 1)]!;
  const location = LOCATIONS[i % LOCATIONS.length]!;
  const seeded = SEED_STATES[i % SEED_STATES.length]!;
  return {
    id,
    name: `${i % 2 === 0 ? 'web' : 'worker'}-${String(i + 1).padStart(2, '0')}`,
    sizeId: SIZES[1 + (i % 3)]!.id,
    imageId: image.id,
    locationId: location.id,
    // why: every fourth node is private-only, so attachNode's private-IP fallback has data
    publicIps: i % 4 === 1 ? [] : [allocateAddress(state)],
    privateIps: [privateAddress(state.counters.node)],
    createdAt: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000),
    keyName: 'sandbox-default',
    tags: { role: i % 2 === 0 ? 'web' : 'worker' },
    life:
      seeded === 'pending'
        ? { state: 'pending', next: { state: 'running', at: now + state.options.transitionMs } }
        : { state: seeded },
  };
}

function linux(id: string, name: string, distribution: string, version: string, user: string): Image {
  return {
    id,
    name,
    extra: { os: 'linux', distribution, version, architecture: 'x86_64', owner: 'sandbox', public: true, defaultUser: user, minDiskGb: 10 },
  };
}

function size(id: string, name: string, vcpus: number, ram: number, disk: number, bandwidth: number, price: number): Size {
  return { id, name, ram, disk, bandwidth, price, extra: { vcpus, currency: 'USD', billing: 'hourly' } };
}
