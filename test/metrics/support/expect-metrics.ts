// The metric movements runTraffic() must cause, on any backend: each OpenFaaS name with its
// labels and each faasq_ metric, checked by how much it moved between scrapes.
import assert from 'node:assert/strict';
import { delta, parseFamilies, seriesOf, valueOf } from './prom-text.js';
import type { Traffic } from './traffic.js';

const Q = 'faas-request';
const fq = (fn: string): string => `${fn}.openfaas-fn`;

export function expectMetricsMoved(t: Traffic): void {
  const { before, middle, after } = t;
  const moved = (name: string, labels: Record<string, string>, expected: number, from = before, to = after): void => {
    assert.equal(delta(from, to, name, labels), expected, `${name}${JSON.stringify(labels)} moved by ${delta(from, to, name, labels)}, expected ${expected}`);
  };

  // The OpenFaaS gateway metrics: sync calls, plus each attempt of a queued call under the
  // function's status (as the OpenFaaS gateway counts a queue-worker's invocations); an accept's
  // 202 is not an invocation. ok: 2 sync + 1 attempt; bad: 1 + 1; flaky: 503 then 200; down: 500 twice.
  moved('gateway_function_invocation_total', { function_name: fq('ok'), code: '200' }, 3);
  moved('gateway_function_invocation_total', { function_name: fq('bad'), code: '400' }, 2);
  moved('gateway_function_invocation_total', { function_name: fq('flaky'), code: '503' }, 1);
  moved('gateway_function_invocation_total', { function_name: fq('flaky'), code: '200' }, 1);
  moved('gateway_function_invocation_total', { function_name: fq('down'), code: '500' }, 2);
  moved('gateway_function_invocation_total', { code: '202' }, 0);
  moved('gateway_function_invocation_started', { function_name: fq('ok') }, 3);
  moved('gateway_function_invocation_started', { function_name: fq('bad') }, 2);
  moved('gateway_function_invocation_started', { function_name: fq('down') }, 2);
  moved('gateway_functions_seconds_count', { function_name: fq('ok'), code: '200' }, 3);
  assert.ok(delta(before, after, 'gateway_functions_seconds_sum', { function_name: fq('ok') }) > 0, 'gateway_functions_seconds_sum grew');
  for (const fn of ['ok', 'flaky', 'down', 'bad', 'slow']) assert.equal(valueOf(after, 'gateway_service_count', { function_name: fq(fn) }), 1, `gateway_service_count ${fn}`);

  // The OpenFaaS queue-worker metrics.
  moved('queue_worker_messages_submitted_total', { queue_name: Q }, 5);
  moved('queue_worker_messages_submitted_total', { queue_name: Q, function_name: fq('ok') }, 2);
  moved('queue_worker_messages_processed_total', { queue_name: Q }, 4);
  moved('queue_worker_messages_processed_total', { queue_name: Q, outcome: 'succeeded' }, 2);
  moved('queue_worker_messages_processed_total', { queue_name: Q, function_name: fq('bad'), outcome: 'failed' }, 1);
  moved('queue_worker_messages_processed_total', { queue_name: Q, function_name: fq('down'), outcome: 'dead' }, 1);
  assert.equal(valueOf(after, 'queue_worker_function_invocation_inflight', { queue_name: Q }), 0, 'nothing in flight at the end');
  assert.ok(seriesOf(after, 'queue_worker_function_invocation_inflight').some((l) => l.function_name === fq('ok')), 'inflight gauge has a series per function');
  // The delayed call is pending until it is cancelled.
  assert.equal(valueOf(middle, 'queue_worker_pending_messages', { queue_name: Q }), 1, 'pending while the delayed call waits');
  assert.equal(valueOf(middle, 'faasq_queue_delayed', { queue_name: Q }), 1, 'delayed gauge');
  assert.equal(valueOf(after, 'queue_worker_pending_messages', { queue_name: Q }), 0, 'pending after the cancel');
  assert.equal(valueOf(after, 'faasq_queue_dead_letters', { queue_name: Q }), 1, 'dead letters gauge');

  // faasq's own.
  moved('faasq_call_retries_total', { queue_name: Q, function_name: fq('flaky') }, 1);
  moved('faasq_call_retries_total', { queue_name: Q, function_name: fq('down') }, 1);
  moved('faasq_call_attempts_failed_total', { function_name: fq('flaky') }, 1);
  moved('faasq_call_attempts_failed_total', { function_name: fq('down') }, 2);
  moved('faasq_call_attempts_failed_total', { function_name: fq('bad') }, 1);
  moved('faasq_dead_letters_total', { queue_name: Q, function_name: fq('down'), reason: 'attempts' }, 1);
  moved('faasq_callbacks_total', { function_name: fq('ok'), outcome: 'delivered' }, 1);
  moved('faasq_callbacks_total', { function_name: fq('down'), outcome: 'retried' }, 1);
  moved('faasq_callbacks_total', { function_name: fq('down'), outcome: 'failed' }, 1);
  moved('faasq_calls_cancelled_total', { queue_name: Q, function_name: fq('ok') }, 1, middle, after);
  moved('faasq_calls_cancelled_total', {}, 1);
  moved('faasq_accept_seconds_count', { queue_name: Q }, 5);
  // Connections for the async API (and the scrapes) go from the express lane to the full path.
  assert.ok(delta(before, after, 'faasq_express_lane_handoffs_total', { reason: 'route' }) > 0, 'faasq_express_lane_handoffs_total{reason="route"} grew');
  // Attempts that started: ok 1, flaky 2, down 2, bad 1.
  moved('faasq_queue_wait_seconds_count', { queue_name: Q }, 6);
  moved('faasq_call_duration_seconds_count', { queue_name: Q }, 6);
  moved('faasq_call_duration_seconds_count', { function_name: fq('flaky'), outcome: 'attempt_failed' }, 1);
  moved('faasq_call_duration_seconds_count', { function_name: fq('flaky'), outcome: 'succeeded' }, 1);

  const types = new Map(parseFamilies(after).map((f) => [f.name, f.type]));
  for (const [name, type] of Object.entries(EXPECTED_TYPES)) assert.equal(types.get(name), type, `# TYPE ${name}`);
}

export const EXPECTED_TYPES: Record<string, string> = {
  gateway_function_invocation_total: 'counter',
  gateway_functions_seconds: 'histogram',
  gateway_function_invocation_started: 'counter',
  gateway_service_count: 'gauge',
  queue_worker_pending_messages: 'gauge',
  queue_worker_messages_submitted_total: 'counter',
  queue_worker_messages_processed_total: 'counter',
  queue_worker_function_invocation_inflight: 'gauge',
  faasq_call_retries_total: 'counter',
  faasq_call_attempts_failed_total: 'counter',
  faasq_dead_letters_total: 'counter',
  faasq_calls_cancelled_total: 'counter',
  faasq_callbacks_total: 'counter',
  faasq_calls_rejected_total: 'counter',
  faasq_express_lane_handoffs_total: 'counter',
  faasq_accept_seconds: 'histogram',
  faasq_queue_wait_seconds: 'histogram',
  faasq_call_duration_seconds: 'histogram',
  faasq_queue_delayed: 'gauge',
  faasq_queue_inflight: 'gauge',
  faasq_queue_oldest_age_seconds: 'gauge',
  faasq_queue_dead_letters: 'gauge',
  faasq_queue_depth: 'gauge',
};
