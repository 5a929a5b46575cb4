/**
 * OpenSSH key helpers for the sandbox key pairs: ed25519 generation with node:crypto, written
 * in the OpenSSH formats `ssh` and ssh2 read (node:crypto only exports PKCS#8), and public-key
 * checks on ssh2's parser.
 *
 * why not ssh2.utils.generateKeyPairSync: it drops leading zero bytes of the ed25519 public
 * key, so about 1 key in 256 comes out malformed.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';

const ED25519 = 'ssh-ed25519';

export interface GeneratedKey {
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string;
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` block, unencrypted */
  privateKey: string;
  fingerprint: string;
}

/** A new ed25519 key pair in OpenSSH formats. */
export function generateEd25519(comment: string): GeneratedKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  const blob = Buffer.concat([sshString(ED25519), sshString(pub)]);

  // https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.key
  const check = randomBytes(4);
  const secret = Buffer.concat([
    check,
    check,
    sshString(ED25519),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const padding = Buffer.from(Array.from({ length: (8 - (secret.length % 8)) % 8 }, (_, i) => i + 1));
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(blob),
    sshString(Buffer.concat([secret, padding])),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return {
    publicKey: `${ED25519} ${blob.toString('base64')} ${comment}`,
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    fingerprint: fingerprintOf(blob),
  };
}

/**
 * Checks an OpenSSH public key line (`type base64 [comment]`) and returns its type and
 * fingerprint, or undefined when it is not one (private keys included).
 */
export function parsePublicKey(line: string): { type: string; fingerprint: string } | undefined {
  const parsed = ssh2.utils.parseKey(line.trim());
  if (parsed instanceof Error || Array.isArray(parsed) || parsed.isPrivateKey()) return undefined;
  return { type: parsed.type, fingerprint: fingerprintOf(parsed.getPublicSSH()) };
}

/** `ssh-keygen -l` style: `SHA256:` + unpadded base64 of the key blob's SHA-256. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

// --- Internal helpers ---

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function sshString(value: string | Buffer): Buffer {
  const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([uint32(data.length), data]);
}
