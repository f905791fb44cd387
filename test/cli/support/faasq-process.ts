// A long-running `faasq up|gateway|worker` child process for end-to-end CLI tests: started from
// the sources, its stderr kept for assertions and failure messages, stopped with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { waitFor } from '../../support/wait-for.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const STOP_TIMEOUT_MS = 15_000;

export interface FaasqProcess {
  readonly child: ChildProcess;
  stderr(): string;
  /** The log lines on stdout (kept only with `captureStdout`). */
  stdout(): string;
  /** Waits until stderr matches; fails early when the process exits. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL if it has not exited in time. */
  stop(): Promise<void>;
}

export function startFaasq(args: readonly string[], options: { cwd: string; env?: Record<string, string>; captureStdout?: boolean }): FaasqProcess {
  const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'src/cli/main-bin.ts'), ...args], {
    cwd: options.cwd,
    // `up` records its credentials in the per-user store: a folder of the test's, never the real ~/.faasq.
    env: { ...process.env, FAASQ_CONFIG_DIR: path.join(options.cwd, '.faasq-config'), ...options.env },
    stdio: ['ignore', options.captureStdout ? 'pipe' : 'ignore', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return {
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    waitForLine(pattern, timeoutMs = 30_000) {
      return waitFor(() => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`faasq ${args[0]} exited early:\n${stderr}`);
        return pattern.exec(stderr);
      }, { timeoutMs, message: `faasq ${args[0]} printing ${pattern}` }).catch((err: Error) => {
        throw new Error(`${err.message}\nstderr so far:\n${stderr}`, { cause: err });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
