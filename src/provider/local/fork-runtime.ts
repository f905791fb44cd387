// Fork mode, the classic watchdog contract: `fprocess` runs once per request with the body on
// stdin; stdout is the response (buffered, since the exit code decides the status); stderr goes
// to the function log. Exit 0 -> 200, other exits -> 500 with the output and the exit reason.
// The exec timeout kills the process and fails E_FUNCTION_TIMEOUT (504) — the same as http mode
// and the of-watchdog; the classic watchdog's 408 would tell clients *they* were too slow.
// Stdout beyond maxForkOutputBytes kills it too (502), so one call cannot exhaust the gateway's
// memory; a command that cannot be spawned (ENOENT, EACCES) fails the call at once with 502.
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { Readable, type Writable } from 'node:stream';
import { FaasqError } from '../../shared/errors.js';
import type { InvocationRequest, InvocationResponse } from '../provider.js';
import { cgiEnv } from './cgi-env.js';
import type { Command } from './command.js';
import { durationSeconds } from './http-proxy.js';
import { lineSplitter } from './log-ring.js';
import type { FunctionRuntime, RuntimeLimits } from './runtime.js';
import { CountedReplicas } from './counted-replicas.js';

export interface ForkRuntimeOptions {
  readonly name: string;
  readonly command: Command;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly replicas: number;
  readonly contentType: string | undefined;
  readonly limits: RuntimeLimits;
  readonly log: (instance: string, text: string) => void;
}

export class ForkRuntime extends CountedReplicas implements FunctionRuntime {
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly options: ForkRuntimeOptions) {
    super(options.name, options.replicas);
  }

  invoke(request: InvocationRequest, startedAt: number): Promise<InvocationResponse> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    const { name, command, cwd, env, limits, log } = this.options;
    return new Promise((resolve, reject) => {
      let child: ChildProcessByStdio<Writable, Readable, Readable>;
      try {
        child = spawn(command.file, [...command.args], { cwd, env: { ...env, ...cgiEnv(request) }, stdio: ['pipe', 'pipe', 'pipe'] });
      } catch (err) {
        // spawn() throws at once for arguments it cannot pass (a NUL byte, say).
        return reject(new FaasqError('E_FUNCTION_UNREACHABLE', `function "${name}" could not start ${command.file}: ${(err as Error).message}`, { cause: err }));
      }
      this.children.add(child);
      const instance = `${name}-fork`;
      const chunks: Buffer[] = [];
      let outputBytes = 0;
      let killedFor: 'timeout' | 'output' | 'abort' | undefined;
      let spawnError: NodeJS.ErrnoException | undefined;
      // Destroying the pipes too makes 'close' fire even when a grandchild still holds them open.
      const killFor = (why: 'timeout' | 'output' | 'abort'): void => {
        if (killedFor) return;
        killedFor = why;
        child.kill('SIGKILL');
        child.stdout.destroy();
        child.stderr.destroy();
      };
      const timer = limits.execTimeoutMs > 0 ? setTimeout(() => killFor('timeout'), limits.execTimeoutMs) : undefined;
      const onAbort = (): void => killFor('abort');
      request.signal?.addEventListener('abort', onAbort, { once: true });
      const stderr = lineSplitter((text) => log(instance, text));
      const maxBytes = limits.maxForkOutputBytes;
      child.stdout.on('data', (chunk: Buffer) => {
        if (killedFor) return;
        outputBytes += chunk.length;
        if (maxBytes > 0 && outputBytes > maxBytes) {
          chunks.length = 0; // the partial output is not sent; let it go now
          return killFor('output');
        }
        chunks.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => stderr.write(chunk));
      child.once('error', (err: NodeJS.ErrnoException) => { spawnError = err; });
      // A function that exits without reading stdin closes the pipe; that is not an error.
      child.stdin.on('error', () => undefined);
      const body = request.body;
      if (body === null) child.stdin.end();
      else if (Buffer.isBuffer(body)) child.stdin.end(body);
      else body.pipe(child.stdin);
      child.once('close', (code, signal) => {
        this.children.delete(child);
        if (timer) clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        stderr.end();
        if (body && !Buffer.isBuffer(body)) {
          body.unpipe(child.stdin);
          body.resume();
        }
        if (request.signal?.aborted) return reject(request.signal.reason);
        if (killedFor === 'timeout') return reject(new FaasqError('E_FUNCTION_TIMEOUT', `function "${name}" exceeded its exec timeout of ${limits.execTimeoutMs}ms; process killed`));
        if (killedFor === 'output') {
          return reject(new FaasqError('E_FUNCTION_OUTPUT_TOO_LARGE', `function "${name}" wrote more than ${maxBytes} bytes to stdout, the fork-mode limit (FAASQ_MAX_FORK_OUTPUT); process killed`, { detail: { maxBytes } }));
        }
        if (spawnError) return reject(new FaasqError('E_FUNCTION_UNREACHABLE', `function "${name}" could not start ${command.file}: ${spawnFailure(spawnError)}`, { cause: spawnError }));
        if (code !== 0) chunks.push(Buffer.from(`${chunks.length > 0 ? '\n' : ''}${signal ? `killed by ${signal}` : `exit status ${code}`}\n`));
        const output = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        const contentType = this.options.contentType ?? request.headers['content-type'];
        const headers: Record<string, string | string[]> = { 'content-length': String(output.length), 'x-duration-seconds': durationSeconds(startedAt) };
        if (code !== 0) headers['content-type'] = 'text/plain; charset=utf-8';
        else if (contentType) headers['content-type'] = contentType;
        resolve({ status: code === 0 ? 200 : 500, headers, body: Readable.from([output]) });
      });
    });
  }

  /** Lets running requests finish within the grace period; SIGKILLs what is left. */
  async stop(): Promise<void> {
    this.isStopped = true;
    const closing = [...this.children].map((child) => new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('close', () => done());
      setTimeout(() => {
        child.kill('SIGKILL');
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, this.options.limits.shutdownGraceMs).unref();
    }));
    await Promise.all(closing);
  }
}

/** Why spawn() failed, in words an operator reads at a glance, with the errno for searching. */
function spawnFailure(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return 'command not found (ENOENT)';
  if (err.code === 'EACCES') return 'permission denied (EACCES)';
  return err.code ?? err.message;
}
