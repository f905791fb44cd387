// Runs the CLI straight from the TypeScript sources (`node --import tsx src/cli/main-bin.ts …`),
// for tests and development; bin/faasq.js runs the compiled dist/cli/main.js instead.
import { main } from './main.js';

await main(process.argv);
