// The `faasq` command line: parses argv with commander, runs one command, and turns whatever it
// throws into one line on stderr and an exit code (0 ok, 1 failed, 2 usage, 3 unreachable, 4 auth).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { cliEnv } from '../config/index.js';
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from './cli-error.js';
import { createCliContext, type CliIo, type GlobalFlags } from './context.js';
import { registerCallCommands } from './commands/call.js';
import { registerDeployCommand } from './commands/deploy.js';
import { registerFunctionCommands } from './commands/functions.js';
import { registerInvokeCommand } from './commands/invoke.js';
import { registerLoginCommands } from './commands/login.js';
import { registerLogsCommand } from './commands/logs.js';
import { registerNewCommand } from './commands/new.js';
import { registerQueueCommands } from './commands/queue.js';
import { registerServerCommands } from './commands/server.js';

/** Runs the CLI with process.argv-style arguments; sets process.exitCode, never exits. */
export async function main(argv: string[], io: CliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<void> {
  const version = readVersion();
  const program = new Command('faasq')
    .description('faasq: a function gateway with sync and durable queued async invocation (OpenFaaS API)')
    .version(version, '-v, --version')
    .option('-g, --gateway <url>', 'gateway URL (default: $FAASQ_URL, $OPENFAAS_URL, http://127.0.0.1:8080)')
    .option('--config-dir <dir>', 'where `faasq login` stores credentials (default: $FAASQ_CONFIG_DIR or ~/.faasq)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });

  const ctx = createCliContext({ io, env: cliEnv(), version, globals: () => program.opts<GlobalFlags>() });
  registerServerCommands(program, ctx);
  registerDeployCommand(program, ctx);
  registerFunctionCommands(program, ctx);
  registerInvokeCommand(program, ctx);
  registerCallCommands(program, ctx);
  registerQueueCommands(program, ctx);
  registerLogsCommand(program, ctx);
  registerNewCommand(program, ctx);
  registerLoginCommands(program, ctx);

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its message (or the help/version text).
      process.exitCode = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    } else {
      io.stderr.write(`faasq: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = exitCodeFor(err);
    }
  } finally {
    await ctx.close();
  }
}

function readVersion(): string {
  // src/cli/main.ts and dist/cli/main.js are both two folders below package.json.
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
