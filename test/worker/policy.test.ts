import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asyncConcurrencyFor, policyFor, type RetryDefaults } from '../../src/worker/policy.js';

const defaults: RetryDefaults = { attempts: 10, codes: [408, 429, 500, 502, 503, 504], minWaitMs: 10_000, maxWaitMs: 120_000, jitter: 'equal' };
const spec = (annotations: Record<string, string>) => ({ annotations });

describe('policy', () => {
  test('policy - defaults when no spec or no annotations', () => {
    for (const s of [undefined, spec({})]) {
      const p = policyFor(s, defaults);
      assert.equal(p.attempts, 10);
      assert.deepEqual([...p.codes], [408, 429, 500, 502, 503, 504]);
      assert.equal(p.minWaitMs, 10_000);
      assert.equal(p.maxWaitMs, 120_000);
      assert.equal(p.jitter, 'equal');
    }
  });

  test('policy - annotations override the worker defaults', () => {
    const p = policyFor(spec({
      'com.openfaas.retry.attempts': '3',
      'com.openfaas.retry.codes': '429, 503',
      'com.openfaas.retry.min_wait': '500ms',
      'com.openfaas.retry.max_wait': '1m30s',
    }), defaults);
    assert.equal(p.attempts, 3);
    assert.deepEqual([...p.codes], [429, 503]);
    assert.equal(p.minWaitMs, 500);
    assert.equal(p.maxWaitMs, 90_000);
  });

  test('policy - invalid annotations fall back to defaults and are reported', () => {
    const seen: string[] = [];
    const p = policyFor(spec({
      'com.openfaas.retry.attempts': 'three',
      'com.openfaas.retry.codes': '429,abc',
      'com.openfaas.retry.min_wait': '10 parsecs',
      'com.openfaas.retry.max_wait': '-5s',
    }), defaults, (key) => seen.push(key));
    assert.equal(p.attempts, 10);
    assert.deepEqual([...p.codes], [...defaults.codes]);
    assert.equal(p.minWaitMs, 10_000);
    assert.equal(p.maxWaitMs, 120_000);
    assert.deepEqual(seen.sort(), ['com.openfaas.retry.attempts', 'com.openfaas.retry.codes', 'com.openfaas.retry.max_wait', 'com.openfaas.retry.min_wait']);
  });

  test('policy - out-of-range codes are invalid', () => {
    assert.deepEqual([...policyFor(spec({ 'com.openfaas.retry.codes': '99,600' }), defaults).codes], [...defaults.codes]);
  });

  test('policy - zero attempts still allows one attempt', () => {
    assert.equal(policyFor(spec({ 'com.openfaas.retry.attempts': '0' }), defaults).attempts, 1);
  });

  test('policy - bare seconds are a duration', () => {
    assert.equal(policyFor(spec({ 'com.openfaas.retry.min_wait': '2' }), defaults).minWaitMs, 2000);
  });

  test('policy - async concurrency annotation', () => {
    assert.equal(asyncConcurrencyFor(undefined), undefined);
    assert.equal(asyncConcurrencyFor(spec({ 'com.faasq.async.concurrency': '2' })), 2);
    assert.equal(asyncConcurrencyFor(spec({ 'com.faasq.async.concurrency': '0' })), undefined);
    const seen: string[] = [];
    assert.equal(asyncConcurrencyFor(spec({ 'com.faasq.async.concurrency': 'x' }), (k) => seen.push(k)), undefined);
    assert.deepEqual(seen, ['com.faasq.async.concurrency']);
  });
});
