/** Reading the recorded fixtures under fixtures/ec2 and rendering XML from its templates. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../replay-server.ts';
import { EC2_OWNER_ID } from './constants.ts';

export function fixture(name: string): string {
  return readFileSync(path.join(REPO_ROOT, 'fixtures', 'ec2', name), 'utf8');
}

/** A `{{name}}` template; values are XML-escaped unless the name ends in `Xml`. */

export function template(name: string): (vars: Record<string, string | undefined>) => string {
  const parts = fixture(name).split(/\{\{(\w+)\}\}/);
  return (vars) => {
    let out = parts[0]!;
    for (let i = 1; i < parts.length; i += 2) {
      const key = parts[i]!;
      const value = vars[key];
      if (value === undefined) throw new Error(`template ${name}: no value for ${key}`);
      out += (key.endsWith('Xml') ? value : esc(value)) + parts[i + 1]!;
    }
    return out;
  };
}

/** The top-level `<item>` elements of the first `<container>` in `xml`, as text. */

export function topItems(xml: string, container: string): string[] {
  const start = xml.indexOf(`<${container}>`);
  if (start === -1) return [];
  const out: string[] = [];
  const tags = /<(\/?)item>|<\/([A-Za-z]+)>/g;
  tags.lastIndex = start;
  let depth = 0;
  let from = 0;
  for (let m = tags.exec(xml); m; m = tags.exec(xml)) {
    if (m[2] === container && depth === 0) break;
    if (m[2] !== undefined) continue;
    if (m[1] === '') {
      if (depth++ === 0) from = m.index;
    } else if (--depth === 0) out.push(xml.slice(from, m.index + m[0].length));
  }
  return out;
}

export function field(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

export function unwrap(item: string): string {
  return item.trim().replace(/^<item>/, '').replace(/<\/item>$/, '');
}

/** Tags of the first tagSet in `xml`. */

export function tagMap(xml: string): Map<string, string> {
  const tags = /<tagSet>[\s\S]*?<\/tagSet>/.exec(xml)?.[0] ?? '';
  return new Map([...tags.matchAll(/<key>([^<]*)<\/key>\s*<value>([^<]*)<\/value>/g)].map((m) => [unesc(m[1]!), unesc(m[2]!)]));
}

export function tagsXml(tags: Map<string, string>): string {
  return [...tags].map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`).join('');
}

/** Tags from `TagSpecification.1` when it is for `resourceType`. */

export function instanceVars(id: string, n: number, v: { imageId: string; instanceType: string; zone: string; region: string; publicIp: string | undefined }) {
  const privateIp = `10.${20 + ((n >> 16) & 63)}.${(n >> 8) & 255}.${n & 255}`;
  const privateDnsName = `ip-${privateIp.replaceAll('.', '-')}.${v.region === 'us-east-1' ? 'ec2.internal' : `${v.region}.compute.internal`}`;
  const publicIp = v.publicIp;
  return {
    instanceId: id,
    imageId: v.imageId,
    instanceType: v.instanceType,
    zone: v.zone,
    stateCode: '0',
    stateName: 'pending',
    tagsXml: '',
    privateIp,
    privateDnsName,
    publicDnsName: publicIp ? `ec2-${publicIp.replaceAll('.', '-')}.compute-1.amazonaws.com` : '',
    publicIpXml: publicIp ? `<ipAddress>${publicIp}</ipAddress>` : '',
    associationXml: publicIp ? `<association><publicIp>${publicIp}</publicIp><ipOwnerId>amazon</ipOwnerId></association>` : '',
    vpcId: 'vpc-0b1c2d3e4f5a69788',
    architecture: v.instanceType.startsWith('t4g') ? 'arm64' : 'x86_64',
    volumeId: `vol-0c${hex(n, 15)}`,
    eniId: `eni-0c${hex(n, 15)}`,
    attachmentId: `eni-attach-0c${hex(n, 15)}`,
    ownerId: EC2_OWNER_ID,
  };
}

export function generatedId(i: number): string {
  return `i-${hex(i + 1, 17)}`;
}

export function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** `Name.1`, `Name.2`, ... in order */

export function esc(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function unesc(value: string): string {
  return value.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}
