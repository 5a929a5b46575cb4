/**
 * CloudSigma 2.0 key pairs: list, get, import, delete. The API keys them by uuid; skygraph by
 * name, so get/delete look the name up in one listing. Generating a key pair is left out (its
 * private key would travel through skygraph).
 *
 * https://cloudsigma-docs.readthedocs.io/en/latest/keypairs.html
 */
import { ConflictError, InvalidInputError, MalformedResponseError, NotFoundError } from '../../errors.ts';
import type { ComputeDriver, KeyPair } from '../../types.ts';
import { DRIVER_NAME, type Cs2Api } from './api.ts';
import { objects, str, toKeyPair, uuidOf } from './mappers.ts';

type KeyPairMethods = Required<Pick<ComputeDriver, 'listKeyPairs' | 'getKeyPair' | 'importKeyPair' | 'deleteKeyPair'>>;

export function cs2KeyPairs(api: Cs2Api): KeyPairMethods & { keyPairUuid(name: string): Promise<string> } {
  const all = async () => {
    // https://cloudsigma-docs.readthedocs.io/en/latest/keypairs.html#listing
    const body = await api.request('GET /keypairs/', { path: 'keypairs/', query: { limit: 0 } });
    return objects(body, 'GET /keypairs/');
  };
  const find = async (name: string) => {
    checkName(name);
    const found = (await all()).find((k) => str(k.name) === name);
    if (!found) throw new NotFoundError(`key pair ${name} does not exist`, { provider: DRIVER_NAME });
    return found;
  };
  return {
    listKeyPairs: async (): Promise<KeyPair[]> => (await all()).map(toKeyPair),
    getKeyPair: async (name) => toKeyPair(await find(name)),
    async importKeyPair(name, publicKey) {
      checkName(name);
      if (typeof publicKey !== 'string' || !/^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$/.test(publicKey.trim())) {
        throw new InvalidInputError('publicKey must be an OpenSSH public key line', { provider: DRIVER_NAME, field: 'publicKey' });
      }
      // why: the API accepts a second key pair of the same name; skygraph names must stay unique
      if ((await all()).some((k) => str(k.name) === name)) throw new ConflictError(`key pair ${name} exists already`, { provider: DRIVER_NAME });
      // https://cloudsigma-docs.readthedocs.io/en/latest/keypairs.html#creating
      const body = await api.request('POST /keypairs/', { method: 'POST', path: 'keypairs/', json: { objects: [{ name, public_key: publicKey.trim() }] }, expect: [200, 201] });
      const created = objects(body, 'POST /keypairs/')[0];
      if (!created) throw new MalformedResponseError('POST /keypairs/ answered with no key pair', { provider: DRIVER_NAME });
      return toKeyPair(created);
    },
    async deleteKeyPair(name) {
      const uuid = uuidOf(await find(name), 'key pair');
      // https://cloudsigma-docs.readthedocs.io/en/latest/keypairs.html#deleting
      await api.request('DELETE /keypairs/{uuid}/', { method: 'DELETE', path: `keypairs/${encodeURIComponent(uuid)}/`, responseType: 'none', expect: [200, 204] });
    },
    keyPairUuid: async (name) => uuidOf(await find(name), 'key pair'),
  };
}

// --- Internal helpers ---

function checkName(name: string): void {
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) throw new InvalidInputError('name must be a key pair name', { provider: DRIVER_NAME, field: 'name' });
}
