// Public door of the CLI feature.
export { main } from './main.js';
export { EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_AUTH, CliError } from './cli-error.js';
export type { ExitCode } from './cli-error.js';
export type { CliIo } from './context.js';
