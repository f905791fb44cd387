// A run that left no trace: `faasq up` killed with kill -9 while a call's function runs, before its
// `running` record was written (FAASQ_RUNNING_RECORD_DELAY is longer than the run here). The call is
// delivered again and runs a second time; the record must count both runs: 2 attempts, the first
// listed in unknownAttempts. On the embedded queue (same data dir) and on a real nats-server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { natsSkipReason, startNatsServer, type NatsNode } from '../support/nats-server.js';
import { startCallCounter, type CallCounter } from '../support/call-counter.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { startFaasqChild, type FaasqChild } from './support/faasq-child.js';

// The `running` record would come a minute into the run: the kill is always before it.
const ENV = { FAASQ_RUNNING_RECORD_DELAY: '60s', FAASQ_ACK_WAIT: '2s', FAASQ_LOG_LEVEL: 'warn' };

interface CallView { state: string; attempts: number; unknownAttempts?: number[] }

for (const engine of ['embedded', 'jetstream'] as const) {
  const skip = engine === 'jetstream' ? natsSkipReason() : undefined;
  describe(`unknown attempt - kill -9 of faasq up before the running record, ${engine}`, { skip }, () => {
    let tmp: { dir: string; cleanup: () => Promise<void> };
    let nats: NatsNode | undefined;
    let fn: CallCounter;
    let up: FaasqChild | undefined;

    before(async () => {
      tmp = await makeTempDir('faasq-unknown-');
      // Counted at arrival: the run is under way when faasq is killed.
      fn = await startCallCounter(1500, 'arrival');
      await writeFile(path.join(tmp.dir, 'stack.yml'), `functions:\n  work:\n    annotations:\n      com.faasq.upstream: ${fn.url}\n`);
      if (engine === 'jetstream') nats = await startNatsServer();
    });

    after(async () => {
      await up?.kill9();
      await nats?.close();
      await fn.close();
      await tmp.cleanup();
    });

    const startUp = async (name: string): Promise<string> => {
      const queue = nats ? ['--queue', nats.url] : [];
      up = startFaasqChild(name, ['up', '--port', '0', '-f', 'stack.yml', '--data-dir', path.join(tmp.dir, 'data'), ...queue], { cwd: tmp.dir, env: ENV });
      return up.url(60_000);
    };

    test(`unknown attempt - ${engine}: the redelivered call's record shows 2 attempts, the first of unknown outcome`, { timeout: 120_000 }, async () => {
      let url = await startUp('up-1');
      const res = await fetch(`${url}/async-function/work`, { method: 'POST', body: 'x' });
      await res.arrayBuffer();
      assert.equal(res.status, 202);
      const callId = res.headers.get('x-call-id') as string;
      await waitFor(() => fn.counts.get(callId) === 1, { timeoutMs: 20_000, intervalMs: 10, message: 'the first run started' });
      const before = (await (await fetch(`${url}/async-function/${callId}`)).json()) as CallView;
      assert.equal(before.state, 'queued', 'no running record yet: the run has left no trace');
      await up!.kill9();

      url = await startUp('up-2');
      const view = await waitFor(async () => {
        const r = await fetch(`${url}/async-function/${callId}`);
        const body = r.status === 200 ? ((await r.json()) as CallView) : (await r.arrayBuffer(), undefined);
        return body?.state === 'succeeded' ? body : undefined;
      }, { timeoutMs: 60_000, intervalMs: 100, message: `${callId} succeeded after the restart` });
      assert.equal(fn.counts.get(callId), 2, 'the function ran twice');
      assert.equal(view.attempts, 2, 'the record counts both runs');
      assert.deepEqual(view.unknownAttempts, [1], 'the first is the one of unknown outcome');
    });
  });
}
