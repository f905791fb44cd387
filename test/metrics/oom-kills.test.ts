// A replica killed at its memory limit is counted per function, fed by the provider's event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../src/metrics/index.js';
import { EventBus } from '../../src/shared/index.js';

test('metrics - function.oom_killed counts under faasq_function_oom_kills_total{function_name="name.namespace"}', async () => {
  const events = new EventBus();
  const metrics = createMetrics({ events, isProcessMetrics: false });
  events.emit('function.oom_killed', { fn: 'hog', namespace: 'openfaas-fn', instance: 'hog-0' });
  events.emit('function.oom_killed', { fn: 'hog', namespace: 'openfaas-fn', instance: 'hog-0' });
  const text = await metrics.render();
  assert.match(text, /^faasq_function_oom_kills_total\{function_name="hog\.openfaas-fn"\} 2$/m);
  metrics.close();
});
