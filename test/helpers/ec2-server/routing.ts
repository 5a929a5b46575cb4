/** Request checks (method, body, SigV4 signature, Version, action and parameters) and dispatch to the handlers. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifyNodeRequest } from '../aws-verify.ts';
import { template } from './xml.ts';

export const VERSION = '2016-11-15';
export const XMLNS = `http://ec2.amazonaws.com/doc/${VERSION}/`;

/** One request as the server understood it. */
export interface Ec2Request {
  action: string;
  region: string;
  params: URLSearchParams;
  status: number;
  /** the access key id of a request whose signature checked out */
  accessKeyId?: string;
}

export class Fault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Handler = (q: URLSearchParams, region: string) => string;

/** Allowed parameter names per action, and the ones that must be present. */
export const SPEC: Record<string, { allowed: RegExp; required?: string[] }> = {
  DescribeInstances: { allowed: /^(MaxResults|NextToken|InstanceId\.\d+|Filter\.\d+\.(Name|Value\.\d+))$/ },
  DescribeImages: { allowed: /^(MaxResults|NextToken|ImageId\.\d+|Owner\.\d+|Filter\.\d+\.(Name|Value\.\d+))$/ },
  DescribeAvailabilityZones: { allowed: /^$/ },
  RunInstances: {
    allowed:
      /^(ImageId|InstanceType|MinCount|MaxCount|ClientToken|KeyName|UserData|SubnetId|PrivateIpAddress|EbsOptimized|Placement\.AvailabilityZone|SecurityGroupId\.\d+|SecurityGroup\.\d+|IamInstanceProfile\.(Arn|Name)|TagSpecification\.\d+\.(ResourceType|Tag\.\d+\.(Key|Value)))$/,
    required: ['ImageId', 'InstanceType', 'MinCount', 'MaxCount', 'ClientToken'],
  },
  StartInstances: { allowed: /^InstanceId\.\d+$/, required: ['InstanceId.1'] },
  StopInstances: { allowed: /^(InstanceId\.\d+|Force)$/, required: ['InstanceId.1'] },
  RebootInstances: { allowed: /^InstanceId\.\d+$/, required: ['InstanceId.1'] },
  TerminateInstances: { allowed: /^InstanceId\.\d+$/, required: ['InstanceId.1'] },
  DescribeKeyPairs: { allowed: /^(KeyName\.\d+|IncludePublicKey)$/ },
  CreateKeyPair: { allowed: /^(KeyName|KeyType|KeyFormat)$/, required: ['KeyName'] },
  ImportKeyPair: { allowed: /^(KeyName|PublicKeyMaterial)$/, required: ['KeyName', 'PublicKeyMaterial'] },
  DeleteKeyPair: { allowed: /^KeyName$/, required: ['KeyName'] },
  CreateTags: { allowed: /^(ResourceId\.\d+|Tag\.\d+\.(Key|Value))$/, required: ['ResourceId.1', 'Tag.1.Key'] },
  DeleteTags: { allowed: /^(ResourceId\.\d+|Tag\.\d+\.(Key|Value))$/, required: ['ResourceId.1'] },
  DescribeTags: { allowed: /^(MaxResults|NextToken|Filter\.\d+\.(Name|Value\.\d+))$/ },
  DescribeVolumes: { allowed: /^(MaxResults|NextToken|VolumeId\.\d+)$/ },
  CreateVolume: {
    allowed: /^(AvailabilityZone|Size|SnapshotId|VolumeType|ClientToken|TagSpecification\.\d+\.(ResourceType|Tag\.\d+\.(Key|Value)))$/,
    required: ['AvailabilityZone', 'ClientToken'],
  },
  AttachVolume: { allowed: /^(InstanceId|VolumeId|Device)$/, required: ['InstanceId', 'VolumeId', 'Device'] },
  DetachVolume: { allowed: /^(VolumeId|InstanceId|Device|Force)$/, required: ['VolumeId'] },
  DeleteVolume: { allowed: /^VolumeId$/, required: ['VolumeId'] },
  DescribeSnapshots: { allowed: /^(MaxResults|NextToken|SnapshotId\.\d+|Owner\.\d+|Filter\.\d+\.(Name|Value\.\d+))$/ },
  CreateSnapshot: { allowed: /^(VolumeId|Description|TagSpecification\.\d+\.(ResourceType|Tag\.\d+\.(Key|Value)))$/, required: ['VolumeId'] },
  DeleteSnapshot: { allowed: /^SnapshotId$/, required: ['SnapshotId'] },
  CreateImage: { allowed: /^(InstanceId|Name|Description|NoReboot)$/, required: ['InstanceId', 'Name'] },
  DeregisterImage: { allowed: /^ImageId$/, required: ['ImageId'] },
  CopyImage: { allowed: /^(SourceRegion|SourceImageId|Name|Description|ClientToken|Encrypted|KmsKeyId)$/, required: ['SourceRegion', 'SourceImageId', 'Name'] },
};

/** An error to answer instead, for the next `left` requests for `action`. */
export interface Injected {
  action: string;
  error: { status: number; code: string; message: string };
  left: number;
}

export interface RouterDeps {
  /** access key id -> secret */
  secrets: Record<string, string>;
  handlers: Record<string, Handler>;
  requests: Ec2Request[];
  failures: string[];
  injected: Injected[];
  failingRegions: string[] | undefined;
}

/** The request listener's core: checks one request and answers it. */
export function createRouter(deps: RouterDeps): (req: IncomingMessage, body: Buffer, res: ServerResponse) => void {
  const { secrets, handlers, requests, failures, injected, failingRegions } = deps;
  const errorTpl = template('templates/error.xml');

  function respond(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const q = new URLSearchParams(body.toString('utf8'));
    const action = q.get('Action') ?? '';
    const regionName = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const entry: Ec2Request = { action, region: regionName, params: q, status: 200 };
    requests.push(entry);
    const send = (status: number, xml: string) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(xml) });
      res.end(xml);
    };
    const fail = (status: number, code: string, message: string, failure?: string) => {
      if (failure !== undefined) failures.push(`${action || '(no action)'}: ${failure}`);
      send(status, errorTpl({ code, message, requestId: randomUUID() }));
    };
    if (req.method !== 'POST' || (req.url ?? '/') !== '/') return fail(400, 'InvalidAction', 'Use POST /', `${req.method} ${req.url} instead of POST /`);
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return fail(400, 'InvalidParameterValue', 'form body expected', 'body is not form-encoded');
    const verified = verifyNodeRequest(req, body, (id) => secrets[id], new Date(), { service: 'ec2' });
    if (!verified.ok) return fail(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials', `signature rejected: ${verified.reason}`);
    entry.accessKeyId = verified.accessKeyId;
    if (q.get('Version') !== VERSION) return fail(400, 'InvalidParameterValue', 'unsupported Version', `Version ${q.get('Version')} is not ${VERSION}`);
    const spec = SPEC[action];
    const handler = handlers[action];
    if (!spec || !handler) return fail(400, 'InvalidAction', `The action ${action} is not valid for this web service.`, 'unknown action');
    const unknown = [...q.keys()].filter((k) => k !== 'Action' && k !== 'Version' && !spec.allowed.test(k));
    if (unknown.length) return fail(400, 'UnknownParameter', `The parameter ${unknown[0]} is not recognized`, `unknown parameters ${unknown.join(', ')}`);
    const missing = (spec.required ?? []).filter((k) => !q.get(k));
    if (missing.length) return fail(400, 'MissingParameter', `The request must contain the parameter ${missing[0]}`, `missing ${missing.join(', ')}`);
    if (failingRegions?.includes(regionName)) return fail(503, 'Unavailable', 'The service is unavailable. Please try again shortly.');
    const slot = injected.find((i) => i.action === action && i.left > 0);
    if (slot) {
      slot.left--;
      return fail(slot.error.status, slot.error.code, slot.error.message);
    }
    try {
      send(200, `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${XMLNS}"><requestId>${randomUUID()}</requestId>${handler(q, regionName)}</${action}Response>`);
    } catch (err) {
      if (err instanceof Fault) return fail(err.status, err.code, err.message);
      fail(500, 'InternalError', 'An internal error has occurred', `server error ${String(err)}`);
    }
  }

  return respond;
}
