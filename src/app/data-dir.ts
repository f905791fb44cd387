// Checks at start that the data dir can be created and written, so a read-only or full disk is a
// clear error and a non-zero exit instead of a failure on the first accepted call.
import { mkdir, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { FaasqError } from '../shared/errors.js';

export async function ensureDataDir(dir: string): Promise<void> {
  const probe = path.join(dir, `.write-probe-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    // A probe of a few KiB fails on a full disk where an empty file would not.
    await writeFile(probe, Buffer.alloc(64 * 1024));
    await rm(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    const reason =
      code === 'ENOSPC' ? 'the disk is full'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'it is not writable'
      : code === 'ENOTDIR' || code === 'EEXIST' ? 'a file is in the way'
      : `error ${code}`;
    throw new FaasqError('E_DATA_DIR', `cannot use data dir ${dir}: ${reason} (set --data-dir or FAASQ_DATA_DIR)`, { cause: err });
  }
}
