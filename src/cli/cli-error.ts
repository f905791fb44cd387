// CLI failures carry the process exit code, so every command fails the same way: one line on
// stderr and a code scripts can test (0 ok, 1 gateway/function error, 2 usage, 3 unreachable, 4 auth).
import { isFaasqError } from '../shared/index.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;
export const EXIT_AUTH = 4;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_USAGE | typeof EXIT_UNREACHABLE | typeof EXIT_AUTH;

export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function usageError(message: string): CliError {
  return new CliError(EXIT_USAGE, message);
}

/** Exit code for anything a command threw: bad input from config or stack files is a usage error. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (isFaasqError(err)) {
    if (err.code === 'E_UNAUTHORIZED') return EXIT_AUTH;
    if (err.status === 400 || err.code === 'E_CONFIG') return EXIT_USAGE;
  }
  return EXIT_FAILED;
}
