// /healthz on a real `faasq up`: JSON naming each component's state (gateway, queue, worker,
// runtime); with JetStream, readiness fails (503) within seconds of the nats-server dying and
// comes back (200) after it restarts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { natsSkipReason, startNatsServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';
import { startObservedFaasq } from '../metrics/support/observed-faasq.js';

interface Health {
  status: string;
  isReady: boolean;
  components: Record<string, { state: string; backend?: string }>;
}

async function health(url: string): Promise<{ status: number; body: Health }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: (await res.json()) as Health };
}

test('healthz - reports gateway, queue, worker and runtime state as JSON', async () => {
  const f = await startObservedFaasq();
  try {
    const { status, body } = await health(f.url);
    assert.equal(status, 200);
    assert.equal(body.isReady, true);
    assert.equal(body.status, 'ok');
    for (const c of ['gateway', 'queue', 'worker', 'runtime']) assert.equal(body.components[c]?.state, 'ok', `${c}: ${JSON.stringify(body.components[c])}`);
    assert.equal(body.components.queue.backend, 'memory');
  } finally {
    await f.close();
  }
});

test('healthz jetstream - 503 within seconds of losing nats-server, 200 again after its restart', { skip: natsSkipReason(), timeout: 90_000 }, async () => {
  const nats = await startNatsServer();
  try {
    const f = await startObservedFaasq({ queueUrl: nats.url, logLevel: 'silent' });
    try {
      assert.equal((await health(f.url)).status, 200);
      await nats.kill9();
      const killedAt = Date.now();
      const down = await waitFor(async () => {
        const h = await health(f.url);
        return h.status === 503 ? h : undefined;
      }, { timeoutMs: 10_000, intervalMs: 100, message: '/healthz 503 after nats-server died' });
      assert.ok(Date.now() - killedAt < 10_000);
      assert.equal(down.body.isReady, false);
      assert.equal(down.body.components.queue.state, 'unreachable');
      assert.equal(down.body.components.gateway.state, 'ok');

      await nats.restart();
      const up = await waitFor(async () => {
        const h = await health(f.url);
        return h.status === 200 ? h : undefined;
      }, { timeoutMs: 20_000, intervalMs: 100, message: '/healthz 200 after nats-server restarted' });
      assert.equal(up.body.components.queue.state, 'ok');
    } finally {
      await f.close();
    }
  } finally {
    await nats.close();
  }
});
