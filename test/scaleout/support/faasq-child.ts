// A `faasq up|gateway|worker` child for scale-out tests: stdout (JSON logs) and stderr both kept,
// so tests can read log events (pids, call ids); SIGTERM to stop, SIGKILL for crash tests.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { waitFor } from '../../support/wait-for.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const STOP_TIMEOUT_MS = 20_000;

export interface FaasqChild {
  readonly child: ChildProcess;
  readonly name: string;
  output(): string;
  /** Parsed JSON log lines from stdout. */
  logs(): Record<string, unknown>[];
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The gateway URL once "listening on" was printed. */
  url(timeoutMs?: number): Promise<string>;
  isRunning(): boolean;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

export interface FaasqChildOptions {
  readonly cwd: string;
  readonly env?: Record<string, string>;
  /** Run the built CLI (dist/, `npm run build` first) as an operator would, instead of the sources through tsx. */
  readonly isBuilt?: boolean;
}

export function startFaasqChild(name: string, args: readonly string[], options: FaasqChildOptions): FaasqChild {
  const env: Record<string, string> = {};
  // No FAASQ_* from the developer's shell leaks in.
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('FAASQ_')) env[k] = v;
  const entry = options.isBuilt ? [path.join(ROOT, 'dist/cli/main-bin.js')] : ['--import', TSX, path.join(ROOT, 'src/cli/main-bin.ts')];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: options.cwd,
    // `gateway`/`up` record credentials in the per-user store: the test's folder, never the real ~/.faasq.
    // These suites count runs in a ledger file the functions append to on the host, which a
    // sandboxed function cannot reach: they test the queue, so their functions run unsandboxed.
    env: { ...env, FAASQ_CONFIG_DIR: path.join(options.cwd, '.faasq-config'), FAASQ_SANDBOX: 'off', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => { out += s; stdout += s; });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => { out += s; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;

  const self: FaasqChild = {
    child,
    name,
    output: () => out,
    logs: () => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } }),
    waitForLine(pattern, timeoutMs = 30_000) {
      return waitFor(() => {
        const m = pattern.exec(out);
        if (m) return m;
        if (!isRunning()) throw new Error(`faasq ${name} exited early`);
        return undefined;
      }, { timeoutMs, message: `faasq ${name} printing ${pattern}` }).catch((err: Error) => {
        throw new Error(`${err.message}\n--- ${name} output:\n${out.slice(-4000)}`, { cause: err });
      });
    },
    async url(timeoutMs) {
      return (await self.waitForLine(/listening on (http:\/\/\S+)/, timeoutMs))[1];
    },
    isRunning,
    async stop() {
      if (!isRunning()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
    async kill9() {
      if (isRunning()) child.kill('SIGKILL');
      await exited;
    },
  };
  return self;
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
