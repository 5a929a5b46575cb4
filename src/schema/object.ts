import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, encodeId, type DecodedId } from '../ids.ts';
import { InvalidInputError } from '../providers/errors.ts';
import type { StorageObject } from '../providers/types.ts';
import { scope, withDeadline, type InAccount } from '../resolvers/fan-out.ts';
import { MAX_URL_EXPIRY_SECONDS } from '../http/transfers.ts';
import { Resource, resourceResolvers } from './resource.ts';
import { DateTimeScalar, FileScalar, JSONScalar } from './scalars.ts';

export const StorageObjectRef = builder.objectRef<InAccount<StorageObject>>('Object').implement({
  description: 'An object (blob, file) in a container. Bodies move through GET/PUT /objects, never through GraphQL fields.',
  interfaces: [Resource],
  fields: (t) => ({
    id: t.id({ resolve: (o) => encodeId('Object', o.$account, o.$region, o.container, o.name) }),
    name: t.exposeString('name'),
    size: t.field({ type: 'Float', description: 'Bytes.', resolve: (o) => o.size }),
    hash: t.exposeString('hash', { nullable: true, description: 'MD5 hex or the provider ETag.' }),
    contentType: t.exposeString('contentType', { nullable: true }),
    lastModified: t.field({ type: DateTimeScalar, nullable: true, resolve: (o) => o.lastModified }),
    metadata: t.field({ type: JSONScalar, description: 'User metadata (string values).', resolve: (o) => o.metadata }),
    extra: t.field({ type: JSONScalar, resolve: (o) => o.extra }),
    downloadUrl: t.string({
      description: "A time-limited GET URL: the provider's presigned URL where it has one, else a signed skygraph /objects URL.",
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

export async function loadObject(ctx: Context, d: DecodedId): Promise<InAccount<StorageObject>> {
  const [container = '', name = ''] = d.parts;
  const account = ctx.runtime.account(d.account, 'id');
  const o = await withDeadline(account, 'object', () => ctx.loaders.storage(d.account, d.region).object.load([container, name]));
  return scope(o, d.account, d.region);
}

resourceResolvers.set('Object', (id, ctx) => loadObject(ctx, decodeId(id, 'Object', 'id')));

const UploadUrl = builder
  .objectRef<{ url: string; method: string; headers: Record<string, string>; expiresAt: Date }>('UploadUrl')
  .implement({
    description: 'Send the object body with this method, URL and headers before expiresAt.',
    fields: (t) => ({
      url: t.exposeString('url'),
      method: t.exposeString('method'),
      headers: t.field({ type: JSONScalar, resolve: (u) => u.headers }),
      expiresAt: t.field({ type: DateTimeScalar, resolve: (u) => u.expiresAt }),
    }),
  });

function checkName(name: string, argument = 'name'): string {
  if (!name || name.length > 1024) throw new InvalidInputError(`argument "${argument}" must be 1 to 1024 characters`, { field: argument });
  return name;
}

builder.mutationFields((t) => ({
  uploadObject: t.field({
    type: StorageObjectRef,
    description: 'Upload a small object with the GraphQL multipart request spec (up to server.uploadMaxBytes). Use PUT /objects/<container id>/<name> or createUploadUrl for large objects.',
    args: {
      container: t.arg.id({ required: true }),
      name: t.arg.string({ required: true }),
      file: t.arg({ type: FileScalar, required: true }),
      contentType: t.arg.string(),
      metadata: t.arg({ type: JSONScalar }),
    },
    resolve: async (_root, args, ctx) => {
      const d = decodeId(String(args.container), 'Container', 'container');
      const name = checkName(args.name);
      const file = args.file;
      if (file.size > ctx.transfers.uploadMaxBytes) {
        throw new InvalidInputError(
          `argument "file" is ${file.size} bytes, over the ${ctx.transfers.uploadMaxBytes}-byte limit for GraphQL uploads; use PUT /objects/<container id>/<name> or createUploadUrl`,
          { field: 'file' },
        );
      }
      const metadata = checkMetadata(args.metadata);
      const account = ctx.runtime.account(d.account, 'container');
      const o = await account.storage(d.region).uploadObject(d.parts[0] ?? '', name, fileChunks(file), {
        contentType: args.contentType ?? (file.type || undefined),
        metadata,
        size: file.size,
      });
      return scope(o, d.account, d.region);
    },
  }),
  createUploadUrl: t.field({
    type: UploadUrl,
    description: "A time-limited URL to upload one object of any size: the provider's presigned PUT where it has one, else a signed skygraph PUT /objects URL.",
    args: {
      container: t.arg.id({ required: true }),
      name: t.arg.string({ required: true }),
      expiresIn: t.arg.int({ defaultValue: 3600 }),
    },
    resolve: async (_root, args, ctx) => {
      const d = decodeId(String(args.container), 'Container', 'container');
      const name = checkName(args.name);
      const expiresIn = checkExpiry(args.expiresIn ?? 3600);
      const driver = ctx.runtime.account(d.account, 'container').storage(d.region);
      if (driver.createUploadUrl) return driver.createUploadUrl(d.parts[0] ?? '', name, expiresIn);
      const signed = ctx.transfers.signUpload(ctx.origin, String(args.container), name, expiresIn);
      return { ...signed, headers: {} };
    },
  }),
  deleteObject: t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const d = decodeId(String(args.id), 'Object', 'id');
      const account = ctx.runtime.account(d.account, 'id');
      await withDeadline(account, 'deleteObject', () => account.storage(d.region).deleteObject(d.parts[0] ?? '', d.parts[1] ?? ''));
      return true;
    },
  }),
}));

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
    throw new InvalidInputError('argument "metadata" must be an object of string values', { field: 'metadata' });
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
