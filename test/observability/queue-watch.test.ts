// `faasq queue list --watch` against a real gateway (in-process `faasq up`, memory queue): two
// refreshes, each showing the queued call, then it exits; --json prints one document per refresh
// carrying the rates.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { PASSWORD, USER, startObservedFaasq } from '../metrics/support/observed-faasq.js';
import { runCli } from '../cli/support/run-cli.js';

test('queue watch - list --watch --count 2 refreshes twice from the real gateway and exits', { timeout: 60_000 }, async () => {
  const f = await startObservedFaasq();
  try {
    await f.submit('ok', { headers: { 'x-delay': '10m' } });
    const env = { FAASQ_USER: USER, FAASQ_PASSWORD: PASSWORD, FAASQ_CONFIG_DIR: path.join(f.dataDir, 'cli-conf') };
    const run = await runCli(['-g', f.url, 'queue', 'list', '--watch', '--count', '2', '--interval', '100ms'], { env });
    assert.equal(run.code, 0, run.stderr);
    const stamps = run.stdout.match(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/gm) ?? [];
    assert.equal(stamps.length, 2, run.stdout);
    const rows = run.stdout.match(/^faas-request\s+1\s+0\s+1\s+\S+\s+0\s+[\d.]+\s+[\d.]+$/gm) ?? [];
    assert.equal(rows.length, 2, run.stdout);

    const json = await runCli(['-g', f.url, 'queue', 'list', '--watch', '--count', '2', '--interval', '100ms', '--json'], { env });
    assert.equal(json.code, 0, json.stderr);
    const docs = json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Array<{ name: string; depth: number; submittedTotal: number; ingestRate: number }>);
    assert.equal(docs.length, 2);
    for (const doc of docs) {
      const q = doc.find((x) => x.name === 'faas-request');
      assert.equal(q?.depth, 1);
      assert.equal(q?.submittedTotal, 1);
      assert.ok((q?.ingestRate ?? 0) > 0);
    }
  } finally {
    await f.close();
  }
});
