// `faasq worker --metrics-port`: a separate worker process on a JetStream queue serves its own
// Prometheus metrics (the async calls *it* ran) and /healthz, since it has no gateway port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, natsSkipReason, startNatsServer, type NatsNode } from '../support/nats-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { startFaasqChild, type FaasqChild } from './support/faasq-child.js';

const skip = natsSkipReason();
const ENV = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'metrics-pw' };

describe('scale-out - worker metrics port', { skip }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let nats: NatsNode | undefined;
  let gateway: FaasqChild | undefined;
  let worker: FaasqChild | undefined;
  let gatewayUrl = '';
  let metricsUrl = '';

  before(async () => {
    tmp = await makeTempDir('faasq-worker-metrics-');
    await writeFile(path.join(tmp.dir, 'stack.yml'), 'version: "1.0"\nfunctions:\n  upper:\n    fprocess: tr a-z A-Z\n');
    nats = await startNatsServer();
    gateway = startFaasqChild('gateway', ['gateway', '--port', '0', '-f', 'stack.yml', '--data-dir', path.join(tmp.dir, 'gw'), '--queue', nats.url, '--log-level', 'warn'], { cwd: tmp.dir, env: ENV });
    gatewayUrl = await gateway.url(60_000);
    const port = await freePort();
    // The port through the environment, as a deployment would set it.
    worker = startFaasqChild('worker', ['worker', '--functions-url', gatewayUrl, '--queue', nats.url, '--log-level', 'warn'], { cwd: tmp.dir, env: { ...ENV, FAASQ_METRICS_PORT: String(port) } });
    metricsUrl = (await worker.waitForLine(/faasq worker: consuming .* metrics on (http:\/\/\S+)\/metrics/, 60_000))[1];
    assert.equal(metricsUrl, `http://127.0.0.1:${port}`);
  });

  after(async () => {
    await worker?.stop();
    await gateway?.stop();
    await nats?.close();
    await tmp.cleanup();
  });

  test('worker metrics - /metrics shows the faasq_ and queue_worker_ series of calls this worker ran', async () => {
    const accepted = await fetch(`${gatewayUrl}/async-function/upper`, { method: 'POST', body: 'scrape me', headers: { 'X-Call-Id': 'metrics-call-1' } });
    assert.equal(accepted.status, 202);
    await accepted.arrayBuffer();
    await waitFor(async () => {
      const res = await fetch(`${gatewayUrl}/async-function/metrics-call-1`);
      return res.status === 200 && ((await res.json()) as { state: string }).state === 'succeeded';
    }, { timeoutMs: 30_000, intervalMs: 100, message: 'call succeeded' });

    const res = await fetch(`${metricsUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^queue_worker_messages_processed_total\{queue_name="faas-request",function_name="upper\.openfaas-fn",outcome="succeeded"\} 1$/m);
    assert.match(text, /^faasq_call_duration_seconds_count\{queue_name="faas-request",function_name="upper\.openfaas-fn",outcome="succeeded"\} 1$/m);
    assert.match(text, /^faasq_queue_wait_seconds_count\{queue_name="faas-request"\} 1$/m);
  });

  test('worker metrics - /healthz answers 200 with the queue state; other paths 404', async () => {
    const health = await fetch(`${metricsUrl}/healthz`);
    assert.equal(health.status, 200);
    const report = (await health.json()) as { status: string; isReady: boolean; components: { queue: { state: string }; gateway: { state: string } } };
    assert.equal(report.status, 'ok');
    assert.equal(report.isReady, true);
    assert.equal(report.components.queue.state, 'ok');
    assert.equal(report.components.gateway.state, 'absent', 'a worker has no gateway');
    const other = await fetch(`${metricsUrl}/function/upper`);
    assert.equal(other.status, 404);
    await other.arrayBuffer();
  });
});
