import { builder, type Types } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, encodeId, type DecodedId } from '../ids.ts';
import { InvalidInputError } from '../providers/errors.ts';
import type { StorageObject } from '../providers/types.ts';
import { callAccount, invalidateAccount, scope, type InAccount } from '../resolvers/fan-out.ts';
import { MAX_URL_EXPIRY_SECONDS } from '../http/transfers.ts';
import { defineMutation, deletedPayload } from './mutation.ts';
import { defineResource } from './resource.ts';
import { DateTimeScalar, FileScalar, JSONScalar } from './scalars.ts';

export async function loadObject(ctx: Context, d: DecodedId): Promise<InAccount<StorageObject>> {
  const [container = '', name = ''] = d.parts;
  const account = ctx.runtime.account(d.account, 'id');
  const o = await callAccount(ctx, account, 'object', () => ctx.loaders.storage(d.account, d.region).object.load([container, name]), { region: d.region });
  return scope(o, d.account, d.region);
}

export const StorageObjectRef = defineResource<StorageObject>('Object', {
  description: 'An object (blob, file) in a container. Bodies move through GET/PUT /objects, never through GraphQL fields.',
  idParts: (o) => [o.container, o.name],
  nativeId: (o) => o.name,
  load: loadObject,
  fields: (t) => ({
    name: t.exposeString('name'),
    size: t.field({ type: 'Float', description: 'Bytes.', resolve: (o) => o.size }),
    hash: t.exposeString('hash', { nullable: true, description: 'MD5 hex or the provider ETag.' }),
    contentType: t.exposeString('contentType', { nullable: true }),
    lastModified: t.field({ type: DateTimeScalar, nullable: true, resolve: (o) => o.lastModified }),
    metadata: t.field({ type: JSONScalar, description: 'User metadata (string values).', resolve: (o) => o.metadata }),
    downloadUrl: t.string({
      description: "A time-limited GET URL: the provider's presigned URL where it has one (capability PROVIDER_SIGNED_URLS), else a signed skygraph /objects URL.",
      args: { expiresIn: t.arg.int({ defaultValue: 3600, description: `Seconds, 1 to ${MAX_URL_EXPIRY_SECONDS}.` }) },
      resolve: async (o, args, ctx) => {
        const expiresIn = checkExpiry(args.expiresIn ?? 3600);
        const driver = ctx.runtime.account(o.$account).storage(o.$region);
        if (driver.getDownloadUrl) return driver.getDownloadUrl(o.container, o.name, expiresIn);
        return ctx.transfers.signDownload(ctx.origin, encodeId('Object', o.$account, o.$region, o.container, o.name), expiresIn).url;
      },
    }),
  }),
});

export function checkExpiry(seconds: number, argument = 'expiresIn'): number {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_URL_EXPIRY_SECONDS) {
    throw new InvalidInputError(`argument "${argument}" must be between 1 and ${MAX_URL_EXPIRY_SECONDS} seconds`, { field: argument });
  }
  return seconds;
}

type UploadUrlShape = { url: string; method: string; headers: Record<string, string>; expiresAt: Date };

const UploadUrl = builder.objectRef<UploadUrlShape>('UploadUrl').implement({
  description: 'Send the object body with this method, URL and headers before expiresAt.',
  fields: (t) => ({
    url: t.exposeString('url'),
    method: t.exposeString('method'),
    headers: t.field({ type: JSONScalar, resolve: (u) => u.headers }),
    expiresAt: t.field({ type: DateTimeScalar, resolve: (u) => u.expiresAt }),
  }),
});

function checkName(name: string, argument: string): string {
  if (!name || name.length > 1024) throw new InvalidInputError(`argument "${argument}" must be 1 to 1024 characters`, { field: argument });
  return name;
}

const objectPayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, { object: InAccount<StorageObject> }>) => ({
  object: t.field({ type: StorageObjectRef, resolve: (p) => p.object }),
});

defineMutation('uploadObject', {
  description:
    'Uploads a small object with the GraphQL multipart request spec (up to server.uploadMaxBytes). Use PUT /objects/<container id>/<name> or createUploadUrl for large objects.',
  input: (t) => ({
    container: t.id({ required: true }),
    name: t.string({ required: true }),
    file: t.field({ type: FileScalar, required: true }),
    contentType: t.string(),
    metadata: t.field({ type: JSONScalar, description: 'User metadata: an object of string values.' }),
  }),
  payload: objectPayload,
  resolve: async (input, ctx) => {
    const d = decodeId(String(input.container), 'Container', 'input.container');
    const name = checkName(input.name, 'input.name');
    const file = input.file;
    if (file.size > ctx.transfers.uploadMaxBytes) {
      throw new InvalidInputError(
        `argument "input.file" is ${file.size} bytes, over the ${ctx.transfers.uploadMaxBytes}-byte limit for GraphQL uploads; use PUT /objects/<container id>/<name> or createUploadUrl`,
        { field: 'input.file' },
      );
    }
    const metadata = checkMetadata(input.metadata);
    const account = ctx.runtime.account(d.account, 'input.container');
    // why: no account deadline: a transfer is bounded by the connection's idle timeouts instead
    try {
      const o = await account.storage(d.region).uploadObject(d.parts[0] ?? '', name, fileChunks(file), {
        contentType: input.contentType ?? (file.type || undefined),
        metadata,
        size: file.size,
      });
      return { object: scope(o, d.account, d.region) };
    } finally {
      invalidateAccount(ctx, d.account);
    }
  },
});

defineMutation('createUploadUrl', {
  description: "A time-limited URL to upload one object of any size: the provider's presigned PUT where it has one, else a signed skygraph PUT /objects URL.",
  input: (t) => ({
    container: t.id({ required: true }),
    name: t.string({ required: true }),
    expiresIn: t.int({ defaultValue: 3600, description: `Seconds, 1 to ${MAX_URL_EXPIRY_SECONDS}.` }),
  }),
  payload: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, { uploadUrl: UploadUrlShape }>) => ({
    uploadUrl: t.field({ type: UploadUrl, resolve: (p) => p.uploadUrl }),
  }),
  resolve: async (input, ctx) => {
    const d = decodeId(String(input.container), 'Container', 'input.container');
    const name = checkName(input.name, 'input.name');
    const expiresIn = checkExpiry(input.expiresIn ?? 3600, 'input.expiresIn');
    const driver = ctx.runtime.account(d.account, 'input.container').storage(d.region);
    if (driver.createUploadUrl) return { uploadUrl: await driver.createUploadUrl(d.parts[0] ?? '', name, expiresIn) };
    const signed = ctx.transfers.signUpload(ctx.origin, String(input.container), name, expiresIn);
    return { uploadUrl: { ...signed, headers: {} } };
  },
});

defineMutation('deleteObject', {
  description: 'Deletes an object.',
  input: (t) => ({ id: t.id({ required: true, description: 'The Object id.' }) }),
  payload: deletedPayload,
  resolve: async (input, ctx) => {
    const d = decodeId(String(input.id), 'Object', 'input.id');
    const account = ctx.runtime.account(d.account, 'input.id');
    await callAccount(ctx, account, 'deleteObject', () => account.storage(d.region).deleteObject(d.parts[0] ?? '', d.parts[1] ?? ''), {
      region: d.region,
      mutates: true,
    });
    return { deletedId: encodeId('Object', d.account, d.region, ...d.parts) };
  },
});

builder.queryField('object', (t) =>
  t.field({
    type: StorageObjectRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      try {
        return await loadObject(ctx, decodeId(String(args.id), 'Object', 'id'));
      } catch (err) {
        if (err && typeof err === 'object' && 'code' in err && err.code === 'NOT_FOUND') return null;
        throw err;
      }
    },
  }),
);

function checkMetadata(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new InvalidInputError('argument "input.metadata" must be an object of string values', { field: 'input.metadata' });
  }
  return value as Record<string, string>;
}

/** The file's bytes as an async iterable (yoga hands us its own ReadableStream ponyfill). */
async function* fileChunks(file: File): AsyncIterable<Uint8Array> {
  const reader = file.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
