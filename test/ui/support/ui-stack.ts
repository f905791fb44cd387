// The functions the dashboard test deploys into a real faasq: `echo` (cat), `slow` (answers after
// a delay, to watch a queue drain) and `failing` (answers 500 until a heal file exists, with one
// attempt, so its calls land in the dead-letter store and a replay can then succeed).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

export const SLOW_MS = 400;

const FUNCTION_SCRIPT = `// Test function for the dashboard test (fork mode: body on stdin, answer on stdout).
import { existsSync } from 'node:fs';
const [mode, arg] = process.argv.slice(2);
let body = '';
for await (const chunk of process.stdin) body += chunk;
if (mode === 'slow') {
  await new Promise((resolve) => setTimeout(resolve, Number(arg)));
  process.stdout.write('slept ' + arg);
} else if (mode === 'fail-until-healed') {
  if (!existsSync(process.env.HEAL_FILE)) {
    process.stderr.write('not healed yet');
    process.exit(1);
  }
  process.stdout.write('healed: ' + body);
}
`;

/** Writes the stack file and the function script into dir; answers the stack path and heal file. */
export async function writeUiStack(dir: string): Promise<{ stackFile: string; healFile: string }> {
  const healFile = path.join(dir, 'heal');
  await writeFile(path.join(dir, 'ui-fn.mjs'), FUNCTION_SCRIPT);
  const stack = `version: 1.0
provider:
  name: openfaas
functions:
  echo:
    image: faasq/echo:test
    fprocess: cat
  slow:
    fprocess: node ui-fn.mjs slow ${SLOW_MS}
  failing:
    fprocess: node ui-fn.mjs fail-until-healed
    environment:
      HEAL_FILE: ${JSON.stringify(healFile)}
    annotations:
      com.openfaas.retry.attempts: "1"
`;
  const stackFile = path.join(dir, 'stack.yml');
  await writeFile(stackFile, stack);
  return { stackFile, healFile };
}
