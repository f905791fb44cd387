// What this faasq is: its package version and the commit it was built from, for GET /system/info
// (OpenFaaS tools treat an empty `sha` as an error). The build writes dist/build-info.json
// (scripts/write-build-info.mjs); a run from the sources (tsx) asks git once instead. "unknown"
// only when neither is there.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  readonly release: string;
  readonly sha: string;
  readonly commit_message: string;
}

const UNKNOWN = 'unknown';

/** Reads the build record next to the compiled code (dist/build-info.json), else git, else "unknown". */
export function readBuildInfo(moduleUrl: string = import.meta.url): BuildInfo {
  // dist/shared/build-info.js → dist/ ; src/shared/build-info.ts → src/
  const outDir = path.resolve(path.dirname(fileURLToPath(moduleUrl)), '..');
  const root = path.dirname(outDir);
  const release = packageVersion(root);
  try {
    const built = JSON.parse(readFileSync(path.join(outDir, 'build-info.json'), 'utf8')) as Partial<BuildInfo>;
    return {
      release: nonEmpty(built.release) ?? release,
      sha: nonEmpty(built.sha) ?? UNKNOWN,
      commit_message: typeof built.commit_message === 'string' ? built.commit_message : '',
    };
  } catch {
    // no build record: running from the sources
  }
  const sha = gitOf(root, 'rev-parse', 'HEAD');
  return { release, sha: sha ?? UNKNOWN, commit_message: sha ? gitOf(root, 'log', '-1', '--format=%s') ?? '' : '' };
}

function packageVersion(root: string): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown };
    return nonEmpty(pkg.version) ?? UNKNOWN;
  } catch {
    return UNKNOWN;
  }
}

/** git's answer in `root`, only when `root` is the top of its own repository. */
function gitOf(root: string, ...args: string[]): string | undefined {
  try {
    const run = (a: string[]): string => execFileSync('git', a, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    if (path.resolve(run(['rev-parse', '--show-toplevel'])) !== path.resolve(root)) return undefined;
    return nonEmpty(run(args));
  } catch {
    return undefined;
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
