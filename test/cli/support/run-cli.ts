// Runs the real faasq CLI from the sources as a child process and collects its output and exit code.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN_BIN = path.join(ROOT, 'src/cli/main-bin.ts');
// An absolute loader URL, so the CLI also starts from a temp working directory.
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Bytes for stdin; without it stdin is /dev/null (not a terminal, empty). */
  readonly input?: string;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

export async function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  // Start from a clean slate: no gateway URL or credentials leaking in from the developer's shell.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('FAASQ_') && k !== 'OPENFAAS_URL') env[k] = v;
  }
  Object.assign(env, options.env);
  const child = spawn(process.execPath, ['--import', TSX, MAIN_BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timeoutMs = options.timeoutMs ?? 20_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    });
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}
