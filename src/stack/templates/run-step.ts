// Runs one install step as a child process with a deadline, keeping only the tail of its output
// for the error message, so a chatty or stuck installer cannot hold faasq's memory or startup.
import { spawn } from 'node:child_process';
import { FaasqError } from '../../shared/errors.js';
import type { InstallStep } from './install-steps.js';

const MAX_TAIL_BYTES = 8 * 1024;

export interface StepOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  /** Where the step's output lines go (the function's build log). */
  readonly onOutput?: (text: string) => void;
}

export function runStep(step: InstallStep, toolPath: string, name: string, options: StepOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(toolPath, [...step.args], { cwd: step.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      options.onOutput?.(text);
      tail = (tail + text).slice(-MAX_TAIL_BYTES);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let isTimedOut = false;
    const timer = setTimeout(() => {
      isTimedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    const command = `${step.tool} ${step.args.join(' ')}`;
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new FaasqError('E_TEMPLATE_BUILD', `function "${name}": ${step.what}: cannot run ${step.tool}: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const how = isTimedOut ? `did not finish in ${options.timeoutMs}ms` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(new FaasqError('E_TEMPLATE_BUILD', `function "${name}": ${step.what}: \`${command}\` ${how}${tail.trim() ? `:\n${tail.trim()}` : ''}`, { detail: { tool: step.tool, exitCode: code } }));
    });
  });
}
