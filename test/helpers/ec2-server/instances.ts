/** Instances: DescribeInstances (recorded, launched and generated), RunInstances, state changes and tags. */
import { INSTANCE_ID, IMAGE_ID, STATE_NAMES, toRecord, type Ec2Sim, type InstanceRecord, type RegionState } from './state.ts';
import { EC2_OWNER_ID } from './constants.ts';
import { Fault, type Handler } from './routing.ts';
import { filters, numbered } from './params.ts';
import { esc, hex, instanceVars, template } from './xml.ts';

export function createInstanceApi(sim: Ec2Sim) {
  const { seedRegion, transitionMs, region, images, generatedIds, paginate, unsupported } = sim;
  const instanceTpl = template('templates/instance.xml');
  const reservationTpl = template('templates/reservation.xml');
  const codeOf = (rec: InstanceRecord): number => {
    if (rec.next && Date.now() >= rec.next.at) {
      rec.code = rec.next.code;
      rec.next = undefined;
    }
    return rec.code;
  };
  const renderInstance = (rec: InstanceRecord): string => {
    const code = codeOf(rec);
    const tags = [...rec.tags].map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`).join('');
    const devices = [...rec.devices].map(([device, volumeId]) => `<item><deviceName>${device}</deviceName><ebs><volumeId>${volumeId}</volumeId><status>attached</status></ebs></item>`).join('');
    const middle = devices ? rec.parts[1].replace(/<blockDeviceMapping\/>|<\/blockDeviceMapping>/, (m) => `${m === '<blockDeviceMapping/>' ? '<blockDeviceMapping>' : ''}${devices}</blockDeviceMapping>`) : rec.parts[1];
    return `${rec.parts[0]}<instanceState><code>${code}</code><name>${STATE_NAMES[code]}</name></instanceState>${middle}<tagSet>${tags}</tagSet>${rec.parts[2]}`;
  };
  const findInstances = (state: RegionState, q: URLSearchParams): InstanceRecord[] =>
    numbered(q, 'InstanceId').map((id) => {
      if (!INSTANCE_ID.test(id)) throw new Fault(400, 'InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
      const rec = state.instances.get(id);
      if (!rec) throw new Fault(400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      return rec;
    });
  const move = (action: string, state: RegionState, q: URLSearchParams, rule: (code: number) => [number, number?] | undefined) => {
    const recs = findInstances(state, q);
    const changes = recs.map((rec) => {
      const before = codeOf(rec);
      const step = rule(before);
      if (!step) throw new Fault(400, 'IncorrectInstanceState', `The instance '${rec.id}' is not in a state from which it can be ${action}.`);
      const [now, then] = step;
      rec.code = now;
      rec.next = then === undefined ? undefined : { code: then, at: Date.now() + transitionMs };
      return `<item><instanceId>${rec.id}</instanceId><currentState><code>${now}</code><name>${STATE_NAMES[now]}</name></currentState><previousState><code>${before}</code><name>${STATE_NAMES[before]}</name></previousState></item>`;
    });
    return `<instancesSet>${changes.join('')}</instancesSet>`;
  };

  const handlers: Record<string, Handler> = {
    DescribeInstances(q, name) {
      const state = region(name);
      const ids = numbered(q, 'InstanceId');
      if (ids.length && q.has('MaxResults')) throw new Fault(400, 'InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
      let wanted: Set<string> | undefined = ids.length ? new Set(findInstances(state, q).map((r) => r.id)) : undefined;
      for (const filter of filters(q)) {
        if (filter.name !== 'instance-id') throw unsupported(`DescribeInstances filter ${filter.name}`);
        wanted = new Set(filter.values.filter((v) => !wanted || wanted.has(v)));
      }
      const all: (string | InstanceRecord)[] = [...(name === seedRegion ? generatedIds : []), ...state.instances.values()];
      const selected = wanted ? all.filter((x) => wanted.has(typeof x === 'string' ? x : x.id)) : all;
      const { slice, nextToken } = paginate(q, selected);
      const reservations: string[] = [];
      let group: string[] = [];
      let current: { reservationId: string; ownerId: string } | undefined;
      const flush = () => current && reservations.push(reservationTpl({ ...current, instancesXml: group.join('') }));
      for (const x of slice) {
        const rec = typeof x === 'string' ? generatedInstance(x) : { ...x, xml: renderInstance(x) };
        if (rec.reservationId !== current?.reservationId) {
          flush();
          current = { reservationId: rec.reservationId, ownerId: rec.ownerId };
          group = [];
        }
        group.push(rec.xml);
      }
      flush();
      return `<reservationSet>${reservations.join('')}</reservationSet>${nextToken}`;
    },
    RunInstances(q, name) {
      const state = region(name);
      const token = q.get('ClientToken')!;
      const fingerprint = [...q].filter(([k]) => !['Action', 'Version', 'ClientToken'].includes(k)).sort().join('&');
      const earlier = state.tokens.get(token);
      if (earlier && earlier.fingerprint !== fingerprint) {
        throw new Fault(400, 'IdempotentParameterMismatch', 'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).');
      }
      if (!earlier) state.tokens.set(token, { id: launch(q, name, state), fingerprint });
      const rec = state.instances.get(state.tokens.get(token)!.id)!;
      return `<reservationId>${rec.reservationId}</reservationId><ownerId>${EC2_OWNER_ID}</ownerId><groupSet/><instancesSet>${renderInstance(rec)}</instancesSet>`;
    },
    StartInstances: (q, name) => move('started', region(name), q, (c) => (c === 80 ? [0, 16] : c === 0 || c === 16 ? [c] : undefined)),
    StopInstances: (q, name) => move('stopped', region(name), q, (c) => (c === 16 || c === 0 ? [64, 80] : c === 64 || c === 80 ? [c] : undefined)),
    TerminateInstances: (q, name) => move('terminated', region(name), q, (c) => (c === 48 ? [48] : c === 32 ? [32] : [32, 48])),
    RebootInstances(q, name) {
      for (const rec of findInstances(region(name), q)) {
        if (codeOf(rec) !== 16) throw new Fault(400, 'IncorrectInstanceState', `The instance '${rec.id}' is not in a state from which it can be rebooted.`);
      }
      return '<return>true</return>';
    },
    CreateTags(q, name) {
      const recs = tagTargets(region(name), q);
      for (let i = 1; q.has(`Tag.${i}.Key`); i++) for (const rec of recs) rec.tags.set(q.get(`Tag.${i}.Key`)!, q.get(`Tag.${i}.Value`) ?? '');
      return '<return>true</return>';
    },
    DeleteTags(q, name) {
      const recs = tagTargets(region(name), q);
      for (let i = 1; q.has(`Tag.${i}.Key`); i++) for (const rec of recs) rec.tags.delete(q.get(`Tag.${i}.Key`)!);
      return '<return>true</return>';
    },
    DescribeTags(q, name) {
      let recs = [...region(name).instances.values()];
      for (const f of filters(q)) {
        if (f.name !== 'resource-id') throw unsupported(`DescribeTags filter ${f.name}`);
        recs = recs.filter((r) => f.values.includes(r.id));
      }
      const rows = recs.flatMap((r) => [...r.tags].map(([k, v]) => ({ r, k, v })));
      const { slice, nextToken } = paginate(q, rows);
      const xml = slice.map(({ r, k, v }) => `<item><resourceId>${r.id}</resourceId><resourceType>instance</resourceType><key>${esc(k)}</key><value>${esc(v)}</value></item>`);
      return `<tagSet>${xml.join('')}</tagSet>${nextToken}`;
    },
  };

  function launch(q: URLSearchParams, name: string, state: RegionState): string {
    const imageId = q.get('ImageId')!;
    if (!IMAGE_ID.test(imageId)) throw new Fault(400, 'InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
    if (!images.some((i) => i.id === imageId)) throw new Fault(400, 'InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(q.get('InstanceType')!)) throw new Fault(400, 'InvalidParameterValue', `Invalid value '${q.get('InstanceType')}' for InstanceType.`);
    if (q.get('MinCount') !== '1' || q.get('MaxCount') !== '1') throw unsupported('RunInstances with MinCount/MaxCount other than 1');
    const keyName = q.get('KeyName');
    if (keyName !== null && !state.keys.has(keyName)) throw new Fault(400, 'InvalidKeyPair.NotFound', `The key pair '${keyName}' does not exist`);
    const zone = q.get('Placement.AvailabilityZone') ?? `${name}a`;
    if (!new RegExp(`^${name}[abc]$`).test(zone)) throw new Fault(400, 'InvalidParameterValue', `Invalid availability zone: [${zone}]`);
    const userData = q.get('UserData');
    if (userData !== null && Buffer.from(userData, 'base64').toString('base64') !== userData) throw new Fault(400, 'InvalidUserData.Malformed', 'User data must be base64 encoded.');
    const n = state.launched.length + 1;
    const id = `i-0f${hex(n, 15)}`;
    const groups = [...numbered(q, 'SecurityGroupId').map((g) => [g, g] as const), ...numbered(q, 'SecurityGroup').map((g) => [`sg-0e${hex(n, 15)}`, g] as const)];
    const xml = instanceTpl({
      ...instanceVars(id, n, { imageId, instanceType: q.get('InstanceType')!, zone, region: name, publicIp: undefined }),
      subnetId: q.get('SubnetId') ?? 'subnet-0defa017000000001',
      keyNameXml: keyName === null ? '' : `<keyName>${esc(keyName)}</keyName>`,
      groupsXml: groups.map(([gid, gname]) => `<item><groupId>${esc(gid)}</groupId><groupName>${esc(gname)}</groupName></item>`).join(''),
      clientToken: q.get('ClientToken')!,
      launchTime: new Date().toISOString().replace(/\.\d+Z$/, '.000Z'),
    });
    const rec = toRecord(xml, `r-0f${hex(n, 15)}`, EC2_OWNER_ID);
    for (let i = 1; q.has(`TagSpecification.1.Tag.${i}.Key`); i++) rec.tags.set(q.get(`TagSpecification.1.Tag.${i}.Key`)!, q.get(`TagSpecification.1.Tag.${i}.Value`) ?? '');
    rec.code = 0;
    rec.next = { code: 16, at: Date.now() + transitionMs };
    state.instances.set(id, rec);
    state.launched.push(id);
    return id;
  }

  function generatedInstance(id: string): { reservationId: string; ownerId: string; xml: string } {
    const i = Number.parseInt(id.slice(2), 16) - 1;
    const imageIds = ['ami-0c1d2e3f4a5b6c7d8', 'ami-0123456789abcdef1', 'ami-0d2e3f4a5b6c7d8e9', 'ami-0f9e8d7c6b5a49382'];
    const types = ['t3.micro', 't3.small', 't4g.medium', 'm5.large', 'm6i.xlarge', 'c6i.large', 'r6i.large', 'c5.2xlarge'];
    const stopped = i % 10 === 9;
    const vars = instanceVars(id, i, {
      imageId: imageIds[i % imageIds.length]!,
      instanceType: types[i % types.length]!,
      zone: `${seedRegion}${'abc'[i % 3]}`,
      region: seedRegion,
      publicIp: stopped || i % 2 === 1 ? undefined : `54.${160 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${i & 255}`,
    });
    const xml = instanceTpl({
      ...vars,
      stateCode: stopped ? '80' : '16',
      stateName: stopped ? 'stopped' : 'running',
      subnetId: `subnet-0a${hex(i % 3, 15)}`,
      keyNameXml: '<keyName>deploy-2024</keyName>',
      groupsXml: '<item><groupId>sg-0f1e2d3c4b5a69781</groupId><groupName>web</groupName></item>',
      clientToken: '',
      tagsXml: `<item><key>Name</key><value>node-${i}</value></item><item><key>env</key><value>${i % 3 === 0 ? 'prod' : 'dev'}</value></item>`,
      launchTime: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
    });
    return { reservationId: `r-0b${hex(i >> 2, 15)}`, ownerId: EC2_OWNER_ID, xml };
  }

  function tagTargets(state: RegionState, q: URLSearchParams): InstanceRecord[] {
    return numbered(q, 'ResourceId').map((id) => {
      if (!id.startsWith('i-')) throw unsupported(`tags on ${id} (only instances are simulated)`);
      const rec = state.instances.get(id);
      if (!rec) throw new Fault(400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      return rec;
    });
  }

  return { handlers, findInstances, codeOf };
}

export type InstanceApi = ReturnType<typeof createInstanceApi>;
