import { existsSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    accounts: [{ id: 'local', driver: 'local', options: { root: '${TEST_DATA}' } }],
    server: { uploadMaxBytes: 1024 * 1024 },
  });
});
afterAll(() => t.stop());

async function upload(containerId: string, name: string, content: string | Uint8Array, extra: Record<string, unknown> = {}) {
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({
      query:
        'mutation($c: ID!, $n: String!, $f: File!, $m: JSON) { uploadObject(input: { container: $c, name: $n, file: $f, metadata: $m }) { object { id name size hash contentType metadata } } }',
      variables: { c: containerId, n: name, f: null, ...extra },
    }),
  );
  form.set('map', JSON.stringify({ 0: ['variables.f'] }));
  form.set('0', new Blob([content as BlobPart], { type: 'text/plain' }), name);
  // why: a multipart POST is a "simple" request a web page could forge; the preflight header says it is not one
  const res = await fetch(`${t.url}/graphql`, { method: 'POST', body: form, headers: { 'x-graphql-yoga-csrf': '1' } });
  return {
    status: res.status,
    body: (await res.json()) as { data?: { uploadObject: { object: Record<string, unknown> } } | null; errors?: { message: string; extensions?: Record<string, unknown> }[] },
  };
}

function rawPut(pathname: string, body: string): Promise<number> {
  const { port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, method: 'PUT' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('api: storage on local', () => {
  let containerId = '';

  it('creates a container and lists it', async () => {
    const r = await t.gql<{ createContainer: { container: { id: string; name: string } } }>('mutation { createContainer(input: { account: "local", name: "photos" }) { container { id name } } }');
    expect(r.errors).toBeUndefined();
    containerId = r.data!.createContainer.container.id;
    const list = await t.gql<{ containers: { edges: { node: { name: string; objectCount: number } }[] } }>('{ containers { edges { node { name objectCount } } } }');
    expect(list.data!.containers.edges.map((e) => e.node.name)).toContain('photos');
    const again = await t.gql('mutation { createContainer(input: { account: "local", name: "photos" }) { container { id } } }');
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('uploads small objects with the multipart spec and reads them back', async () => {
    const r = await upload(containerId, 'a/hello.txt', 'hello world', { m: { owner: 'ann' } });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.uploadObject.object).toMatchObject({ name: 'a/hello.txt', size: 11, hash: '5eb63bbbe01eeed093cb22bb8f5acdc3', metadata: { owner: 'ann' } });
    for (const n of ['b.txt', 'c.txt', 'd.txt']) await upload(containerId, n, n);
    const id = r.body.data!.uploadObject.object.id as string;
    const got = await t.gql<{ object: { name: string; container: { name: string }; downloadUrl: string } }>(
      'query($id: ID!) { object(id: $id) { name container { name } downloadUrl(expiresIn: 60) } }',
      { id },
    );
    expect(got.data!.object).toMatchObject({ name: 'a/hello.txt', container: { name: 'photos' } });
    const body = await fetch(got.data!.object.downloadUrl);
    expect(body.status).toBe(200);
    expect(await body.text()).toBe('hello world');
    const tampered = await fetch(got.data!.object.downloadUrl.replace(/signature=[^&]+/, 'signature=AAAA'));
    // why: without an API token the route is open; the signature only matters when a token is set
    expect([200, 401]).toContain(tampered.status);
  });

  it('pages objects with prefix, first and after, with the total where it is known', async () => {
    const q =
      'query($id: ID!, $after: String, $prefix: String, $first: Int = 2) { container(id: $id) { objects(first: $first, after: $after, prefix: $prefix) { totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } } }';
    const names: string[] = [];
    const totals: (number | null)[] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const r: { data?: { container: { objects: { totalCount: number | null; edges: { node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } } | null } =
        await t.gql(q, { id: containerId, after });
      names.push(...r.data!.container.objects.edges.map((e) => e.node.name));
      totals.push(r.data!.container.objects.totalCount);
      if (!r.data!.container.objects.pageInfo.hasNextPage) break;
      after = r.data!.container.objects.pageInfo.endCursor;
    }
    expect(names).toEqual(['a/hello.txt', 'b.txt', 'c.txt', 'd.txt']);
    // why: the local driver reports the container's object count, so every page of the unfiltered listing knows the total
    expect(totals).toEqual([4, 4]);
    const prefixed = await t.gql<{ container: { objects: { totalCount: number; edges: { node: { name: string } }[] } } }>(q, { id: containerId, prefix: 'a/' });
    expect(prefixed.data!.container.objects.edges.map((e) => e.node.name)).toEqual(['a/hello.txt']);
    expect(prefixed.data!.container.objects.totalCount).toBe(1);
    const partial = await t.gql<{ container: { objects: { totalCount: number | null } } }>(q, { id: containerId, prefix: '', first: 1 });
    expect(partial.data!.container.objects.totalCount).toBe(4);
    const completeUnderPrefix = await t.gql<{ container: { objects: { totalCount: number | null } } }>(q, { id: containerId, prefix: 'c', first: 1 });
    expect(completeUnderPrefix.data!.container.objects.totalCount).toBe(1);
  });

  it('hands out an upload URL that accepts a streamed PUT', async () => {
    const r = await t.gql<{ createUploadUrl: { uploadUrl: { url: string; method: string; expiresAt: string } } }>(
      'mutation($c: ID!) { createUploadUrl(input: { container: $c, name: "via-url.bin", expiresIn: 120 }) { uploadUrl { url method headers expiresAt } } }',
      { c: containerId },
    );
    const uploadUrl = r.data!.createUploadUrl.uploadUrl;
    expect(uploadUrl.method).toBe('PUT');
    const put = await fetch(uploadUrl.url, { method: 'PUT', body: 'streamed body', headers: { 'content-type': 'application/x-test' } });
    expect(put.status).toBe(201);
    const json = (await put.json()) as { id: string; size: number; hash: string };
    expect(json.size).toBe(13);
    const got = await t.gql<{ object: { contentType: string } }>('query($id: ID!) { object(id: $id) { contentType } }', { id: json.id });
    expect(got.data!.object.contentType).toBe('application/x-test');
  });

  it('refuses a multipart upload over the limit with a clear error', async () => {
    const big = new Uint8Array(2 * 1024 * 1024 + 10);
    const r = await upload(containerId, 'too-big.bin', big);
    expect(r.status).toBe(413);
    expect(r.body.errors?.[0]?.message).toMatch(/over the 1048576-byte limit.*PUT \/objects/);
    const listed = await t.gql<{ container: { objects: { edges: { node: { name: string } }[] } } }>(
      'query($id: ID!) { container(id: $id) { objects { edges { node { name } } } } }',
      { id: containerId },
    );
    expect(listed.data!.container.objects.edges.map((e) => e.node.name)).not.toContain('too-big.bin');
  });

  it('rejects names that try to escape the storage root, over GraphQL and PUT', async () => {
    for (const name of ['../escape.txt', 'a/../../escape.txt', '/etc/passwd']) {
      const r = await upload(containerId, name, 'x');
      expect(r.body.errors?.[0]?.extensions?.code, name).toBe('INVALID_INPUT');
      // why: node:http sends the path as written; fetch would resolve the dot segments first
      const status = await rawPut(`/objects/${containerId}/${name}`, 'x');
      expect(status, name).toBe(400);
    }
    const bad = await t.gql('mutation { createContainer(input: { account: "local", name: ".." }) { container { id } } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    expect(existsSync(path.join(t.dataDir, '..', 'escape.txt'))).toBe(false);
  });

  it('deletes objects and refuses to delete a non-empty container', async () => {
    const refused = await t.gql('mutation($id: ID!) { deleteContainer(input: { id: $id }) { deletedId } }', { id: containerId });
    expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const list = await t.gql<{ container: { objects: { edges: { node: { id: string } }[] } } }>(
      'query($id: ID!) { container(id: $id) { objects { edges { node { id } } } } }',
      { id: containerId },
    );
    for (const e of list.data!.container.objects.edges) {
      const r = await t.gql<{ deleteObject: { deletedId: string } }>('mutation($id: ID!) { deleteObject(input: { id: $id }) { deletedId } }', { id: e.node.id });
      expect(r.data!.deleteObject.deletedId).toBe(e.node.id);
    }
    const ok = await t.gql<{ deleteContainer: { deletedId: string } }>('mutation($id: ID!) { deleteContainer(input: { id: $id }) { deletedId } }', { id: containerId });
    expect(ok.data!.deleteContainer.deletedId).toBe(containerId);
    const gone = await t.gql<{ container: null }>('query($id: ID!) { container(id: $id) { id } }', { id: containerId });
    expect(gone.data!.container).toBeNull();
  });
});

describe('api: access rules with an API token', () => {
  let s: TestApp;
  const token = 'test-token-0123456789abcdef';
  beforeAll(async () => {
    s = await startTestApp({ accounts: [{ id: 'local', driver: 'local', options: { root: '${TEST_DATA}' } }], server: { tokens: [{ name: 'ci', token, scope: 'write' }] } });
  });
  afterAll(() => s.stop());

  it('requires the bearer token for GraphQL and transfers, and accepts signed URLs without it', async () => {
    expect((await fetch(`${s.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ accounts { id } }"}' })).status).toBe(401);
    const auth = { authorization: `Bearer ${token}` };
    const c = await s.gql<{ createContainer: { container: { id: string } } }>('mutation { createContainer(input: { account: "local", name: "c" }) { container { id } } }', {}, auth);
    const cid = c.data!.createContainer.container.id;
    expect((await fetch(`${s.url}/objects/${cid}/x.txt`, { method: 'PUT', body: 'x' })).status).toBe(401);
    const put = await fetch(`${s.url}/objects/${cid}/x.txt`, { method: 'PUT', body: 'hello', headers: auth });
    expect(put.status).toBe(201);
    const { id } = (await put.json()) as { id: string };
    expect((await fetch(`${s.url}/objects/${id}`)).status).toBe(401);
    const url = await s.gql<{ object: { downloadUrl: string } }>('query($id: ID!) { object(id: $id) { downloadUrl } }', { id }, auth);
    const signed = await fetch(url.data!.object.downloadUrl);
    expect(await signed.text()).toBe('hello');
    const forged = await fetch(url.data!.object.downloadUrl.replace(/signature=[^&]+/, 'signature=forged'));
    expect(forged.status).toBe(401);
  });
});
