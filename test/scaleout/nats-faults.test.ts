// NATS faults under a running `faasq up --queue nats://…`: the server killed (down) or SIGSTOPped
// (frozen). With the only server gone, accepts must be refused once FAASQ_ACCEPT_TIMEOUT (3 s
// here) passes — never 202, never hang: 503 when nothing was sent, 504 with the call id when the
// call was sent but not confirmed — and recover by themselves once the server is back; every call
// that got a 202 still finishes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { natsSkipReason, startNatsServer, type NatsNode } from '../support/nats-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { startFaasqChild, type FaasqChild } from './support/faasq-child.js';
import { ledgerStack } from './support/ledger.js';

const skip = natsSkipReason();
// No sandbox: the ledger function lives in test/ and writes a ledger outside any function folder.
const ENV = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'faults-pw', FAASQ_LOG_LEVEL: 'warn', FAASQ_ACCEPT_TIMEOUT: '3s', FAASQ_SANDBOX: 'off' };
/** "Within a few seconds": the slowest acceptable answer while NATS is down or frozen. */
const MAX_ANSWER_MS = 6000;
/** The prober's own bound: an answer slower than this counts as a hang. */
const CLIENT_TIMEOUT_MS = 20_000;

interface Attempt { id: string; status: number; ms: number; startedAt: number; callIdHeader?: string | null }

/** The pid of the nats-server started with this node's config file (the helper does not expose it). */
async function natsPid(node: NatsNode): Promise<number> {
  const conf = path.join(path.dirname(node.storeDir), `${node.name}.conf`);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.split('\0').includes(conf)) return Number(entry);
  }
  throw new Error(`no process runs ${conf}`);
}

describe('scale-out - NATS down or frozen while faasq runs', { skip }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let nats: NatsNode | undefined;
  let up: FaasqChild | undefined;
  let url = '';
  let seq = 0;
  const attempts: Attempt[] = [];

  before(async () => {
    tmp = await makeTempDir('faasq-faults-');
    await writeFile(path.join(tmp.dir, 'stack.yml'), ledgerStack(path.join(tmp.dir, 'ledger.txt'), { quick: {} }));
    nats = await startNatsServer();
    up = startFaasqChild('up', ['up', '--port', '0', '-f', 'stack.yml', '--queue', nats.url, '--data-dir', path.join(tmp.dir, 'data')], { cwd: tmp.dir, env: ENV });
    url = await up.url(60_000);
  });

  after(async () => {
    if (nats?.isRunning()) {
      try { process.kill(await natsPid(nats), 'SIGCONT'); } catch { /* not frozen */ }
    }
    await up?.stop();
    await nats?.close();
    await tmp.cleanup();
  });

  const post = async (): Promise<Attempt> => {
    const id = `fault-${seq++}`;
    const startedAt = Date.now();
    let status = 0;
    let callIdHeader: string | null | undefined;
    try {
      const res = await fetch(`${url}/async-function/quick`, { method: 'POST', body: id, headers: { 'x-call-id': id }, signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
      await res.arrayBuffer();
      status = res.status;
      callIdHeader = res.headers.get('x-call-id');
    } catch {
      status = -1; // hung past the client timeout, or the connection failed
    }
    const attempt = { id, status, ms: Date.now() - startedAt, startedAt, callIdHeader };
    attempts.push(attempt);
    return attempt;
  };
  /** Posts for `durationMs`, a few in parallel, and returns what came back. */
  const probe = async (durationMs: number): Promise<Attempt[]> => {
    const until = Date.now() + durationMs;
    const out: Attempt[] = [];
    await Promise.all([0, 1, 2].map(async () => {
      while (Date.now() < until) out.push(await post());
    }));
    return out;
  };
  const recovered = (): Promise<Attempt> => waitFor(async () => { const a = await post(); return a.status === 202 ? a : undefined; }, { timeoutMs: 45_000, intervalMs: 200, message: 'a 202 again' });
  const assertRefused = (seen: Attempt[], what: string): void => {
    assert.ok(seen.length > 0);
    const isTruthfulRefusal = (a: Attempt): boolean => a.status === 503 || (a.status === 504 && a.callIdHeader === a.id);
    const bad = seen.filter((a) => !isTruthfulRefusal(a) || a.ms > MAX_ANSWER_MS);
    assert.deepEqual(bad, [], `${what}: every accept answers 503 (or 504 naming the call) within ${MAX_ANSWER_MS} ms`);
  };

  test('scale-out - NATS killed: accepts are refused once the accept timeout passes, then recover after the restart', { timeout: 120_000 }, async () => {
    assert.equal((await post()).status, 202);
    await nats!.kill9();
    assertRefused(await probe(4000), 'NATS down');
    await nats!.restart();
    await recovered();
  });

  test('scale-out - NATS frozen (SIGSTOP): accepts are refused within a few seconds (504 with the call id when sent), then recover after SIGCONT', { timeout: 120_000 }, async () => {
    await recovered();
    const pid = await natsPid(nats!);
    process.kill(pid, 'SIGSTOP');
    const frozenAt = Date.now();
    let seen: Attempt[];
    try {
      seen = await probe(8000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Calls already on their way when the server froze may finish either way once it thaws; the
    // ones started a moment after the freeze must be refused.
    assertRefused(seen.filter((a) => a.startedAt > frozenAt + 500), 'NATS frozen');
    await recovered();
  });

  test('scale-out - every call that got a 202 during the faults finishes', { timeout: 60_000 }, async () => {
    const accepted = attempts.filter((a) => a.status === 202);
    assert.ok(accepted.length >= 3);
    for (const a of accepted) {
      await waitFor(async () => {
        const res = await fetch(`${url}/async-function/${a.id}`);
        return res.status === 200 && ((await res.json()) as { state: string }).state === 'succeeded';
      }, { timeoutMs: 30_000, intervalMs: 100, message: `${a.id} succeeded` });
    }
  });
});

describe('scale-out - NATS unreachable at start', { skip }, () => {
  test('scale-out - faasq gateway logs a clear line per attempt, keeps retrying, and starts once NATS is up', { timeout: 90_000 }, async () => {
    const tmp = await makeTempDir('faasq-late-nats-');
    const nats = await startNatsServer();
    await nats.stop(); // keep its port: nothing listens there until restart()
    await writeFile(path.join(tmp.dir, 'stack.yml'), ledgerStack(path.join(tmp.dir, 'ledger.txt'), { quick: {} }));
    const gw = startFaasqChild('gateway', ['gateway', '--port', '0', '-f', 'stack.yml', '--queue', nats.url, '--data-dir', path.join(tmp.dir, 'data')], { cwd: tmp.dir, env: ENV });
    try {
      const line = await gw.waitForLine(/"msg":"NATS not reachable; retrying"/, 30_000);
      assert.ok(line);
      assert.match(gw.output(), /cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+/);
      await nats.restart();
      const gwUrl = await gw.url(60_000);
      const res = await fetch(`${gwUrl}/async-function/quick`, { method: 'POST', body: 'late' });
      await res.arrayBuffer();
      assert.equal(res.status, 202);
    } finally {
      await gw.stop();
      await nats.close();
      await tmp.cleanup();
    }
  });
});
