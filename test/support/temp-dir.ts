// Temp folders for tests, removed by the returned cleanup.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export async function makeTempDir(prefix = 'faasq-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  // Sandboxed functions run as `nobody` when tests run as root: fixture folders made here must
  // be reachable by it, as a user's project folder is (mkdtemp makes them 0700).
  await chmod(dir, 0o755);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
