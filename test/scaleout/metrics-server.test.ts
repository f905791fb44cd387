// The worker's own metrics listener (faasq worker --metrics-port) on a real loopback socket: what
// it serves, what it refuses, and that a taken port fails start-up with E_CONFIG instead of
// running without metrics.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createMetricsServer } from '../../src/metrics/index.js';
import { isFaasqError, silentLogger } from '../../src/shared/index.js';

const METRICS = { contentType: 'text/plain; version=0.0.4; charset=utf-8', render: async () => 'faasq_test_total 1\n' };

function server(isReady: boolean, port = 0) {
  return createMetricsServer({
    host: '127.0.0.1',
    port,
    metrics: METRICS,
    health: async () => ({ isReady, components: { queue: { state: isReady ? 'ok' : 'unreachable' } } }),
    logger: silentLogger(),
  });
}

describe('metrics server', () => {
  test('metrics server - GET /metrics renders the registry; HEAD has no body; POST is 405', async () => {
    const s = server(true);
    const { port } = await s.start();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), METRICS.contentType);
      assert.equal(await res.text(), 'faasq_test_total 1\n');
      const head = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
      const post = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
      await post.arrayBuffer();
    } finally {
      await s.close();
      await s.close();
    }
  });

  test('metrics server - /healthz is 503 with the report while the queue is unreachable', async () => {
    const s = server(false);
    const { port } = await s.start();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { status: 'unavailable', isReady: false, components: { queue: { state: 'unreachable' } } });
    } finally {
      await s.close();
    }
  });

  test('metrics server - a port already in use fails start with E_CONFIG', async () => {
    const first = server(true);
    const { port } = await first.start();
    const second = server(true, port);
    try {
      await assert.rejects(second.start(), (err) => isFaasqError(err, 'E_CONFIG'));
    } finally {
      await second.close();
      await first.close();
    }
  });
});
