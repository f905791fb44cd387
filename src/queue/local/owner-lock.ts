// One process per embedded queue directory: leases live in process memory, so a second process
// on the same LMDB files would hand out the same calls again. A pid file claims the directory;
// a claim whose process is gone (kill -9) is taken over.
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { FaasqError } from '../../shared/errors.js';
import { isProcessAlive } from '../../shared/process-alive.js';

const MAX_CLAIM_TRIES = 3;

/** Claims `dir` for this process; returns the release function. Throws E_DATA_DIR when another live process holds it. */
export function claimDirectory(dir: string): () => void {
  const file = path.join(dir, 'owner.pid');
  for (let i = 0; i < MAX_CLAIM_TRIES; i++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(owner) && owner > 0 && isProcessAlive(owner)) {
      throw new FaasqError('E_DATA_DIR', `queue data directory ${dir} is in use by process ${owner}${owner === process.pid ? ' (this process)' : ''}`);
    }
    rmSync(file, { force: true });
  }
  throw new FaasqError('E_DATA_DIR', `could not claim queue data directory ${dir}`);
}
