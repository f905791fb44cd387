// Secrets kept current in running sandboxes, as Kubernetes keeps mounted secrets current: each
// replica gets its own copy of its secrets (owned by the function's user, 0400) in a folder bound
// read-only at /var/openfaas/secrets, and an update through the API (PUT /system/secrets) is
// written into every live copy: a temp file beside the folder, then a rename, so a function reads
// the old value or the new one, never half. A removed secret is left as it was in running
// replicas (Kubernetes keeps a deleted secret's last files in running pods); docs/functions.md.
import { randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { FunctionUser } from './sandbox-host.js';
import { KeyLock } from '../../../shared/key-lock.js';

export interface PlacedSecrets {
  /** The folder to bind at /var/openfaas/secrets. */
  readonly dir: string;
  /** Stops updates to this replica's copies; call when the replica is gone. */
  release(): void;
}

export interface LiveSecrets {
  /** Copies the secrets into <runDir>/secrets for one replica and keeps them current until release(). */
  place(runDir: string, secrets: readonly { name: string; file: string }[], user: FunctionUser | undefined): Promise<PlacedSecrets>;
  /**
   * Rewrites every live copy of the store's file; a file that is gone leaves the copies as they
   * are. One copy that cannot be written does not stop the others: it is reported in `failed`.
   */
  refresh(file: string): Promise<{ written: number; failed: Error[] }>;
}

interface Copy {
  readonly runDir: string;
  readonly dir: string;
  readonly name: string;
  readonly user: FunctionUser | undefined;
}

export function createLiveSecrets(): LiveSecrets {
  const copies = new Map<string, Set<Copy>>();
  /** One write at a time per store file: a replica's first copy and an update cannot cross. */
  const serial = new KeyLock();
  const isRoot = process.getuid?.() === 0;

  /** The temp file lies in the runtime folder (same file system, unseen by the function), then moves in. */
  const writeCopy = async (source: string, copy: Copy): Promise<void> => {
    const temp = path.join(copy.runDir, `.secret-${randomBytes(6).toString('hex')}`);
    try {
      await copyFile(source, temp);
      await chmod(temp, 0o400);
      if (copy.user) await chown(temp, copy.user.uid, copy.user.gid);
      // Without root the folder's owner needs write permission for the rename, for that moment.
      if (!isRoot) await chmod(copy.dir, 0o700);
      try {
        await rename(temp, path.join(copy.dir, copy.name));
      } finally {
        if (!isRoot) await chmod(copy.dir, 0o500);
      }
    } finally {
      await rm(temp, { force: true });
    }
  };

  return {
    async place(runDir, secrets, user) {
      const dir = path.join(runDir, 'secrets');
      await mkdir(dir, { mode: 0o700 });
      const placed: { file: string; copy: Copy }[] = [];
      const release = (): void => {
        for (const { file, copy } of placed) {
          const set = copies.get(file);
          set?.delete(copy);
          if (set?.size === 0) copies.delete(file);
        }
      };
      try {
        for (const secret of secrets) {
          const copy: Copy = { runDir, dir, name: secret.name, user };
          await serial.run(secret.file, async () => {
            await writeCopy(secret.file, copy);
            let set = copies.get(secret.file);
            if (!set) copies.set(secret.file, (set = new Set()));
            set.add(copy);
            placed.push({ file: secret.file, copy });
          });
        }
        await chmod(dir, 0o500);
        if (user) await chown(dir, user.uid, user.gid);
      } catch (err) {
        release();
        throw err;
      }
      return { dir, release };
    },

    refresh(file) {
      return serial.run(file, async () => {
        let written = 0;
        const failed: Error[] = [];
        for (const copy of [...(copies.get(file) ?? [])]) {
          try {
            await writeCopy(file, copy);
            written += 1;
          } catch (err) {
            // ENOENT: the secret was removed meanwhile (copies keep their last value), or the replica's folder went with it.
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') failed.push(err as Error);
          }
        }
        return { written, failed };
      });
    },
  };
}
