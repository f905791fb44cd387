// Runs the CLI straight from the TypeScript sources (`node --import tsx src/cli/main-bin.ts …`),
// for tests and development; bin/faasq.js runs the compiled dist/cli/main.js instead.
import { main } from './main.js';

// `faasq list | head -1` closes the pipe early: that is a normal end, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
await main(process.argv);
