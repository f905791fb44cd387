import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decide, isExpired, parseRetryAfterMs } from '../../src/worker/decide.js';
import type { RetryPolicy } from '../../src/worker/policy.js';

const policy: RetryPolicy = { attempts: 3, codes: new Set([408, 429, 500, 502, 503, 504]), minWaitMs: 1000, maxWaitMs: 60_000, jitter: 'none' };
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

describe('decide', () => {
  test('decide - any 2xx succeeds', () => {
    for (const status of [200, 201, 202, 204, 299]) assert.deepEqual(decide({ status }, 1, policy, NOW), { kind: 'ack', state: 'succeeded' });
  });

  test('decide - 2xx on the last attempt still succeeds', () => {
    assert.deepEqual(decide({ status: 200 }, 3, policy, NOW), { kind: 'ack', state: 'succeeded' });
  });

  test('decide - statuses not in the policy fail without retry', () => {
    for (const status of [301, 400, 401, 404, 409, 422, 501]) assert.deepEqual(decide({ status }, 1, policy, NOW), { kind: 'ack', state: 'failed' });
  });

  test('decide - an answer faasq refused (output over the cap) fails without retry; transport errors retry', () => {
    assert.deepEqual(decide({ error: 'output too large', kind: 'refused' }, 1, policy, NOW), { kind: 'ack', state: 'failed' });
    assert.deepEqual(decide({ error: 'reset', kind: 'transport' }, 1, policy, NOW), { kind: 'retry', delayMs: 1000 });
  });

  test('decide - policy codes retry with exponential backoff', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) assert.deepEqual(decide({ status }, 1, policy, NOW), { kind: 'retry', delayMs: 1000 });
    assert.deepEqual(decide({ status: 500 }, 2, policy, NOW), { kind: 'retry', delayMs: 2000 });
  });

  test('decide - a custom code list replaces the defaults', () => {
    const p = { ...policy, codes: new Set([418]) };
    assert.deepEqual(decide({ status: 418 }, 1, p, NOW), { kind: 'retry', delayMs: 1000 });
    assert.deepEqual(decide({ status: 500 }, 1, p, NOW), { kind: 'ack', state: 'failed' });
  });

  test('decide - transport errors and timeouts retry', () => {
    assert.deepEqual(decide({ error: 'ECONNREFUSED', kind: 'transport' }, 1, policy, NOW), { kind: 'retry', delayMs: 1000 });
    assert.deepEqual(decide({ error: 'timed out', kind: 'timeout' }, 2, policy, NOW), { kind: 'retry', delayMs: 2000 });
  });

  test('decide - x-openfaas-internal responses retry whatever the status', () => {
    assert.deepEqual(decide({ status: 404, headers: { 'x-openfaas-internal': 'proxy' } }, 1, policy, NOW), { kind: 'retry', delayMs: 1000 });
  });

  test('decide - the last attempt goes dead', () => {
    assert.deepEqual(decide({ status: 500 }, 3, policy, NOW), { kind: 'dead', reason: 'attempts' });
    assert.deepEqual(decide({ error: 'x', kind: 'transport' }, 3, policy, NOW), { kind: 'dead', reason: 'attempts' });
    assert.deepEqual(decide({ status: 500 }, 1, { ...policy, attempts: 1 }, NOW), { kind: 'dead', reason: 'attempts' });
  });

  test('decide - Retry-After seconds on 429 and 503 replaces the backoff', () => {
    assert.deepEqual(decide({ status: 429, headers: { 'retry-after': '7' } }, 1, policy, NOW), { kind: 'retry', delayMs: 7000 });
    assert.deepEqual(decide({ status: 503, headers: { 'retry-after': ['5'] } }, 2, policy, NOW), { kind: 'retry', delayMs: 5000 });
  });

  test('decide - Retry-After is floored at min wait and capped at max wait', () => {
    assert.deepEqual(decide({ status: 429, headers: { 'retry-after': '0' } }, 3 - 1, policy, NOW), { kind: 'retry', delayMs: 1000 });
    assert.deepEqual(decide({ status: 429, headers: { 'retry-after': '3600' } }, 1, policy, NOW), { kind: 'retry', delayMs: 60_000 });
  });

  test('decide - Retry-After as an HTTP date', () => {
    const at = new Date(NOW + 30_000).toUTCString();
    assert.deepEqual(decide({ status: 503, headers: { 'retry-after': at } }, 1, policy, NOW), { kind: 'retry', delayMs: 30_000 });
  });

  test('decide - Retry-After is ignored on other statuses and when unparsable', () => {
    assert.deepEqual(decide({ status: 500, headers: { 'retry-after': '30' } }, 1, policy, NOW), { kind: 'retry', delayMs: 1000 });
    assert.deepEqual(decide({ status: 429, headers: { 'retry-after': 'soon' } }, 2, policy, NOW), { kind: 'retry', delayMs: 2000 });
  });

  test('decide - jitter uses the given random source', () => {
    assert.deepEqual(decide({ status: 500 }, 2, { ...policy, jitter: 'full' }, NOW, () => 0.25), { kind: 'retry', delayMs: 500 });
  });

  test('decide - parseRetryAfterMs handles the forms', () => {
    assert.equal(parseRetryAfterMs(undefined, NOW), undefined);
    assert.equal(parseRetryAfterMs('', NOW), undefined);
    assert.equal(parseRetryAfterMs('12', NOW), 12_000);
    assert.equal(parseRetryAfterMs('-1', NOW), undefined);
    assert.equal(parseRetryAfterMs('1.5', NOW), undefined);
    assert.equal(parseRetryAfterMs(new Date(NOW - 5000).toUTCString(), NOW), 0);
    assert.equal(parseRetryAfterMs('2030-01-01', NOW), undefined);
  });

  test('decide - max age applies only to calls never started', () => {
    assert.equal(isExpired(undefined, 0, NOW), false);
    assert.equal(isExpired(NOW - 1, 0, NOW), true);
    assert.equal(isExpired(NOW, 0, NOW), false);
    assert.equal(isExpired(NOW - 1, 1, NOW), false);
  });
});
