// The JetStream error translation that needs no server: API errors are told apart by err_code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JetStreamApiError } from '@nats-io/jetstream';
import { isUnavailableError, toQueueError } from '../../src/queue/jetstream/jetstream-errors.js';

const apiError = (errCode: number, status: number, description: string): JetStreamApiError =>
  new JetStreamApiError({ err_code: errCode, code: status, description });

test('jetstream errors - replicas that cannot be placed yet (10005) are unavailable and retryable, with the likely causes named', () => {
  const err = apiError(10005, 400, 'no suitable peers for placement');
  assert.equal(isUnavailableError(err), true);
  const queueError = toQueueError(err, 'start');
  assert.equal(queueError.code, 'E_QUEUE_UNAVAILABLE');
  assert.equal(queueError.isRetryable, true);
  assert.match(queueError.message, /no suitable peers for placement/);
  assert.match(queueError.message, /FAASQ_STREAM_REPLICAS/);
});

test('jetstream errors - other 400s stay internal errors, not retried', () => {
  const err = apiError(10074, 500, 'replicas > 1 not supported in non-clustered mode');
  assert.equal(isUnavailableError(err), false);
  assert.equal(toQueueError(err, 'start').code, 'E_INTERNAL');
  assert.equal(toQueueError(apiError(10003, 400, 'bad request'), 'start').code, 'E_INTERNAL');
});
