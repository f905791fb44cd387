// A function that breaks HTTP framing is counted every time (by path and reason) and logged once
// per function, so a hostile function cannot flood the log.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { UpstreamAnomalies } from '../../src/gateway/upstream-anomaly.js';
import { createMetrics } from '../../src/metrics/index.js';
import { EventBus } from '../../src/shared/events.js';
import { createLogger } from '../../src/shared/logger.js';

test('upstream anomalies - every one is counted by function, path and reason; the log has one line per function', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const events = new EventBus();
  const metrics = createMetrics({ events, isProcessMetrics: false });
  const anomalies = new UpstreamAnomalies(events, createLogger({ level: 'info', destination: sink }));
  try {
    for (let i = 0; i < 50; i += 1) anomalies.report('evil.openfaas-fn', 'express', 'bad_head');
    anomalies.report('evil.openfaas-fn', 'full', 'idle_bytes');
    // The local provider emits its idle-bytes reports as events directly: logged the same way.
    events.emit('upstream.anomaly', { fn: 'other.openfaas-fn', path: 'full', reason: 'idle_bytes' });
    const text = await metrics.render();
    assert.match(text, /faasq_function_connection_anomalies_total\{function_name="evil\.openfaas-fn",path="express",reason="bad_head"\} 50/);
    assert.match(text, /faasq_function_connection_anomalies_total\{function_name="evil\.openfaas-fn",path="full",reason="idle_bytes"\} 1/);
    assert.match(text, /faasq_function_connection_anomalies_total\{function_name="other\.openfaas-fn",path="full",reason="idle_bytes"\} 1/);
    await new Promise((resolve) => setImmediate(resolve));
    const warned = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('function broke HTTP framing'));
    assert.deepEqual(warned.map((l) => [l.function, l.path, l.reason]), [['evil.openfaas-fn', 'express', 'bad_head'], ['other.openfaas-fn', 'full', 'idle_bytes']]);
  } finally {
    anomalies.close();
    metrics.close();
  }
});
