/** Small promise wrappers over ssh2's SFTP client, writing whole files with an exact mode. */
import type { Client, SFTPWrapper } from 'ssh2';

/** SFTP writes are split into requests of this size (OpenSSH accepts up to 256 KiB; 32 KiB is safe everywhere). */
const CHUNK = 32 * 1024;

/** Opens the SFTP subsystem once per connection, on first use. */
export function lazySftp(client: Client): () => Promise<SFTPWrapper> {
  let pending: Promise<SFTPWrapper> | undefined;
  return () => {
    pending ??= new Promise<SFTPWrapper>((resolve, reject) => {
      client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp)));
    });
    // why: a failed open may be transient; do not cache the failure
    pending.catch(() => {
      pending = undefined;
    });
    return pending;
  };
}

/**
 * Writes `content` to `path`. `flags` 'w' truncates an existing file, 'wx' refuses one (O_EXCL).
 * The mode is set with fchmod before any byte is written, so neither the server's umask nor an
 * existing file's mode leaves the content readable more widely than asked.
 */
export async function writeRemoteFile(
  sftp: SFTPWrapper,
  path: string,
  content: Uint8Array,
  mode: number,
  flags: 'w' | 'wx',
): Promise<void> {
  const handle = await call<Buffer>((cb) => sftp.open(path, flags, { mode }, cb));
  try {
    await call<void>((cb) => sftp.fchmod(handle, mode, cb));
    for (let pos = 0; pos < content.length; pos += CHUNK) {
      const part = Buffer.from(content.buffer, content.byteOffset + pos, Math.min(CHUNK, content.length - pos));
      await call<void>((cb) => sftp.write(handle, part, 0, part.length, pos, cb));
    }
  } finally {
    await call<void>((cb) => sftp.close(handle, cb)).catch(() => {});
  }
}

/** Creates the missing directories of `dir` (like mkdir -p); relative paths start at the login directory. */
export async function makeParentDirs(sftp: SFTPWrapper, dir: string): Promise<void> {
  const parts = dir.split('/');
  let prefix = '';
  for (const [i, part] of parts.entries()) {
    prefix = i === 0 ? part : `${prefix}/${part}`;
    if (part === '' || part === '.' || part === '..') continue;
    const exists = await call<unknown>((cb) => sftp.stat(prefix, cb)).then(
      () => true,
      () => false,
    );
    if (exists) continue;
    await call<void>((cb) => sftp.mkdir(prefix, cb)).catch(async (err: unknown) => {
      // why: another writer may have created it between stat and mkdir
      const nowThere = await call<unknown>((cb) => sftp.stat(prefix, cb)).then(
        () => true,
        () => false,
      );
      if (!nowThere) throw err;
    });
  }
}

/** Deletes a file, ignoring failures (best-effort cleanup). */
export async function removeRemoteFile(sftp: SFTPWrapper, path: string): Promise<void> {
  await call<void>((cb) => sftp.unlink(path, cb)).catch(() => {});
}

// --- Internal helpers ---

function call<T>(fn: (cb: (err?: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}
