import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startSshd, type SshdFixture } from '../helpers/sshd.ts';
import { collect, wsClient } from '../helpers/ws-client.ts';

type DeploymentData = {
  id: string;
  status: string;
  account: { id: string };
  error: { code: string; message: string } | null;
  node: { name: string; state: string } | null;
  steps: { kind: string; status: string; exitCode: number | null; stdout: string; stderr: string }[];
};

const FIELDS = 'id status account { id } error { code message } node { name state } steps { kind status exitCode stdout stderr }';

let sshd: SshdFixture;
let t: TestApp;
beforeAll(async () => {
  sshd = await startSshd();
  t = await startTestApp(
    {
      accounts: [{ id: 'lab', driver: 'sandbox', options: { nodeAddress: '127.0.0.1', transitionMs: 300 } }],
      sshKeys: { lab: { privateKey: sshd.privateKey } },
    },
    { deployPollMs: 100 },
  );
});
afterAll(async () => {
  await t?.stop();
  await sshd?.stop();
});

async function refs() {
  const r = await t.gql<{ sizes: { nodes: { nativeId: string }[] }; images: { nodes: { nativeId: string }[] } }>(
    '{ sizes(filter: { accounts: ["lab"] }) { nodes { nativeId } } images(filter: { accounts: ["lab"] }, first: 1) { nodes { nativeId } } }',
  );
  return { size: r.data!.sizes.nodes[0]!.nativeId, image: r.data!.images.nodes[0]!.nativeId };
}

async function finished(id: string): Promise<DeploymentData> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await t.gql<{ deployment: DeploymentData }>(`query($id: ID!) { deployment(id: $id) { ${FIELDS} } }`, { id });
    const d = r.data!.deployment;
    if (d.status === 'SUCCEEDED' || d.status === 'FAILED' || Date.now() > deadline) return d;
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('api: deployNode over SSH', () => {
  it('creates a node, installs a key, runs a script, and streams its output live', async () => {
    const pub = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
    // an OpenSSH line for an ed25519 key: "ssh-ed25519 <base64(string 'ssh-ed25519' + string key)>"
    const raw = pub.subarray(pub.length - 32);
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), raw]);
    const publicKey = `ssh-ed25519 ${blob.toString('base64')} deploy-test`;
    const { size, image } = await refs();
    const r = await t.gql<{ deployNode: { deployment: DeploymentData } }>(
      `mutation($input: DeployNodeInput!) { deployNode(input: $input) { deployment { ${FIELDS} } } }`,
      {
        input: {
          create: { account: 'lab', name: 'web-1', size, image },
          steps: [{ sshKey: { publicKey } }, { script: { script: 'echo first; sleep 1; echo second; echo oops >&2', name: 'hello' } }],
          ssh: { username: sshd.username, port: sshd.port, keyRef: 'lab', hostKeyFingerprint: sshd.hostKeyFingerprint, timeoutMs: 30_000 },
        },
      },
    );
    expect(r.errors).toBeUndefined();
    const id = r.data!.deployNode.deployment.id;
    expect(['PENDING', 'WAITING_FOR_NODE']).toContain(r.data!.deployNode.deployment.status);
    expect(r.data!.deployNode.deployment.account).toEqual({ id: 'lab' });

    const client = wsClient(t.url);
    const progress = collect<{ deploymentProgress: { type: string; chunk: string | null; stream: string | null; step: { status: string } | null; deployment: { status: string } | null } }>(
      client,
      'subscription($id: ID!) { deploymentProgress(id: $id) { type chunk stream step { status } deployment { status } } }',
      { id },
    );
    // the wait for the node goes through the shared poller, not a poll loop of its own
    let pollers = 0;
    const sampler = setInterval(() => (pollers = Math.max(pollers, t.app.services.live.stats().pollers)), 20);
    const d = await finished(id);
    clearInterval(sampler);
    expect(pollers).toBeGreaterThanOrEqual(1);
    expect(d.error).toBeNull();
    expect(d.status).toBe('SUCCEEDED');
    expect(d.node).toMatchObject({ name: 'web-1', state: 'RUNNING' });
    expect(d.steps.map((s) => [s.kind, s.status, s.exitCode])).toEqual([
      ['SSH_KEY', 'SUCCEEDED', 0],
      ['SCRIPT', 'SUCCEEDED', 0],
    ]);
    expect(d.steps[1]!.stdout).toBe('first\nsecond\n');
    expect(d.steps[1]!.stderr).toBe('oops\n');
    expect(readFileSync(sshd.authorizedKeysPath, 'utf8')).toContain(publicKey);

    const events = progress.events.map((e) => e.deploymentProgress);
    const firstChunk = events.findIndex((e) => e.type === 'OUTPUT' && e.chunk?.includes('first'));
    const scriptDone = events.findIndex((e, i) => i > firstChunk && e.type === 'STEP' && e.step?.status === 'SUCCEEDED');
    expect(firstChunk).toBeGreaterThanOrEqual(0);
    expect(scriptDone).toBeGreaterThan(firstChunk);
    expect(events.at(-1)).toMatchObject({ type: 'STATUS', deployment: { status: 'SUCCEEDED' } });
    await client.dispose();
    expect(JSON.stringify(d)).not.toContain('PRIVATE KEY');
  }, 90_000);

  it('reports a failing step with its exit code and stderr, and refuses a wrong host key', async () => {
    const nodes = await t.gql<{ nodes: { edges: { node: { id: string; name: string } }[] } }>('{ nodes(filter: { accounts: ["lab"] }) { edges { node { id name } } } }');
    const node = nodes.data!.nodes.edges.find((e) => e.node.name === 'web-1')!.node;
    const ssh = { username: sshd.username, port: sshd.port, keyRef: 'lab', hostKeyFingerprint: sshd.hostKeyFingerprint, timeoutMs: 20_000 };
    const deployTo = 'mutation($n: ID!, $s: [DeployStepInput!]!, $ssh: SshInput!) { deployToNode(input: { node: $n, steps: $s, ssh: $ssh }) { deployment { id } } }';
    const failing = await t.gql<{ deployToNode: { deployment: { id: string } } }>(deployTo, {
      n: node.id,
      s: [{ script: { script: 'echo broken >&2; exit 3' } }, { script: { script: 'echo never' } }],
      ssh,
    });
    const f = await finished(failing.data!.deployToNode.deployment.id);
    expect(f.status).toBe('FAILED');
    expect(f.steps.map((s) => [s.status, s.exitCode])).toEqual([
      ['FAILED', 3],
      ['SKIPPED', null],
    ]);
    expect(f.steps[0]!.stderr).toBe('broken\n');

    const wrong = await t.gql<{ deployToNode: { deployment: { id: string } } }>(deployTo, {
      n: node.id,
      s: [{ script: { script: 'echo should-not-run' } }],
      ssh: { ...ssh, hostKeyFingerprint: 'SHA256:' + 'A'.repeat(43) },
    });
    const w = await finished(wrong.data!.deployToNode.deployment.id);
    expect(w.status).toBe('FAILED');
    expect(w.error?.code).toBe('HOST_KEY_MISMATCH');
    expect(w.steps[0]!.status).not.toBe('SUCCEEDED');
  }, 90_000);

  it('names the argument when the key reference or a step is wrong', async () => {
    const nodes = await t.gql<{ nodes: { edges: { node: { id: string } }[] } }>('{ nodes(filter: { accounts: ["lab"] }, first: 1) { edges { node { id } } } }');
    const n = nodes.data!.nodes.edges[0]!.node.id;
    const badKey = await t.gql(
      'mutation($n: ID!) { deployToNode(input: { node: $n, steps: [{ script: { script: "true" } }], ssh: { username: "x", keyRef: "nope" } }) { deployment { id } } }',
      { n },
    );
    expect(badKey.errors?.[0]?.message).toContain('input.ssh.keyRef');
    expect(badKey.errors?.[0]?.extensions?.argument).toBe('input.ssh.keyRef');
    const twoKinds = await t.gql(
      'mutation($n: ID!) { deployToNode(input: { node: $n, steps: [{ script: { script: "true" }, file: { path: "/tmp/x", content: "" } }], ssh: { username: "x", keyRef: "lab" } }) { deployment { id } } }',
      { n },
    );
    expect(twoKinds.errors?.[0]?.message).toContain('input.steps[0]');
  });
});
