// Finds the nats-server binary for `faasq up --nats`: PATH first, then the copy that
// scripts/install-nats-server.sh caches in <repo>/.tools/, and refuses servers below faasq's floor.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FaasqError } from '../shared/errors.js';

const run = promisify(execFile);
const MIN_MAJOR = 2;
const MIN_MINOR = 10;
const VERSION_TIMEOUT_MS = 5000;

/** The repository (or installed package) root: src/app or dist/app sit two levels below it. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const NATS_NOT_FOUND_MESSAGE =
  'nats-server not found: install it (apt-get install nats-server needs >= 2.10; or scripts/install-nats-server.sh)';

/** Candidate binaries in the order they are tried. */
export function natsServerCandidates(env: NodeJS.ProcessEnv, root = PACKAGE_ROOT): string[] {
  const out: string[] = [];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const bin = path.join(dir, 'nats-server');
    if (isExecutable(bin)) out.push(bin);
  }
  const tools = path.join(root, '.tools');
  if (existsSync(tools)) {
    // Newest cached version first: "nats-server-2.15.1" sorts after "nats-server-2.10.27" by number.
    const dirs = readdirSync(tools).filter((d) => d.startsWith('nats-server-')).sort(compareVersionDirs).reverse();
    for (const d of dirs) {
      const bin = path.join(tools, d, 'usr/sbin/nats-server');
      if (isExecutable(bin)) out.push(bin);
    }
  }
  return out;
}

/**
 * The first candidate whose `--version` is 2.10 or newer. Throws E_CONFIG with the install hint
 * when there is none (naming a too-old binary when that is all there is).
 */
export async function findNatsServer(env: NodeJS.ProcessEnv, root = PACKAGE_ROOT): Promise<{ bin: string; version: string }> {
  const tooOld: string[] = [];
  for (const bin of natsServerCandidates(env, root)) {
    const version = await binaryVersion(bin);
    if (version && isSupported(version)) return { bin, version };
    tooOld.push(`${bin} is ${version ?? 'of unknown version'}`);
  }
  const detail = tooOld.length > 0 ? ` (${tooOld.join('; ')})` : '';
  throw new FaasqError('E_CONFIG', `${NATS_NOT_FOUND_MESSAGE}${detail}`);
}

async function binaryVersion(bin: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(bin, ['--version'], { timeout: VERSION_TIMEOUT_MS });
    return /v?(\d+\.\d+\.\d+)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

function isSupported(version: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > MIN_MAJOR || (major === MIN_MAJOR && minor >= MIN_MINOR);
}

function compareVersionDirs(a: string, b: string): number {
  const nums = (s: string): number[] => (/(\d+)\.(\d+)\.?(\d+)?/.exec(s)?.slice(1) ?? []).map((n) => Number(n ?? 0));
  const [x, y] = [nums(a), nums(b)];
  for (let i = 0; i < 3; i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return a.localeCompare(b);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
