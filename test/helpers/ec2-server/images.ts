/** Images (catalogue, CreateImage, CopyImage, DeregisterImage), availability zones and key pairs. */
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import ssh2 from 'ssh2';
import type { InstanceApi } from './instances.ts';
import { filters, numbered } from './params.ts';
import { EC2_OWNER_ID } from './constants.ts';
import { Fault, type Handler } from './routing.ts';
import { IMAGE_ID, type Ec2Sim, type RegionState } from './state.ts';
import { esc, field, hex, template } from './xml.ts';

export function createImageApi(sim: Ec2Sim, instances: InstanceApi): Record<string, Handler> {
  const { region, images, failures, later, current, paginate, unsupported } = sim;
  const { findInstances } = instances;
  const imageTpl = template('templates/image.xml');
  const keyTpl = template('templates/key-pair.xml');
  const zonesTpl = template('describe-availability-zones.xml');

  const handlers: Record<string, Handler> = {
    DescribeImages(q, name) {
      const ids = numbered(q, 'ImageId');
      if (ids.length && q.has('MaxResults')) throw new Fault(400, 'InvalidParameterCombination', 'The parameter ImageIds cannot be used with the parameter MaxResults');
      const owners = numbered(q, 'Owner');
      const list = filters(q);
      if (!ids.length && !owners.length && !list.some((f) => f.name === 'image-id')) {
        failures.push('DescribeImages without Owner, ImageId or an image-id filter asks for the whole public catalogue');
      }
      for (const id of ids) {
        if (!IMAGE_ID.test(id)) throw new Fault(400, 'InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
        if (!images.some((i) => i.id === id && inRegion(i, name))) throw new Fault(400, 'InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
      }
      const selected = images.filter(
        (image) =>
          inRegion(image, name) &&
          (image.isPublic || image.ownerId === EC2_OWNER_ID) &&
          (!ids.length || ids.includes(image.id)) &&
          (!owners.length || owners.some((o) => (o === 'self' ? image.ownerId === EC2_OWNER_ID : o === image.ownerId || o === image.alias))) &&
          list.every((f) => {
            if (f.name === 'image-id') return f.values.includes(image.id);
            if (f.name === 'name') return f.values.some((v) => glob(v).test(image.name));
            throw unsupported(`DescribeImages filter ${f.name}`);
          }),
      );
      const { slice, nextToken } = paginate(q, selected);
      return `<imagesSet>${slice.map((i) => i.xml()).join('')}</imagesSet>${nextToken}`;
    },
    DescribeAvailabilityZones(_q, name) {
      const xml = zonesTpl({ requestId: randomUUID(), region: name, zoneIdPrefix: name.split('-').map((p, i) => (i === 0 ? p : p[0])).join('') });
      return /<availabilityZoneInfo>[\s\S]*<\/availabilityZoneInfo>/.exec(xml)![0];
    },
    DescribeKeyPairs(q, name) {
      const state = region(name);
      const withKey = q.get('IncludePublicKey') === 'true';
      const names = numbered(q, 'KeyName');
      for (const n of names) if (!state.keys.has(n)) throw new Fault(400, 'InvalidKeyPair.NotFound', `The key pair '${n}' does not exist`);
      const keys = [...state.keys.values()].filter((k) => !names.length || names.includes(k.name));
      return `<keySet>${keys.map((k) => k.xml(withKey)).join('')}</keySet>`;
    },
    CreateKeyPair(q, name) {
      const keyName = newKeyName(region(name), q.get('KeyName')!);
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      const parsed = ssh2.utils.parseKey(pem);
      if (parsed instanceof Error) throw parsed;
      const fingerprint = colonHex(createHash('sha1').update(privateKey.export({ type: 'pkcs8', format: 'der' })).digest());
      const id = addKey(region(name), keyName, 'rsa', fingerprint, `ssh-rsa ${parsed.getPublicSSH().toString('base64')}`);
      return `<keyName>${esc(keyName)}</keyName><keyFingerprint>${fingerprint}</keyFingerprint><keyMaterial>${esc(pem.trim())}</keyMaterial><keyPairId>${id}</keyPairId>`;
    },
    ImportKeyPair(q, name) {
      const keyName = newKeyName(region(name), q.get('KeyName')!);
      const line = Buffer.from(q.get('PublicKeyMaterial')!, 'base64').toString('utf8').trim();
      const m = /^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp\d+) ([A-Za-z0-9+/]+={0,2})(\s|$)/.exec(line);
      if (!m) throw new Fault(400, 'InvalidKey.Format', 'Key is not in valid OpenSSH public key format');
      const blob = Buffer.from(m[2]!, 'base64');
      const fingerprint = m[1] === 'ssh-rsa' ? colonHex(createHash('md5').update(blob).digest()) : createHash('sha256').update(blob).digest('base64');
      const id = addKey(region(name), keyName, m[1] === 'ssh-rsa' ? 'rsa' : m[1]!.replace('ssh-', ''), fingerprint, `${m[1]} ${m[2]}`);
      return `<keyName>${esc(keyName)}</keyName><keyFingerprint>${fingerprint}</keyFingerprint><keyPairId>${id}</keyPairId>`;
    },
    DeleteKeyPair(q, name) {
      region(name).keys.delete(q.get('KeyName')!);
      return '<return>true</return>';
    },
    CreateImage(q, name) {
      const [instance] = findInstances(region(name), new URLSearchParams({ 'InstanceId.1': q.get('InstanceId')! }));
      const imageName = q.get('Name')!;
      if (images.some((i) => i.ownerId === EC2_OWNER_ID && i.name === imageName)) throw new Fault(400, 'InvalidAMIName.Duplicate', `AMI name ${imageName} is already in use by an AMI`);
      const serial = sim.nextSerial();
      const id = `ami-0e${hex(serial, 15)}`;
      const status = later('pending', 'available');
      const vars = { imageId: id, ownerId: EC2_OWNER_ID, name: imageName, description: q.get('Description') ?? '', instanceId: instance!.id, snapshotId: `snap-0e${hex(serial, 15)}`, creationDate: new Date().toISOString(), architecture: field(instance!.parts[1], 'architecture') ?? 'x86_64' };
      images.push({ id, ownerId: EC2_OWNER_ID, alias: undefined, name: imageName, isPublic: false, region: name, xml: () => imageTpl({ ...vars, state: current(status) }) });
      return `<imageId>${id}</imageId>`;
    },
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopyImage.html: sent to the destination region
    CopyImage(q, name) {
      const sourceRegion = q.get('SourceRegion')!;
      const sourceId = q.get('SourceImageId')!;
      if (!IMAGE_ID.test(sourceId)) throw new Fault(400, 'InvalidAMIID.Malformed', `Invalid id: "${sourceId}" (expecting "ami-...")`);
      const source = images.find((i) => i.id === sourceId && inRegion(i, sourceRegion) && (i.isPublic || i.ownerId === EC2_OWNER_ID));
      if (!source) throw new Fault(400, 'InvalidAMIID.NotFound', `The image id '[${sourceId}]' does not exist`);
      const imageName = q.get('Name')!;
      const serial = sim.nextSerial();
      const id = `ami-0c${hex(serial, 15)}`;
      const status = later('pending', 'available');
      const vars = { imageId: id, ownerId: EC2_OWNER_ID, name: imageName, description: q.get('Description') ?? '', instanceId: '', snapshotId: `snap-0c${hex(serial, 15)}`, creationDate: new Date().toISOString(), architecture: 'x86_64' };
      images.push({ id, ownerId: EC2_OWNER_ID, alias: undefined, name: imageName, isPublic: false, region: name, xml: () => imageTpl({ ...vars, state: current(status) }) });
      return `<imageId>${id}</imageId>`;
    },
    DeregisterImage(q) {
      const id = q.get('ImageId')!;
      const at = images.findIndex((i) => i.id === id && i.ownerId === EC2_OWNER_ID);
      if (at === -1) throw new Fault(400, 'InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
      images.splice(at, 1);
      return '<return>true</return>';
    },
  };

  function addKey(state: RegionState, name: string, keyType: string, fingerprint: string, publicKey: string): string {
    const keyPairId = `key-0${hex(state.keys.size + 1, 16)}`;
    const base = { keyPairId, keyType, keyName: name, fingerprint, createTime: new Date().toISOString() };
    state.keys.set(name, { name, xml: (withKey) => keyTpl({ ...base, publicKeyXml: withKey ? `<publicKey>${esc(publicKey)}</publicKey>` : '' }) });
    return keyPairId;
  }

  function newKeyName(state: RegionState, name: string): string {
    if (state.keys.has(name)) throw new Fault(400, 'InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
    return name;
  }

  return handlers;
}

function inRegion(image: { region?: string | undefined }, region: string): boolean {
  return image.region === undefined || image.region === region;
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
}

function colonHex(buf: Buffer): string {
  return [...buf].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
