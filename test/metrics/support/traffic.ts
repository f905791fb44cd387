// One fixed mix of calls every backend runs, so the metrics and log tests know exactly how much
// each number must move: 3 sync calls, 5 async calls (succeeds with a callback, retried then
// succeeds, dead-lettered with a failing callback, fails with 400, delayed then cancelled).
import assert from 'node:assert/strict';
import { waitFor } from '../../support/wait-for.js';
import type { ObservedFaasq } from './observed-faasq.js';

export interface Traffic {
  /** Scrapes: before any call; all calls final but the delayed one still queued; after its cancel. */
  readonly before: string;
  readonly middle: string;
  readonly after: string;
  readonly ids: { ok: string; flaky: string; down: string; bad: string; delayed: string };
  readonly syncCallId: string;
}

export async function runTraffic(f: ObservedFaasq, options: { timeoutMs?: number } = {}): Promise<Traffic> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const before = await f.scrape();
  const delayed = await f.submit('ok', { body: 'later', headers: { 'x-delay': '10m' } });

  const syncCallId = 'sync-obs-1';
  for (const [fn, status, callId] of [['ok', 200, syncCallId], ['ok', 200, undefined], ['bad', 400, undefined]] as const) {
    const res = await fetch(`${f.url}/function/${fn}`, { method: 'POST', body: 'sync body', headers: callId ? { 'x-call-id': callId } : {} });
    await res.arrayBuffer();
    assert.equal(res.status, status, `sync ${fn}`);
  }

  const ok = await f.submit('ok', { body: 'async body', headers: { 'x-callback-url': `${f.hookUrl}/ok` } });
  const flaky = await f.submit('flaky');
  const down = await f.submit('down', { headers: { 'x-callback-url': `${f.hookUrl}/fail?token=cb-query-token` } });
  const bad = await f.submit('bad');

  await f.waitForState(ok, ['succeeded'], timeoutMs);
  await f.waitForState(flaky, ['succeeded'], timeoutMs);
  await f.waitForState(down, ['dead'], timeoutMs);
  await f.waitForState(bad, ['failed'], timeoutMs);
  for (const id of [ok, down]) {
    await waitFor(async () => ['delivered', 'failed'].includes((await f.record(id)).callback?.state ?? ''), { timeoutMs, message: `callback of ${id} settled` });
  }
  // A delivery is settled after its callback: wait until only the delayed call is left unfinished.
  await waitFor(async () => {
    const res = await fetch(`${f.url}/system/queues`, { headers: { authorization: f.authorization } });
    const queues = (await res.json()) as Array<{ name: string; depth: number; deadLetters: number }>;
    const q = queues.find((x) => x.name === 'faas-request');
    return q?.depth === 1 && q.deadLetters === 1;
  }, { timeoutMs, message: 'every finished call settled; only the delayed call left' });
  const middle = await f.scrape();

  const cancel = await fetch(`${f.url}/async-function/${delayed}`, { method: 'DELETE' });
  await cancel.arrayBuffer();
  assert.equal(cancel.status, 202, 'cancel the delayed call');
  await f.waitForState(delayed, ['cancelled'], timeoutMs);
  const after = await f.scrape();
  return { before, middle, after, ids: { ok, flaky, down, bad, delayed }, syncCallId };
}
