/**
 * EC2 key pairs: list, get, create (the private key is returned once), import, delete.
 *
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeKeyPairs.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateKeyPair.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ImportKeyPair.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteKeyPair.html
 */
import { InvalidInputError, MalformedResponseError, NotFoundError } from '../../errors.ts';
import type { ComputeDriver, KeyPair } from '../../types.ts';
import { DRIVER_NAME, type Ec2Api } from './api.ts';
import { items, text, toKeyPair } from './mappers.ts';

type KeyPairMethods = Required<Pick<ComputeDriver, 'listKeyPairs' | 'getKeyPair' | 'createKeyPair' | 'importKeyPair' | 'deleteKeyPair'>>;

export function ec2KeyPairs(api: Ec2Api): KeyPairMethods {
  return {
    async listKeyPairs() {
      const page = await api.call('DescribeKeyPairs', { IncludePublicKey: 'true' });
      return items(page.keySet).map((k) => toKeyPair(k));
    },

    async getKeyPair(name) {
      // why: an unknown KeyName.1 is InvalidKeyPair.NotFound, which parseAwsError makes a NotFoundError
      const page = await api.call('DescribeKeyPairs', { 'KeyName.1': requireName(name), IncludePublicKey: 'true' });
      const found = items(page.keySet).map((k) => toKeyPair(k)).find((k) => k.name === name);
      if (!found) throw new NotFoundError(`key pair ${JSON.stringify(name)} does not exist`, { provider: DRIVER_NAME });
      return found;
    },

    async createKeyPair(name) {
      const page = await api.call('CreateKeyPair', { KeyName: requireName(name) });
      const material = text(page.keyMaterial);
      if (material === undefined) throw new MalformedResponseError('CreateKeyPair answered without keyMaterial', { provider: DRIVER_NAME });
      return toKeyPair(page, material);
    },

    async importKeyPair(name, publicKey): Promise<KeyPair> {
      const key = publicKey.trim();
      if (!/^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+/.test(key)) {
        throw new InvalidInputError('publicKey must be an OpenSSH public key (ssh-rsa, ssh-ed25519 or ecdsa-sha2-*)', {
          provider: DRIVER_NAME,
          field: 'publicKey',
        });
      }
      // why: the Query API takes the key file base64-encoded
      const page = await api.call('ImportKeyPair', { KeyName: requireName(name), PublicKeyMaterial: Buffer.from(key, 'utf8').toString('base64') });
      return { ...toKeyPair(page), publicKey: key };
    },

    async deleteKeyPair(name) {
      await api.call('DeleteKeyPair', { KeyName: requireName(name) }, { idempotent: true });
    },
  };
}

function requireName(name: string): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > 255) {
    throw new InvalidInputError('key pair name must be 1 to 255 characters', { provider: DRIVER_NAME, field: 'name' });
  }
  return name;
}
