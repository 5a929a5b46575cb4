/**
 * deployNode / deployToNode: create (or take) a node, wait for it and its SSH port, run steps,
 * and stream the output live through deploymentProgress. Private keys come from the config
 * (`sshKeys`, named by keyRef) or an argument that is used once and never stored or echoed.
 */
import { builder, type Types } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId } from '../ids.ts';
import { InvalidInputError, NotFoundError } from '../providers/errors.ts';
import type { Node as NodeModel } from '../providers/types.ts';
import type { Deployment as DeploymentModel, DeploymentEvent, DeployStep, SshOptions, StepResult } from '../deploy/types.ts';
import { ERROR_CODES } from '../providers/errors.ts';
import { callAccount, scope } from '../resolvers/fan-out.ts';
import { Account } from './account.ts';
import { defineMutation } from './mutation.ts';
import { createNodeFrom, CreateNodeInput, Node } from './node.ts';
import { DateTimeScalar } from './scalars.ts';

const DeploymentStatus = builder.enumType('DeploymentStatus', {
  values: ['PENDING', 'WAITING_FOR_NODE', 'WAITING_FOR_SSH', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const,
});
const StepStatus = builder.enumType('StepStatus', { values: ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED'] as const });
const StepKind = builder.enumType('StepKind', {
  values: { SSH_KEY: { value: 'sshKey' }, SCRIPT: { value: 'script' }, FILE: { value: 'file' } } as const,
});
const OutputStream = builder.enumType('OutputStream', { values: { STDOUT: { value: 'stdout' }, STDERR: { value: 'stderr' } } as const });
const DeploymentProgressType = builder.enumType('DeploymentProgressType', {
  values: {
    STATUS: { value: 'status', description: 'The deployment changed status; `deployment` holds all of it.' },
    OUTPUT: { value: 'output', description: 'A chunk of a step\'s output.' },
    STEP: { value: 'step', description: 'A step started, ended or was skipped.' },
  } as const,
});
const AddressPreference = builder.enumType('AddressPreference', {
  values: { PUBLIC: { value: 'public' }, PRIVATE: { value: 'private' } } as const,
});
const DEPLOYMENT_ERROR_CODES = [...ERROR_CODES, 'HOST_KEY_MISMATCH', 'NODE_FAILED', 'STEP_FAILED'] as const;
const DeploymentErrorCode = builder.enumType('DeploymentErrorCode', {
  description: 'ErrorCode values, plus HOST_KEY_MISMATCH (not the pinned host key), NODE_FAILED (the node ended terminated or in error) and STEP_FAILED.',
  values: DEPLOYMENT_ERROR_CODES,
});

const StepResultRef = builder.objectRef<StepResult>('StepResult').implement({
  fields: (t) => ({
    index: t.exposeInt('index'),
    kind: t.field({ type: StepKind, resolve: (s) => s.kind }),
    name: t.exposeString('name'),
    status: t.field({ type: StepStatus, resolve: (s) => s.status }),
    exitCode: t.exposeInt('exitCode', { nullable: true }),
    stdout: t.exposeString('stdout'),
    stderr: t.exposeString('stderr'),
    truncated: t.exposeBoolean('truncated', { description: 'Output went past the per-step bound and was cut.' }),
    startedAt: t.field({ type: DateTimeScalar, nullable: true, resolve: (s) => s.startedAt }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
  }),
});

const DeploymentErrorRef = builder.objectRef<{ code: string; message: string }>('DeploymentError').implement({
  fields: (t) => ({
    code: t.field({ type: DeploymentErrorCode, resolve: (e) => e.code as (typeof DEPLOYMENT_ERROR_CODES)[number] }),
    message: t.exposeString('message'),
  }),
});

export const Deployment = builder.objectRef<DeploymentModel>('Deployment').implement({
  description: 'A node being set up over SSH, step by step.',
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.field({ type: DeploymentStatus, resolve: (d) => d.status }),
    account: t.field({ type: Account, resolve: (d, _args, ctx) => ctx.runtime.account(d.accountId) }),
    node: t.field({
      type: Node,
      nullable: true,
      resolve: async (d, _args, ctx) => {
        if (!d.nodeId) return null;
        const region = ctx.services.deploymentRegions.get(d.id) ?? null;
        const n = await ctx.loaders.compute(d.accountId, region).node.load(d.nodeId);
        return n ? scope(n, d.accountId, region) : null;
      },
    }),
    address: t.exposeString('address', { nullable: true }),
    username: t.exposeString('username', { nullable: true }),
    steps: t.field({ type: [StepResultRef], resolve: (d) => d.steps }),
    error: t.field({ type: DeploymentErrorRef, nullable: true, resolve: (d) => d.error }),
    createdAt: t.field({ type: DateTimeScalar, resolve: (d) => d.createdAt }),
    updatedAt: t.field({ type: DateTimeScalar, resolve: (d) => d.updatedAt }),
  }),
});

type StepInputShape = {
  sshKey?: { publicKey: string; name?: string | null } | null;
  script?: { script: string; args?: string[] | null; interpreter?: string | null; timeoutMs?: number | null; name?: string | null } | null;
  file?: { path: string; content: string; mode?: number | null; name?: string | null } | null;
  multi?: { steps: StepInputShape[]; continueOnError?: boolean | null } | null;
};

const DeployStepInput = builder.inputRef<StepInputShape>('DeployStepInput');
DeployStepInput.implement({
  description: 'Exactly one of sshKey, script, file or multi.',
  fields: (t) => ({
    sshKey: t.field({ type: builder.inputType('SshKeyStepInput', { fields: (f) => ({ publicKey: f.string({ required: true }), name: f.string() }) }) }),
    script: t.field({
      type: builder.inputType('ScriptStepInput', {
        fields: (f) => ({
          script: f.string({ required: true }),
          args: f.stringList(),
          interpreter: f.string({ description: 'Absolute path of the program that runs the script; default /bin/sh.' }),
          timeoutMs: f.int(),
          name: f.string(),
        }),
      }),
    }),
    file: t.field({
      type: builder.inputType('FileStepInput', {
        fields: (f) => ({ path: f.string({ required: true }), content: f.string({ required: true }), mode: f.int({ description: 'e.g. 420 for 0644' }), name: f.string() }),
      }),
    }),
    multi: t.field({
      type: builder.inputType('MultiStepInput', {
        fields: (f) => ({ steps: f.field({ type: [DeployStepInput], required: true }), continueOnError: f.boolean() }),
      }),
    }),
  }),
});

const SshInput = builder.inputType('SshInput', {
  fields: (t) => ({
    username: t.string({ required: true }),
    alternateUsernames: t.stringList(),
    port: t.int(),
    keyRef: t.string({ description: 'Name of a key under `sshKeys` in the config.' }),
    privateKey: t.string({ description: 'A private key used for this deployment only; never stored or echoed. Prefer keyRef.' }),
    hostKeyFingerprint: t.string({ description: 'SHA256:... of the host key to pin; a different key fails the deployment.' }),
    timeoutMs: t.int({ description: 'Deadline for the node to run and SSH to accept a login.' }),
    connectTimeoutMs: t.int(),
    addressPreference: t.field({ type: AddressPreference, defaultValue: 'public', description: "Which of the node's own addresses to try first." }),
  }),
});

function toStep(input: StepInputShape, at: string): DeployStep {
  const set = (['sshKey', 'script', 'file', 'multi'] as const).filter((k) => input[k]);
  if (set.length !== 1) throw new InvalidInputError(`argument "${at}" must set exactly one of sshKey, script, file, multi`, { field: at });
  if (input.sshKey) return { kind: 'sshKey', publicKey: input.sshKey.publicKey, name: input.sshKey.name ?? undefined };
  if (input.script) {
    const s = input.script;
    return { kind: 'script', script: s.script, args: s.args ?? undefined, interpreter: s.interpreter ?? undefined, timeoutMs: s.timeoutMs ?? undefined, name: s.name ?? undefined };
  }
  if (input.file) return { kind: 'file', path: input.file.path, content: input.file.content, mode: input.file.mode ?? undefined, name: input.file.name ?? undefined };
  const m = input.multi!;
  return { kind: 'multi', steps: m.steps.map((s, i) => toStep(s, `${at}.multi.steps[${i}]`)), continueOnError: m.continueOnError ?? undefined };
}

function toSsh(ctx: Context, ssh: typeof SshInput.$inferInput, at = 'input.ssh'): SshOptions {
  let privateKey = ssh.privateKey ?? undefined;
  let passphrase: string | undefined;
  if (ssh.keyRef) {
    const key = ctx.runtime.config.sshKeys[ssh.keyRef];
    if (!key) throw new InvalidInputError(`argument "${at}.keyRef": no key "${ssh.keyRef}" under sshKeys in the config`, { field: `${at}.keyRef` });
    privateKey = key.privateKey;
    passphrase = key.passphrase;
  }
  if (!privateKey) throw new InvalidInputError(`argument "${at}" needs keyRef (a key named in the config) or privateKey`, { field: `${at}.keyRef` });
  const pref = ssh.addressPreference ?? 'public';
  return {
    username: ssh.username,
    alternateUsernames: ssh.alternateUsernames ?? undefined,
    port: ssh.port ?? undefined,
    privateKey,
    passphrase,
    hostKeyFingerprint: ssh.hostKeyFingerprint ?? undefined,
    timeoutMs: ssh.timeoutMs ?? undefined,
    connectTimeoutMs: ssh.connectTimeoutMs ?? undefined,
    addressPreference: pref,
  };
}

function getNodeFn(ctx: Context, accountId: string, region: string | null) {
  const account = ctx.runtime.account(accountId);
  return async (id: string): Promise<NodeModel> => {
    const driver = account.compute(region);
    const node = driver.getNodes ? (await driver.getNodes([id]))[0] : (await driver.listNodes()).find((n) => n.id === id);
    if (!node) throw new NotFoundError(`node ${id} not found in account "${accountId}"`);
    return node;
  };
}

const SETTLED = new Set(['running', 'terminated', 'error']);

/**
 * Waits on the shared poller's events rather than polling on its own, so a deployment costs no
 * upstream calls beyond what the dashboards already cause.
 */
function waitForRunningFn(ctx: Context, accountId: string, getNode: (id: string) => Promise<NodeModel>) {
  return async (id: string, signal: AbortSignal): Promise<NodeModel> => {
    const events = ctx.services.live.subscribe({ kind: 'node', accounts: [accountId], ids: [id] }, signal);
    try {
      await events.ready;
      // why: the node may have settled before the subscription began
      const current = await getNode(id).catch(() => undefined);
      if (current && SETTLED.has(current.state)) return current;
      for await (const event of events) {
        if (event.kind === 'DELETED') throw new NotFoundError(`node ${id} was deleted while waiting for it`);
        const node = event.item as NodeModel;
        if (SETTLED.has(node.state)) return node;
      }
      throw new NotFoundError(`stopped waiting for node ${id}`);
    } finally {
      await events.return?.();
    }
  };
}

const deploymentPayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, { deployment: DeploymentModel }>) => ({
  deployment: t.field({ type: Deployment, resolve: (p) => p.deployment }),
});

defineMutation('deployNode', {
  description:
    'Creates a node, waits until it runs and SSH answers, then runs the steps. Answers at once; follow it with deployment(id) or deploymentProgress(id).',
  input: (t) => ({
    create: t.field({ type: CreateNodeInput, required: true }),
    steps: t.field({ type: [DeployStepInput], required: true }),
    ssh: t.field({ type: SshInput, required: true }),
  }),
  payload: deploymentPayload,
  resolve: (input, ctx) => {
    const steps = input.steps.map((s, i) => toStep(s, `input.steps[${i}]`));
    const ssh = toSsh(ctx, input.ssh);
    const account = ctx.runtime.account(String(input.create.account), 'input.create.account');
    const region = input.create.region ?? account.regions[0] ?? null;
    const d = ctx.services.deployments.start({
      accountId: account.config.id,
      create: async () => createNodeFrom(ctx, input.create, 'input.create'),
      getNode: getNodeFn(ctx, account.config.id, region),
      waitForRunning: waitForRunningFn(ctx, account.config.id, getNodeFn(ctx, account.config.id, region)),
      steps,
      ssh,
    });
    ctx.services.deploymentRegions.set(d.id, region);
    return { deployment: d };
  },
});

defineMutation('deployToNode', {
  description: 'Runs deployment steps on an existing node over SSH. Answers at once; follow it with deployment(id) or deploymentProgress(id).',
  input: (t) => ({
    node: t.id({ required: true }),
    steps: t.field({ type: [DeployStepInput], required: true }),
    ssh: t.field({ type: SshInput, required: true }),
  }),
  payload: deploymentPayload,
  resolve: async (input, ctx) => {
    const nd = decodeId(String(input.node), 'Node', 'input.node');
    const account = ctx.runtime.account(nd.account, 'input.node');
    const steps = input.steps.map((s, i) => toStep(s, `input.steps[${i}]`));
    const ssh = toSsh(ctx, input.ssh);
    const getNode = getNodeFn(ctx, nd.account, nd.region);
    await callAccount(ctx, account, 'node', () => getNode(nd.parts[0] ?? ''), { region: nd.region });
    const d = ctx.services.deployments.start({
      accountId: nd.account,
      nodeId: nd.parts[0],
      getNode,
      waitForRunning: waitForRunningFn(ctx, nd.account, getNode),
      steps,
      ssh,
    });
    ctx.services.deploymentRegions.set(d.id, nd.region);
    return { deployment: d };
  },
});

builder.queryField('deployment', (t) =>
  t.field({
    type: Deployment,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.deployments.get(String(args.id)) ?? null,
  }),
);

const DeploymentProgress = builder.objectRef<DeploymentEvent>('DeploymentProgress').implement({
  description: 'A status change (with the whole deployment), an output chunk, or a step change.',
  fields: (t) => ({
    type: t.field({ type: DeploymentProgressType, resolve: (e) => e.type }),
    deployment: t.field({ type: Deployment, nullable: true, resolve: (e) => (e.type === 'status' ? e.deployment : null) }),
    stepIndex: t.int({ nullable: true, resolve: (e) => (e.type === 'output' ? e.stepIndex : e.type === 'step' ? e.step.index : null) }),
    stream: t.field({ type: OutputStream, nullable: true, resolve: (e) => (e.type === 'output' ? e.stream : null) }),
    chunk: t.string({ nullable: true, resolve: (e) => (e.type === 'output' ? e.chunk : null) }),
    step: t.field({ type: StepResultRef, nullable: true, resolve: (e) => (e.type === 'step' ? e.step : null) }),
  }),
});

builder.subscriptionField('deploymentProgress', (t) =>
  t.field({
    type: DeploymentProgress,
    description: 'Status changes and output chunks of one deployment as they happen; ends after the final status.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => ctx.services.deployments.subscribe(String(args.id)),
    resolve: (e) => e,
  }),
);
