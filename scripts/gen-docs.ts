// Writes docs/configuration.md and docs/errors.md from CONFIG_KEYS and the error table, so the
// references never drift from the code (test/docs/generated.test.ts checks they are current).
// Run: node --import tsx scripts/gen-docs.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_KEYS } from '../src/config/index.js';
import { ERRORS } from '../src/shared/errors.js';

export function renderConfigDoc(): string {
  const rows = CONFIG_KEYS.map((k) => `| \`${k.path}\` | \`${k.env}\` | ${k.default === undefined ? '—' : `\`${String(k.default)}\``} |`);
  return `# Configuration

Precedence: defaults < config file (\`--config file.yaml\` or \`FAASQ_CONFIG\`, YAML with the keys
below, nested by dots) < environment (\`FAASQ_*\`) < command-line flags. Durations take \`500ms\`,
\`30s\`, \`2m\`, \`1h\` or a bare number of seconds; sizes take bytes, \`512KiB\`, \`1MiB\`. Start-up
fails and names every bad key at once.

| key | env | default |
|---|---|---|
${rows.join('\n')}

Generated from \`src/config/config.ts\` by \`scripts/gen-docs.ts\`.
`;
}

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERRORS).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.isRetryable ? 'yes' : 'no'} |`);
  return `# Error codes

Every error faasq reports carries one of these codes. HTTP replies use the status below with a
short plain-text body (JSON \`{"error", "message"}\` when the request's \`Accept\` asks for
\`application/json\`). "Retryable" says whether the same request may succeed later.

| code | HTTP status | retryable |
|---|---|---|
${rows.join('\n')}

Generated from \`src/shared/errors.ts\` by \`scripts/gen-docs.ts\`.
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigDoc());
  writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc());
}
