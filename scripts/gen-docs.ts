// Writes docs/configuration.md and docs/errors.md from CONFIG_KEYS and the error table, so the
// references never drift from the code (test/docs/generated.test.ts checks they are current).
// Run: node --import tsx scripts/gen-docs.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_KEYS } from '../src/config/index.js';
import { ERRORS } from '../src/shared/errors.js';
import { ANNOTATIONS } from '../src/shared/annotations.js';

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

The \`faasq\` client commands (everything but \`up\`, \`gateway\`, \`worker\`) read the gateway URL
from \`--gateway\`, else \`FAASQ_URL\`, else \`OPENFAAS_URL\`, else \`http://127.0.0.1:8080\`;
credentials from \`FAASQ_USER\` / \`FAASQ_PASSWORD\`, else what \`faasq login\` stored, or a local
\`faasq up\` / \`faasq gateway\` recorded, for that URL in \`FAASQ_CONFIG_DIR\` (default \`~/.faasq\`),
so the CLI works from any folder.

Generated from \`src/config/config.ts\` by \`scripts/gen-docs.ts\`.
`;
}

export function renderAnnotationsDoc(): string {
  const rows = Object.values(ANNOTATIONS).map((a) => `| \`${a.name}\` | ${a.doc} |`);
  return `# Function annotations

Set them in a stack file (\`annotations:\`) or a FunctionDeployment. Invalid values are reported at
deploy or fall back to the worker default (logged once), as OpenFaaS does for its retry annotations.

| annotation | meaning |
|---|---|
${rows.join('\n')}

Generated from \`src/shared/annotations.ts\` by \`scripts/gen-docs.ts\`.
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

\`E_ACCEPT_UNCONFIRMED\` (504) is the one refusal whose call may nonetheless be stored: the accept sent
it to NATS JetStream but no server confirmed it within \`FAASQ_ACCEPT_TIMEOUT\`. The reply carries
\`X-Call-Id\`; retry with that header and the call is never queued twice (docs/async.md). A 503
\`E_QUEUE_UNAVAILABLE\` from an accept means nothing was sent.

Generated from \`src/shared/errors.ts\` by \`scripts/gen-docs.ts\`.
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigDoc());
  writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc());
  writeFileSync(new URL('../docs/annotations.md', import.meta.url), renderAnnotationsDoc());
}
