// The data dir holds request bodies, tokens, results and secrets, so everything faasq writes there
// is its owner's alone (folders 0700, files 0600) whatever the umask it was started with.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
const OWNER_ONLY_UMASK = 0o077;

/**
 * Runs `fn` with umask 077, for files created by code that takes no mode (LMDB's files, a child
 * such as nats-server that inherits the umask when it is spawned). `fn` must be synchronous: the
 * umask is process-wide, and restoring it before any other code runs keeps function processes
 * started later on the umask faasq was given.
 */
export function withOwnerOnlyUmask<T>(fn: () => T): T {
  const previous = process.umask(OWNER_ONLY_UMASK);
  try {
    return fn();
  } finally {
    process.umask(previous);
  }
}

/**
 * Replaces `file` with `data`, owner-only (0600): a temp file beside it, then a rename, so a reader
 * (or a crash) never sees half a value. The temp file's random name lets two writers overlap.
 */
export async function writePrivateFileAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data, { mode: PRIVATE_FILE_MODE });
    await chmod(temp, PRIVATE_FILE_MODE);
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Takes group and other bits off `dir` and everything below it, down to `depth` levels (0: `dir`
 * alone); symbolic links are left (their mode means nothing on Linux, and their targets are checked
 * where they live). A missing `dir` is nothing to do. Returns the paths it changed, so the caller
 * can say so once.
 */
export async function makeOwnerOnly(dir: string, options: { depth?: number } = {}): Promise<string[]> {
  const changed: string[] = [];
  const maxDepth = options.depth ?? Infinity;
  const visit = async (p: string, depth: number): Promise<void> => {
    let st;
    try {
      st = await lstat(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile
      throw err;
    }
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) {
      // Owner bits are kept as they are (an executable stays executable for its owner).
      await chmod(p, st.mode & 0o700);
      changed.push(p);
    }
    if (st.isDirectory() && depth < maxDepth) {
      for (const name of await readdir(p)) await visit(path.join(p, name), depth + 1);
    }
  };
  await visit(dir, 0);
  return changed;
}
