// Why a suite that needs an outside tool cannot run here, or undefined when it can. `npm test`
// (scripts/run-tests.mjs) installs what it can first and hands down, in FAASQ_TEST_TOOLS_MISSING,
// why the rest could not be had; a test file run on its own checks the binary itself.
import { existsSync } from 'node:fs';

const BINARIES = { chromium: '/usr/bin/chromium', bwrap: '/usr/bin/bwrap', slirp4netns: '/usr/bin/slirp4netns' } as const;
const INSTALL_HINT = { chromium: 'scripts/install-chromium.sh', bwrap: 'apt-get install bubblewrap', slirp4netns: 'apt-get install slirp4netns' } as const;

export type OutsideTool = keyof typeof BINARIES;

export function toolSkipReason(tool: OutsideTool): string | undefined {
  if (existsSync(BINARIES[tool])) return undefined;
  const handed = process.env.FAASQ_TEST_TOOLS_MISSING;
  const known = handed ? (JSON.parse(handed) as Partial<Record<string, string>>)[tool] : undefined;
  const why = known ?? `${BINARIES[tool]} is missing: install it (${INSTALL_HINT[tool]}), or run npm test, which does`;
  if (process.env.CI) throw new Error(`${why} (CI is set, so this is an error, not a skip)`);
  return why;
}
