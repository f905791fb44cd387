// Checks at start that the data dir can be created and written, so a read-only or full disk is a
// clear error and a non-zero exit instead of a failure on the first accepted call. The dir holds
// queued bodies, tokens, results and secrets: it is made its owner's alone (0700, files 0600),
// and what an older version or a loose umask left readable is tightened, said once in the log.
import { chmod, mkdir, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { FaasqError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { makeOwnerOnly, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../shared/private-files.js';

/**
 * What faasq itself keeps in the data dir: only these are tightened at start. Anything else in it
 * is someone else's (a data dir pointed at a project folder, say) and keeps its modes; the 0700
 * data dir already keeps other users out. Template builds (functions/) are not listed: a sandboxed
 * function's own user reads them through a bind mount.
 */
const OWN_ENTRIES = ['credentials.json', 'invoke-credentials.json', 'queue', 'secrets', 'nats'];

export async function ensureDataDir(dir: string, logger?: Logger): Promise<void> {
  const probe = path.join(dir, `.write-probe-${process.pid}`);
  let tightened: string[] = [];
  try {
    const created = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    // mkdir's mode is less the umask: a created dir is set explicitly, an existing one is walked.
    if (created !== undefined) await chmod(dir, PRIVATE_DIR_MODE);
    tightened = await makeOwnerOnly(dir, { depth: 0 });
    for (const entry of OWN_ENTRIES) tightened.push(...(await makeOwnerOnly(path.join(dir, entry))));
    // A probe of a few KiB fails on a full disk where an empty file would not.
    await writeFile(probe, Buffer.alloc(64 * 1024), { mode: PRIVATE_FILE_MODE });
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
  if (tightened.length > 0) {
    logger?.warn({ dir, count: tightened.length, first: path.relative(dir, tightened[0]) || '.' }, 'data dir was readable by others; made owner-only');
  }
}
