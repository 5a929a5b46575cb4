/**
 * Sandbox SSH key pairs. createKeyPair generates an ed25519 key; its private half is returned
 * once and never stored.
 */
import { ConflictError } from '../errors.ts';
import type { ComputeDriver, KeyPair } from '../types.ts';
import { DRIVER_NAME } from './options.ts';
import { generateEd25519, parsePublicKey } from './ssh-keys.ts';
import { invalid, notFound, requireName, type KeyPairRecord, type SandboxRuntime } from './state.ts';

type KeyPairMethods = Required<
  Pick<ComputeDriver, 'listKeyPairs' | 'getKeyPair' | 'createKeyPair' | 'importKeyPair' | 'deleteKeyPair'>
>;

export function sandboxKeyPairs(rt: SandboxRuntime): KeyPairMethods {
  const { state } = rt;
  const findKeyPair = (name: string): KeyPairRecord => {
    const keyPair = state.keyPairs.get(name);
    if (!keyPair) throw notFound('key pair', name);
    return keyPair;
  };
  const requireNewName = (name: string) => {
    requireName(name, 'name');
    if (state.keyPairs.has(name)) {
      throw new ConflictError(`key pair ${JSON.stringify(name)} already exists`, { provider: DRIVER_NAME, status: 409 });
    }
  };

  return {
    listKeyPairs: () => rt.call('listKeyPairs', () => [...state.keyPairs.values()].map(toKeyPair)),

    getKeyPair: (name) => rt.call('getKeyPair', () => toKeyPair(findKeyPair(name))),

    createKeyPair: (name) =>
      rt.call('createKeyPair', () => {
        requireNewName(name);
        const key = generateEd25519(name);
        const record = { name, fingerprint: key.fingerprint, publicKey: key.publicKey, createdAt: new Date(rt.now()) };
        state.keyPairs.set(name, record);
        return { ...toKeyPair(record), privateKey: key.privateKey };
      }),

    importKeyPair: (name, publicKey) =>
      rt.call('importKeyPair', () => {
        requireNewName(name);
        const parsed = parsePublicKey(publicKey);
        if (!parsed) throw invalid('publicKey is not an OpenSSH public key line (type base64 [comment])', 'publicKey');
        const record = { name, fingerprint: parsed.fingerprint, publicKey: publicKey.trim(), createdAt: new Date(rt.now()) };
        state.keyPairs.set(name, record);
        return toKeyPair(record);
      }),

    deleteKeyPair: (name) =>
      rt.call('deleteKeyPair', () => {
        findKeyPair(name);
        state.keyPairs.delete(name);
      }),
  };
}

function toKeyPair(record: KeyPairRecord): KeyPair {
  return {
    name: record.name,
    fingerprint: record.fingerprint,
    publicKey: record.publicKey,
    extra: { type: record.publicKey.split(' ')[0], createdAt: record.createdAt.toISOString() },
  };
}
