/**
 * Nova key pairs (os-keypairs): list, get, create (the private key is returned once), import, delete.
 *
 * https://docs.openstack.org/api-ref/compute/#keypairs-keypairs
 */
import { InvalidInputError, MalformedResponseError } from '../../errors.ts';
import { list, obj, str, type Json } from '../../rest/json.ts';
import type { ComputeDriver, KeyPair } from '../../types.ts';
import type { NovaApi } from './api.ts';
import { toKeyPair } from './mappers.ts';

type KeyPairMethods = Required<Pick<ComputeDriver, 'listKeyPairs' | 'getKeyPair' | 'createKeyPair' | 'importKeyPair' | 'deleteKeyPair'>>;

export function novaKeyPairs(api: NovaApi): KeyPairMethods {
  const provider = api.provider;
  const name = (n: string) => {
    if (typeof n !== 'string' || n.trim() === '' || n.length > 255) throw new InvalidInputError('key pair name must be 1 to 255 characters', { provider, field: 'name' });
    return n;
  };
  const keypairOf = (body: unknown, operation: string): Json => {
    const k = obj(obj(body)?.keypair);
    if (!k) throw new MalformedResponseError(`${operation} answered without a keypair`, { provider });
    return k;
  };

  return {
    async listKeyPairs() {
      const conn = await api.compute();
      // https://docs.openstack.org/api-ref/compute/#list-keypairs
      const res = await conn.request<Json>({ operation: 'GET /os-keypairs', path: 'os-keypairs' });
      const items = obj(res.body)?.keypairs;
      if (!Array.isArray(items)) throw new MalformedResponseError('GET /os-keypairs answered without keypairs', { provider });
      return list(items).map((k) => toKeyPair(obj(k.keypair) ?? k));
    },

    async getKeyPair(n) {
      const conn = await api.compute();
      // https://docs.openstack.org/api-ref/compute/#show-keypair-details
      const res = await conn.request({ operation: 'GET /os-keypairs/{name}', path: `os-keypairs/${encodeURIComponent(name(n))}` });
      return toKeyPair(keypairOf(res.body, 'GET /os-keypairs/{name}'));
    },

    async createKeyPair(n) {
      const conn = await api.compute();
      // https://docs.openstack.org/api-ref/compute/#create-or-import-keypair
      const res = await conn.request({ operation: 'POST /os-keypairs', method: 'POST', path: 'os-keypairs', json: { keypair: { name: name(n) } } });
      const k = keypairOf(res.body, 'POST /os-keypairs');
      const privateKey = str(k.private_key);
      if (!privateKey) throw new MalformedResponseError('POST /os-keypairs answered without private_key', { provider });
      return toKeyPair(k, privateKey);
    },

    async importKeyPair(n, publicKey): Promise<KeyPair> {
      const key = typeof publicKey === 'string' ? publicKey.trim() : '';
      if (!/^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+/.test(key)) {
        throw new InvalidInputError('publicKey must be an OpenSSH public key (ssh-rsa, ssh-ed25519 or ecdsa-sha2-*)', { provider, field: 'publicKey' });
      }
      const conn = await api.compute();
      const res = await conn.request({ operation: 'POST /os-keypairs import', method: 'POST', path: 'os-keypairs', json: { keypair: { name: name(n), public_key: key } } });
      return toKeyPair(keypairOf(res.body, 'POST /os-keypairs'));
    },

    async deleteKeyPair(n) {
      const conn = await api.compute();
      // https://docs.openstack.org/api-ref/compute/#delete-keypair
      await conn.request({ operation: 'DELETE /os-keypairs/{name}', method: 'DELETE', path: `os-keypairs/${encodeURIComponent(name(n))}`, responseType: 'none' });
    },
  };
}
