// The durability promise of `faasq up` on the embedded queue: kill -9 mid-run with 1,000 accepted
// calls, start again on the same data dir, and every accepted call completes as its record says,
// with its callback delivered. Runs twice (a duplicate callback or invocation) happen only for
// calls that were unsettled at the kill, which is at most max_inflight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startFaasq, type FaasqProcess } from '../cli/support/faasq-process.js';
import { startCallCounter } from '../support/call-counter.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

const CALLS = 1000;
const MAX_INFLIGHT = 8;
const AUTH = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'pw' };
const authorization = `Basic ${Buffer.from('admin:pw').toString('base64')}`;

async function startUp(dir: string): Promise<{ proc: FaasqProcess; url: string }> {
  const proc = startFaasq(['up', '--port', '0', '-f', 'stack.yml', '--data-dir', path.join(dir, 'data'), '--max-inflight', String(MAX_INFLIGHT), '--log-level', 'warn'], { cwd: dir, env: AUTH });
  const m = await proc.waitForLine(/listening on (http:\/\/\S+)/, 30_000);
  return { proc, url: m[1] };
}

test('durability - kill -9 of faasq up with 1,000 accepted calls: every call completes, callbacks counted', { timeout: 170_000 }, async () => {
  const tmp = await makeTempDir('faasq-kill9-');
  const fn = await startCallCounter(3, 'body');
  const hooks = await startCallCounter(0, 'body');
  let up: { proc: FaasqProcess; url: string } | undefined;
  try {
    await writeFile(path.join(tmp.dir, 'stack.yml'), `functions:\n  work:\n    annotations:\n      com.faasq.upstream: ${fn.url}\n`);
    up = await startUp(tmp.dir);
    const accepted: string[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 25 }, async () => {
      while (next < CALLS) {
        next++;
        const res = await fetch(`${up!.url}/async-function/work`, { method: 'POST', body: 'x', headers: { 'x-callback-url': `${hooks.url}/hook` } });
        await res.arrayBuffer();
        assert.equal(res.status, 202);
        accepted.push(res.headers.get('x-call-id') as string);
      }
    }));
    assert.equal(accepted.length, CALLS);
    // Kill while the worker is mid-way: some calls done, most still queued.
    await waitFor(() => hooks.counts.size >= 50, { timeoutMs: 60_000, message: 'some callbacks before the kill' });
    up.proc.child.kill('SIGKILL');
    await new Promise<void>((resolve) => up!.proc.child.once('exit', () => resolve()));
    const doneBeforeKill = hooks.counts.size;
    assert.ok(doneBeforeKill < CALLS, 'the kill came before the queue drained');

    up = await startUp(tmp.dir);
    await waitFor(async () => {
      const res = await fetch(`${up!.url}/system/queues`, { headers: { authorization } });
      const queues = (await res.json()) as Array<{ depth: number }>;
      return queues.every((q) => q.depth === 0);
    }, { timeoutMs: 120_000, intervalMs: 200, message: 'the queue drains after the restart' });

    const states = new Map<string, number>();
    for (const id of accepted) {
      const res = await fetch(`${up.url}/async-function/${id}`);
      assert.equal(res.status, 200, `record of ${id}`);
      const record = (await res.json()) as { state: string; callback?: { state: string } };
      states.set(record.state, (states.get(record.state) ?? 0) + 1);
      assert.equal(record.callback?.state, 'delivered', `callback of ${id} recorded as delivered`);
    }
    assert.deepEqual([...states], [['succeeded', CALLS]], 'every accepted call succeeded');

    const missingCallbacks = accepted.filter((id) => !hooks.counts.has(id));
    assert.deepEqual(missingCallbacks, [], 'every call got its callback');
    const duplicateCallbacks = accepted.filter((id) => (hooks.counts.get(id) ?? 0) > 1);
    const duplicateRuns = accepted.filter((id) => (fn.counts.get(id) ?? 0) > 1);
    const neverRan = accepted.filter((id) => !fn.counts.has(id));
    assert.deepEqual(neverRan, [], 'every call ran');
    // Only deliveries unsettled at the kill (at most max_inflight) may run or call back twice.
    assert.ok(duplicateRuns.length <= MAX_INFLIGHT, `duplicate runs ${duplicateRuns.length} <= ${MAX_INFLIGHT}`);
    assert.ok(duplicateCallbacks.length <= MAX_INFLIGHT, `duplicate callbacks ${duplicateCallbacks.length} <= ${MAX_INFLIGHT}`);
    assert.equal(hooks.counts.size, CALLS, 'no callback for an unknown call id');
  } finally {
    await up?.proc.stop();
    await fn.close();
    await hooks.close();
    await tmp.cleanup();
  }
});
