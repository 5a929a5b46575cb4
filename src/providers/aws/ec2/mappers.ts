/**
 * EC2 XML (as parsed by the connection, lists as arrays of `<item>`) -> skygraph models.
 *
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Instance.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Image.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AvailabilityZone.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_KeyPairInfo.html
 */
import { isIP } from 'node:net';
import type { Image, KeyPair, Location, Node } from '../../types.ts';
import { AWS_REGIONS } from '../regions.ts';
import type { XmlObject } from './api.ts';
import { toNodeState } from './states.ts';

/** Instances of a DescribeInstances / RunInstances page, with their reservation's ids. */
export function toNodes(page: XmlObject): Node[] {
  const out: Node[] = [];
  for (const reservation of items(page.reservationSet)) {
    for (const instance of items(reservation.instancesSet)) {
      out.push(toNode(instance, { reservationId: text(reservation.reservationId), ownerId: text(reservation.ownerId) }));
    }
  }
  return out;
}

export function toNode(instance: XmlObject, reservation: { reservationId?: string | undefined; ownerId?: string | undefined } = {}): Node {
  const id = text(instance.instanceId) ?? '';
  const tags = toTags(instance.tagSet);
  const state = obj(instance.instanceState);
  const publicIps = new Set<string>();
  const privateIps = new Set<string>();
  const elasticIps = new Set<string>();
  const addPublic = (ip: string | undefined, ownerId?: string) => {
    if (!ip || isIP(ip) === 0) return;
    publicIps.add(ip);
    // why: an auto-assigned public IPv4 is owned by "amazon"; an Elastic IP by the account
    if (ownerId !== undefined && ownerId !== 'amazon') elasticIps.add(ip);
  };
  const addPrivate = (ip: string | undefined) => {
    if (ip && isIP(ip) !== 0) privateIps.add(ip);
  };

  addPublic(text(instance.ipAddress));
  addPrivate(text(instance.privateIpAddress));
  const interfaces = items(instance.networkInterfaceSet);
  for (const eni of interfaces) {
    const association = obj(eni.association);
    addPublic(text(association.publicIp), text(association.ipOwnerId));
    addPrivate(text(eni.privateIpAddress));
    for (const address of items(eni.privateIpAddressesSet)) {
      addPrivate(text(address.privateIpAddress));
      const assoc = obj(address.association);
      addPublic(text(assoc.publicIp), text(assoc.ipOwnerId));
    }
  }
  // why: IPv6 addresses of an instance are globally routable, so they are public ones
  for (const eni of interfaces) for (const v6 of items(eni.ipv6AddressesSet)) addPublic(text(v6.ipv6Address));

  const placement = obj(instance.placement);
  const launchTime = date(text(instance.launchTime));
  const stateReason = obj(instance.stateReason);
  return {
    id,
    name: tags['Name'] || id,
    state: toNodeState(text(state.code), text(state.name)),
    publicIps: [...publicIps],
    privateIps: [...privateIps],
    sizeId: text(instance.instanceType) ?? null,
    imageId: text(instance.imageId) ?? null,
    locationId: text(placement.availabilityZone) ?? null,
    createdAt: launchTime,
    tags,
    extra: compact({
      instanceState: text(state.name),
      stateReason: text(stateReason.message) ?? text(instance.reason),
      keyName: text(instance.keyName),
      vpcId: text(instance.vpcId),
      subnetId: text(instance.subnetId),
      securityGroups: items(instance.groupSet).map((g) => compact({ id: text(g.groupId), name: text(g.groupName) })),
      elasticIps: [...elasticIps],
      networkInterfaceIds: interfaces.map((eni) => text(eni.networkInterfaceId)).filter((v): v is string => v !== undefined),
      architecture: text(instance.architecture),
      platform: text(instance.platformDetails) ?? text(instance.platform),
      privateDnsName: text(instance.privateDnsName),
      publicDnsName: text(instance.dnsName),
      rootDeviceType: text(instance.rootDeviceType),
      rootDeviceName: text(instance.rootDeviceName),
      virtualizationType: text(instance.virtualizationType),
      hypervisor: text(instance.hypervisor),
      lifecycle: text(instance.instanceLifecycle) ?? 'on-demand',
      tenancy: text(placement.tenancy),
      monitoring: text(obj(instance.monitoring).state),
      ebsOptimized: bool(text(instance.ebsOptimized)),
      iamInstanceProfile: text(obj(instance.iamInstanceProfile).arn),
      clientToken: text(instance.clientToken),
      reservationId: reservation.reservationId,
      ownerId: reservation.ownerId,
    }),
  };
}

export function toImage(image: XmlObject): Image {
  const id = text(image.imageId) ?? '';
  return {
    id,
    name: text(image.name) ?? id,
    extra: compact({
      description: text(image.description),
      state: text(image.imageState),
      ownerId: text(image.imageOwnerId),
      ownerAlias: text(image.imageOwnerAlias),
      isPublic: bool(text(image.isPublic)),
      architecture: text(image.architecture),
      imageType: text(image.imageType),
      platform: text(image.platformDetails) ?? text(image.platform),
      rootDeviceType: text(image.rootDeviceType),
      rootDeviceName: text(image.rootDeviceName),
      virtualizationType: text(image.virtualizationType),
      hypervisor: text(image.hypervisor),
      imageLocation: text(image.imageLocation),
      creationDate: text(image.creationDate),
      deprecationTime: text(image.deprecationTime),
      blockDeviceMappings: items(image.blockDeviceMapping).map((m) => {
        const ebs = obj(m.ebs);
        return compact({
          deviceName: text(m.deviceName),
          snapshotId: text(ebs.snapshotId),
          volumeSize: int(text(ebs.volumeSize)),
          volumeType: text(ebs.volumeType),
          virtualName: text(m.virtualName),
        });
      }),
      tags: toTags(image.tagSet),
    }),
  };
}

export function toLocation(zone: XmlObject): Location {
  const id = text(zone.zoneName) ?? '';
  const region = text(zone.regionName);
  const info = region ? AWS_REGIONS[region] : undefined;
  return {
    id,
    name: id,
    country: info?.country ?? '',
    extra: compact({
      zoneId: text(zone.zoneId),
      region,
      regionName: info?.name,
      state: text(zone.zoneState),
      zoneType: text(zone.zoneType),
      optInStatus: text(zone.optInStatus),
      networkBorderGroup: text(zone.networkBorderGroup),
    }),
  };
}

export function toKeyPair(key: XmlObject, privateKey?: string): KeyPair {
  const pair: KeyPair = {
    name: text(key.keyName) ?? '',
    fingerprint: text(key.keyFingerprint) ?? null,
    publicKey: text(key.publicKey) ?? null,
    extra: compact({ keyPairId: text(key.keyPairId), keyType: text(key.keyType), createdAt: text(key.createTime), tags: toTags(key.tagSet) }),
  };
  if (privateKey !== undefined) pair.privateKey = privateKey;
  return pair;
}

/** `<tagSet><item><key/><value/></item></tagSet>` -> `{key: value}` */
export function toTags(tagSet: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of items(tagSet)) {
    const key = text(tag.key);
    if (key !== undefined) out[key] = text(tag.value) ?? '';
  }
  return out;
}

/** The `<item>` children of a list element (`''` or missing -> []). */
export function items(list: unknown): XmlObject[] {
  if (list === null || typeof list !== 'object') return [];
  const item = (list as XmlObject).item;
  const all: unknown[] = Array.isArray(item) ? item : item === undefined ? [] : [item];
  // why: called for every list of every instance; copy only when something must be dropped
  return all.every(isObject) ? (all as XmlObject[]) : all.filter(isObject);
}

/** A leaf's text; undefined for missing or empty elements. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

// --- Internal helpers ---

function obj(value: unknown): XmlObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as XmlObject) : {};
}

function date(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at;
}

function bool(value: string | undefined): boolean | undefined {
  return value === 'true' ? true : value === 'false' ? false : undefined;
}

function int(value: string | undefined): number | undefined {
  const n = value === undefined ? NaN : Number(value);
  return Number.isInteger(n) ? n : undefined;
}

/** Drops undefined fields so `extra` stays small and JSON-clean. */
function compact<T extends Record<string, unknown>>(value: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in value) {
    const v = value[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function isObject(value: unknown): value is XmlObject {
  return value !== null && typeof value === 'object';
}
