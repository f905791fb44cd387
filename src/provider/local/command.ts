// Turns a watchdog `fprocess` into something spawn() can run without a shell: split into words
// with shell-like quoting (split-command.ts), and resolve the executable up front so a deploy of
// a missing command fails at deploy time instead of on the first request.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { FaasqError } from '../../shared/errors.js';
import { splitCommand } from './split-command.js';

export interface Command {
  readonly file: string;
  readonly args: readonly string[];
}

/** Resolves `fprocess` against `cwd` (when it has a slash) or PATH; E_DEPLOY_FAILED when absent. */
export function resolveCommand(fprocess: string, cwd: string, envPath: string | undefined): Command {
  const [file, ...args] = splitCommand(fprocess);
  if (!file) throw new FaasqError('E_DEPLOY_FAILED', 'missing fprocess: the function has no command to run');
  const found = findExecutable(file, cwd, envPath);
  if (!found) throw new FaasqError('E_DEPLOY_FAILED', `command not found: ${file}`, { detail: { command: file } });
  return { file: found, args };
}

function findExecutable(file: string, cwd: string, envPath: string | undefined): string | undefined {
  if (file.includes('/')) return isExecutable(path.resolve(cwd, file)) ? path.resolve(cwd, file) : undefined;
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.resolve(cwd, dir, file);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function assertDirectory(dir: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new FaasqError('E_DEPLOY_FAILED', `working directory not found: ${dir}`);
}
