#!/usr/bin/env node
// The faasq command: runs the compiled CLI (npm install builds dist/ through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('faasq: dist/ is missing; run `npm install` (or `npm run build`) in the faasq checkout first');
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
