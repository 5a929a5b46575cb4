/**
 * The azure-blob driver against Azurite, Microsoft's storage emulator, started as a child process
 * on a free port: the storage conformance suite (SAS URLs fetched for real), then the upload
 * strategy (Put Blob versus staged blocks, counted per upstream call), failed uploads, paging,
 * ranges, Shared Key refused with a wrong key, error mapping and option validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAzureBlobError } from '../../src/providers/azure/blob/errors.ts';
import { azureBlobProvider, validateAzureBlobAccount } from '../../src/providers/azure/blob/index.ts';
import {
  AuthenticationError,
  ContainerAlreadyExistsError,
  InvalidInputError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
} from '../../src/providers/errors.ts';
import type { AccountConfig, StorageDriver } from '../../src/providers/types.ts';
import { expectTypedError, uniqueName } from '../conformance/assertions.ts';
import { readAll, testStorageDriver } from '../conformance/storage.ts';
import { AZURITE_ACCOUNT, startAzurite, type AzuriteHandle } from '../helpers/azurite.ts';
import { testDriverContext, type TestDriverContext } from '../helpers/driver-context.ts';
import { calls, md5Of, patternBytes, type PatternOptions } from '../helpers/storage-bodies.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const WRONG_KEY = Buffer.from('not the key of devstoreaccount1, not at all').toString('base64');

function blobDriver(endpoint: string, account: Partial<AccountConfig> = {}) {
  const ctx = testDriverContext({ driver: 'azure-blob', endpoint, credentials: { ...AZURITE_ACCOUNT }, ...account });
  const instance = azureBlobProvider.create(ctx);
  return { ctx, driver: instance.storage as StorageDriver, close: () => instance.close?.() ?? Promise.resolve() };
}

/** Deterministic bytes in 16 KiB chunks (see patternBytes). */
const bytes = (size: number, opts?: PatternOptions) => patternBytes(size, 16 * KiB, opts);

let conformanceServer: AzuriteHandle | undefined;
testStorageDriver({
  name: 'azure-blob (azurite)',
  capabilities: ['getDownloadUrl', 'createUploadUrl'],
  // why: three 4 MiB blocks and a short one, so the staged path runs
  largeObjectBytes: 13 * MiB,
  fetchPresignedUrls: true,
  secrets: [AZURITE_ACCOUNT.accountKey],
  async create() {
    conformanceServer = await startAzurite();
    const { driver, close } = blobDriver(conformanceServer.endpoint);
    return {
      driver,
      cleanup: async () => {
        await close();
        await conformanceServer?.stop();
      },
    };
  },
});

describe('azure-blob: driver details (azurite)', () => {
  let server: AzuriteHandle;
  let ctx: TestDriverContext;
  let driver: StorageDriver;
  let close: () => Promise<void>;
  const container = uniqueName('sgaz');
  const OPS = ['PutBlob', 'PutBlock', 'PutBlockList'];

  beforeAll(async () => {
    server = await startAzurite();
    ({ ctx, driver, close } = blobDriver(server.endpoint, { options: { blockSizeBytes: 64 * KiB } }));
    await driver.createContainer(container);
  });
  afterAll(async () => {
    await close?.();
    await server?.stop();
  });

  it('sends a body that fits in one block as one Put Blob with its MD5', async () => {
    ctx.resetCalls();
    const body = bytes(64 * KiB, { chunk: 5000 });
    const object = await driver.uploadObject(container, 'one-block.bin', body.chunks(), { contentType: 'text/plain', metadata: { Kind: 'single' } });
    expect(calls(ctx, ...OPS)).toEqual({ PutBlob: 1, PutBlock: 0, PutBlockList: 0 });
    expect(object).toMatchObject({ size: 64 * KiB, hash: body.md5(), contentType: 'text/plain', metadata: { kind: 'single' } });
    const got = await driver.getObject(container, 'one-block.bin');
    expect(got).toMatchObject({ size: 64 * KiB, hash: object.hash, contentType: 'text/plain', metadata: { kind: 'single' } });
    expect(got.extra.etag).toBe(object.extra.etag);
  });

  it('stages a larger body of unknown size in blocks of blockSizeBytes and commits them once', async () => {
    ctx.resetCalls();
    const body = bytes(300 * KiB + 5, { chunk: 50_001 });
    const object = await driver.uploadObject(container, 'staged/300k.bin', body.chunks(), { metadata: { kind: 'staged' } });
    expect(calls(ctx, ...OPS)).toEqual({ PutBlob: 0, PutBlock: 5, PutBlockList: 1 });
    const md5 = body.md5();
    expect(object).toMatchObject({ size: 300 * KiB + 5, hash: md5, metadata: { kind: 'staged' }, contentType: 'application/octet-stream' });
    // why: the committed blob carries the whole body's MD5, which the driver sent with Put Block List
    const got = await driver.getObject(container, 'staged/300k.bin');
    expect(got).toMatchObject({ size: 300 * KiB + 5, hash: md5, metadata: { kind: 'staged' } });
    const download = await driver.downloadObject(container, 'staged/300k.bin');
    expect(await md5Of(download.body)).toEqual({ md5, size: 300 * KiB + 5 });
  });

  it('stages a body of known size one byte over a block', async () => {
    ctx.resetCalls();
    const body = bytes(64 * KiB + 1);
    const object = await driver.uploadObject(container, 'known.bin', body.chunks(), { size: 64 * KiB + 1 });
    expect(calls(ctx, ...OPS)).toEqual({ PutBlob: 0, PutBlock: 2, PutBlockList: 1 });
    expect(object.hash).toBe(body.md5());
  });

  it('serves a range that spans a block boundary', async () => {
    const start = 64 * KiB - 3;
    const download = await driver.downloadObject(container, 'staged/300k.bin', { start, end: start + 5 });
    expect(download.range).toEqual({ start, end: start + 5, total: 300 * KiB + 5 });
    expect(download.object.size).toBe(300 * KiB + 5);
    expect((await readAll(download.body)).length).toBe(6);
  });

  it('answers a range past the end with InvalidInputError on field range', async () => {
    await expectTypedError(driver.downloadObject(container, 'known.bin', { start: MiB }), InvalidInputError, 'range');
  });

  it('commits nothing when the body fails after some blocks were staged', async () => {
    ctx.resetCalls();
    const boom = new Error('client went away');
    const body = bytes(400 * KiB, { failAfter: 200 * KiB, error: boom });
    await expect(driver.uploadObject(container, 'broken.bin', body.chunks())).rejects.toBe(boom);
    expect(ctx.calls.get('PutBlock')).toBeGreaterThanOrEqual(2);
    expect(calls(ctx, 'PutBlockList', 'PutBlob')).toEqual({ PutBlockList: 0, PutBlob: 0 });
    await expectTypedError(driver.getObject(container, 'broken.bin'), NotFoundError);
    const page = await driver.listObjects(container, { prefix: 'broken' });
    expect(page.objects).toEqual([]);
  });

  it('leaves an existing blob as it was when an upload over it fails', async () => {
    await driver.uploadObject(container, 'keep.txt', bytes(10).chunks());
    const before = await driver.getObject(container, 'keep.txt');
    const boom = new Error('stream broke');
    await expect(driver.uploadObject(container, 'keep.txt', bytes(200 * KiB, { failAfter: 150 * KiB, error: boom }).chunks())).rejects.toBe(boom);
    const after = await driver.getObject(container, 'keep.txt');
    expect(after).toMatchObject({ size: 10, hash: before.hash });
  });

  it('stops reading the body when the service refuses a block', async () => {
    const body = bytes(MiB);
    await expectTypedError(driver.uploadObject(uniqueName('sgaz-missing'), 'x.bin', body.chunks()), NotFoundError);
    expect(body.produced()).toBeLessThanOrEqual(128 * KiB);
  });

  it('refuses a body that does not match the size it was given', async () => {
    await expectTypedError(driver.uploadObject(container, 'short.bin', bytes(10).chunks(), { size: 20 }), InvalidInputError, 'size');
    await expectTypedError(driver.uploadObject(container, 'long.bin', bytes(100 * KiB).chunks(), { size: 70 * KiB }), InvalidInputError, 'size');
    await expectTypedError(driver.getObject(container, 'long.bin'), NotFoundError);
  });

  it('pages with the service marker, one List Blobs call per page', async () => {
    for (const name of ['paged/a', 'paged/b', 'paged/c']) await driver.uploadObject(container, name, bytes(1).chunks());
    ctx.resetCalls();
    const first = await driver.listObjects(container, { prefix: 'paged/', limit: 2 });
    expect(first.objects.map((o) => o.name)).toEqual(['paged/a', 'paged/b']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await driver.listObjects(container, { prefix: 'paged/', limit: 2, cursor: first.nextCursor! });
    expect(second.objects.map((o) => o.name)).toEqual(['paged/c']);
    expect(second.nextCursor).toBeNull();
    expect(ctx.calls.get('ListBlobs')).toBe(2);
    expect(first.objects[0]!.hash).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps names with leading and trailing spaces and XML special characters', async () => {
    const name = 'odd/ <tag> & "quoted" ';
    await driver.uploadObject(container, name, bytes(3).chunks());
    const page = await driver.listObjects(container, { prefix: 'odd/' });
    expect(page.objects.map((o) => o.name)).toEqual([name]);
    expect((await driver.getObject(container, name)).size).toBe(3);
  });

  it('refuses to create a container twice', async () => {
    await expectTypedError(driver.createContainer(container), ContainerAlreadyExistsError);
  });

  it('checks names and metadata before sending anything', async () => {
    ctx.resetCalls();
    await expectTypedError(driver.getContainer('Bad_Name'), InvalidInputError, 'container');
    await expectTypedError(driver.getObject(container, 'a/../b'), InvalidInputError, 'name');
    await expectTypedError(driver.uploadObject(container, 'm.txt', bytes(1).chunks(), { metadata: { 'not-an-identifier': 'x' } }), InvalidInputError, 'metadata.not-an-identifier');
    await expectTypedError(driver.uploadObject(container, 'm.txt', bytes(1).chunks(), { metadata: { ok: 'line\nbreak' } }), InvalidInputError, 'metadata.ok');
    await expectTypedError(driver.getDownloadUrl!(container, 'x', 0), InvalidInputError, 'expiresInSeconds');
    expect(ctx.totalCalls()).toBe(0);
  });

  it('gives SAS URLs that stop working once expired, and a read SAS that cannot write', async () => {
    await driver.uploadObject(container, 'sas.txt', (async function* () { yield Buffer.from('sas body'); })());
    const { ctx: pastCtx, driver: past, close: closePast } = blobDriver(server.endpoint);
    try {
      pastCtx.clock.set(Date.now() - 3600_000);
      const expired = await past.getDownloadUrl!(container, 'sas.txt', 60);
      const res = await fetch(expired);
      expect(res.status).toBe(403);
      await res.arrayBuffer();
    } finally {
      await closePast();
    }
    const url = await driver.getDownloadUrl!(container, 'sas.txt', 60);
    expect(new URL(url).searchParams.get('sp')).toBe('r');
    const read = await fetch(url);
    expect(await read.text()).toBe('sas body');
    const write = await fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'overwritten' });
    expect(write.status).toBe(403);
    await write.arrayBuffer();
    const tampered = new URL(url);
    tampered.searchParams.set('sp', 'rw');
    const forged = await fetch(tampered, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'overwritten' });
    expect(forged.status).toBe(403);
    await forged.arrayBuffer();
    expect((await readAll((await driver.downloadObject(container, 'sas.txt')).body)).toString()).toBe('sas body');
  });

  it('maps the Shared Key signature Azurite refuses (wrong key) to AuthenticationError without the key', async () => {
    const wrong = blobDriver(server.endpoint, { credentials: { accountName: AZURITE_ACCOUNT.accountName, accountKey: WRONG_KEY } });
    try {
      const errors = [
        await expectTypedError(wrong.driver.listContainers(), AuthenticationError),
        await expectTypedError(wrong.driver.getContainer(container), AuthenticationError),
        await expectTypedError(wrong.driver.uploadObject(container, 'nope.txt', bytes(5).chunks()), AuthenticationError),
      ];
      for (const err of errors) {
        expect(err.message).not.toContain(WRONG_KEY);
        expect(String(err.stack)).not.toContain(WRONG_KEY);
        expect(err.status).toBe(403);
      }
      expect(errors[0]!.message).toMatch(/^\[azure-blob\] ListContainers 403 AuthorizationFailure/);
    } finally {
      await wrong.close();
    }
    await expectTypedError(driver.getObject(container, 'nope.txt'), NotFoundError);
  });
});

describe('azure-blob: the Azure endpoint', () => {
  it('addresses https://<account>.blob.core.windows.net and signs SAS URLs for https only, without a call', async () => {
    const ctx = testDriverContext({ driver: 'azure-blob', credentials: { accountName: 'mystorage', accountKey: AZURITE_ACCOUNT.accountKey } });
    ctx.clock.set(Date.parse('2026-05-01T10:00:00Z'));
    const instance = azureBlobProvider.create(ctx);
    try {
      const url = new URL(await instance.storage!.getDownloadUrl!('photos', '2026/a b.jpg', 600));
      expect(`${url.origin}${url.pathname}`).toBe('https://mystorage.blob.core.windows.net/photos/2026/a%20b.jpg');
      expect(Object.fromEntries(url.searchParams)).toEqual({
        sv: '2021-08-06',
        se: '2026-05-01T10:10:00Z',
        sr: 'b',
        sp: 'r',
        spr: 'https',
        sig: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
      });
      const upload = await instance.storage!.createUploadUrl!('photos', 'new.jpg', 60);
      expect(upload).toMatchObject({ method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, expiresAt: new Date('2026-05-01T10:01:00Z') });
      expect(new URL(upload.url).searchParams.get('sp')).toBe('cw');
      expect(ctx.totalCalls()).toBe(0);
    } finally {
      await instance.close?.();
    }
  });
});

describe('azure-blob: error bodies', () => {
  const info = (status: number, headers: Record<string, string>, bodyText = '') => ({ status, headers, bodyText, operation: 'GetBlob', requestId: 'req-1' });

  it('maps 503 ServerBusy with Retry-After to RateLimitedError', () => {
    const err = parseAzureBlobError(info(503, { 'x-ms-error-code': 'ServerBusy', 'retry-after': '7' }));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(7000);
  });

  it('reads the code and the first line of the message from the XML body', () => {
    const body =
      '<?xml version="1.0" encoding="utf-8"?><Error><Code>InvalidBlockList</Code><Message>The specified block list is invalid.\nRequestId:abc\nTime:2024-01-01T00:00:00Z</Message></Error>';
    const err = parseAzureBlobError(info(400, { 'content-type': 'application/xml' }, body));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe('[azure-blob] GetBlob 400 InvalidBlockList: The specified block list is invalid.');
    expect(err.requestId).toBe('req-1');
  });

  it('maps a bodiless 404 to NotFoundError and 500 to a retryable ProviderError', () => {
    expect(parseAzureBlobError(info(404, { 'x-ms-error-code': 'BlobNotFound' }))).toBeInstanceOf(NotFoundError);
    const err = parseAzureBlobError(info(500, { 'x-ms-error-code': 'InternalError' }));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(true);
  });
});

describe('azure-blob: account validation', () => {
  const account = (over: Partial<AccountConfig>): AccountConfig => ({
    id: 'a',
    driver: 'azure-blob',
    regions: [],
    credentials: { ...AZURITE_ACCOUNT },
    options: {},
    pollIntervalMs: 1000,
    timeoutMs: 1000,
    ...over,
  });

  it('accepts the emulator account', () => {
    expect(validateAzureBlobAccount(account({ endpoint: 'http://127.0.0.1:10000/devstoreaccount1' }))).toEqual([]);
  });

  it('names each bad field without echoing values', () => {
    const problems = validateAzureBlobAccount(
      account({
        credentials: { accountName: 'Has_Upper', accountKey: 'not base64!!', extraSecret: 'hunter2hunter2' },
        options: { blockSizeBytes: 10, colour: 'red' },
        endpoint: 'ftp://example.com',
      }),
    );
    expect(problems).toEqual([
      'options.colour is not an azure-blob option',
      'options.blockSizeBytes must be an integer from 65536 (64 KiB) to 4194304000 (4000 MiB)',
      'credentials.extraSecret is not an azure-blob credential',
      'credentials.accountName must be 3-24 lower-case letters and digits',
      'credentials.accountKey must be the base64 access key',
      'endpoint must be an absolute http(s) URL',
    ]);
    expect(problems.join(' ')).not.toMatch(/hunter2|Has_Upper|not base64|ftp/);
  });

  it('requires both credentials', () => {
    expect(validateAzureBlobAccount(account({ credentials: {} }))).toEqual(['credentials.accountName is required', 'credentials.accountKey is required']);
  });
});
