// The per-queue rate window behind GET /system/queues, driven by real EventBus events and a
// controlled clock: totals, rates over the window, old events falling out, and processing
// reported only where a worker runs in the same process.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus } from '../../src/shared/events.js';
import { createQueueRates } from '../../src/metrics/index.js';

function accepted(events: EventBus, queue: string, isDuplicate = false): void {
  events.emit('call.accepted', { callId: 'c', fn: 'f', namespace: 'openfaas-fn', queue, priority: 0, acceptMs: 1, isDuplicate });
}

function succeeded(events: EventBus, queue: string): void {
  events.emit('call.succeeded', { callId: 'c', fn: 'f', namespace: 'openfaas-fn', queue, attempt: 1, status: 200, durationMs: 1 });
}

test('queue rates - totals and rates over the window; old events fall out', () => {
  const events = new EventBus();
  let now = 1_000_000;
  const rates = createQueueRates(events, { windowMs: 10_000, now: () => now });
  events.emit('worker.started', {});
  now += 10_000;
  for (let i = 0; i < 20; i++) accepted(events, 'q');
  accepted(events, 'q', true);
  for (let i = 0; i < 5; i++) succeeded(events, 'q');
  let s = rates.snapshot('q');
  assert.deepEqual(s, { submittedTotal: 20, processedTotal: 5, ingestRate: 2, processRate: 0.5, rateWindowSeconds: 10 });
  now += 5_000;
  for (let i = 0; i < 10; i++) accepted(events, 'q');
  assert.equal(rates.snapshot('q').ingestRate, 3);
  now += 6_000;
  s = rates.snapshot('q');
  assert.equal(s.ingestRate, 1, 'the first 20 left the window');
  assert.equal(s.processRate, 0);
  assert.equal(s.submittedTotal, 30, 'totals keep counting');
  assert.equal(rates.snapshot('other').ingestRate, 0);
  rates.close();
  accepted(events, 'q');
  assert.equal(rates.snapshot('q').submittedTotal, 30, 'closed: no longer listening');
});

test('queue rates - a young process divides by the time it has been up, at least one second', () => {
  const events = new EventBus();
  let now = 5_000;
  const rates = createQueueRates(events, { windowMs: 60_000, now: () => now });
  for (let i = 0; i < 4; i++) accepted(events, 'q');
  assert.equal(rates.snapshot('q').ingestRate, 4);
  now += 2_000;
  assert.equal(rates.snapshot('q').ingestRate, 2);
});

test('queue rates - processing is null without a local worker for the queue, numbers with one', () => {
  const events = new EventBus();
  const rates = createQueueRates(events);
  accepted(events, 'a');
  assert.equal(rates.snapshot('a').processRate, null);
  assert.equal(rates.snapshot('a').processedTotal, null);
  events.emit('worker.started', { queues: ['b'] });
  assert.equal(rates.snapshot('a').processRate, null, 'the local worker consumes only b');
  assert.equal(rates.snapshot('b').processRate, 0);
  assert.equal(rates.snapshot('b').processedTotal, 0);
  events.emit('worker.started', {});
  assert.equal(rates.snapshot('a').processedTotal, 0, 'a worker on every queue');
});
