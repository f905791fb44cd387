import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffMs } from '../../src/shared/backoff.js';

const opts = { minWaitMs: 100, maxWaitMs: 1000, jitter: 'none' as const };

describe('backoff', () => {
  test('backoff - none doubles from min and caps at max', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffMs(a, opts)), [100, 200, 400, 800, 1000, 1000]);
  });

  test('backoff - huge attempt numbers stay at the cap', () => {
    assert.equal(backoffMs(5000, opts), 1000);
    assert.equal(backoffMs(Number.MAX_SAFE_INTEGER, opts), 1000);
  });

  test('backoff - attempt below 1 counts as the first retry', () => {
    assert.equal(backoffMs(0, opts), 100);
    assert.equal(backoffMs(-3, opts), 100);
  });

  test('backoff - zero min wait means no wait, never NaN', () => {
    assert.equal(backoffMs(3000, { ...opts, minWaitMs: 0 }), 0);
    assert.equal(backoffMs(1, { ...opts, minWaitMs: 0, jitter: 'full' }, () => 0.5), 0);
  });

  test('backoff - max below min caps at max', () => {
    assert.equal(backoffMs(1, { minWaitMs: 500, maxWaitMs: 200, jitter: 'none' }), 200);
  });

  test('backoff - full jitter spans 0..d', () => {
    const full = { ...opts, jitter: 'full' as const };
    assert.equal(backoffMs(3, full, () => 0), 0);
    assert.equal(backoffMs(3, full, () => 0.5), 200);
    assert.equal(backoffMs(3, full, () => 1), 400);
  });

  test('backoff - equal jitter spans d/2..d', () => {
    const equal = { ...opts, jitter: 'equal' as const };
    assert.equal(backoffMs(3, equal, () => 0), 200);
    assert.equal(backoffMs(3, equal, () => 0.5), 300);
    assert.equal(backoffMs(3, equal, () => 1), 400);
    assert.equal(backoffMs(10, equal, () => 0), 500);
  });

  test('backoff - real random stays inside the bounds', () => {
    for (let i = 0; i < 200; i++) {
      const f = backoffMs(2, { ...opts, jitter: 'full' });
      const e = backoffMs(2, { ...opts, jitter: 'equal' });
      assert.ok(f >= 0 && f <= 200);
      assert.ok(e >= 100 && e <= 200);
    }
  });
});
