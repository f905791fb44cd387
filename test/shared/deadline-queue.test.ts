// The shared upstream-timeout timer: owners are told in start order once their own deadline passes,
// removed ones never are, and a queue that empties and fills again keeps working.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { DeadlineQueue } from '../../src/shared/deadline-queue.js';
import { waitFor } from '../support/wait-for.js';

function owner(name: string, fired: { name: string; afterMs: number }[], startedAt: number): { onDeadline(): void } {
  return { onDeadline: () => fired.push({ name, afterMs: performance.now() - startedAt }) };
}

describe('deadline queue', () => {
  test('gateway - deadlines fire in start order, each no earlier than its own timeout', async () => {
    const queue = new DeadlineQueue(60);
    const fired: { name: string; afterMs: number }[] = [];
    const t0 = performance.now();
    queue.add(owner('a', fired, t0));
    await new Promise((resolve) => setTimeout(resolve, 25));
    const t1 = performance.now();
    queue.add(owner('b', fired, t1));
    await waitFor(() => fired.length === 2, { timeoutMs: 2000 });
    assert.deepEqual(fired.map((f) => f.name), ['a', 'b']);
    assert.ok(fired[0].afterMs >= 59, `a fired after ${fired[0].afterMs} ms`);
    // b's own start is t1, so its wait is measured from there, not from a's deadline.
    assert.ok(fired[1].afterMs >= 59, `b fired ${fired[1].afterMs} ms after it was added`);
  });

  test('gateway - a removed owner is never told, whether it was the head, the middle or the tail', async () => {
    const queue = new DeadlineQueue(30);
    const fired: { name: string; afterMs: number }[] = [];
    const t0 = performance.now();
    const a = queue.add(owner('a', fired, t0));
    queue.add(owner('b', fired, t0));
    const c = queue.add(owner('c', fired, t0));
    queue.add(owner('d', fired, t0));
    const e = queue.add(owner('e', fired, t0));
    queue.remove(a);
    queue.remove(c);
    queue.remove(e);
    queue.remove(c); // twice is harmless
    await waitFor(() => fired.length === 2, { timeoutMs: 2000 });
    // A later sentinel proves nothing else was pending behind them.
    queue.add(owner('z', fired, t0));
    await waitFor(() => fired.length === 3, { timeoutMs: 2000 });
    assert.deepEqual(fired.map((f) => f.name), ['b', 'd', 'z']);
  });

  test('gateway - a queue that emptied arms again for the next owner', async () => {
    const queue = new DeadlineQueue(20);
    const fired: { name: string; afterMs: number }[] = [];
    const t0 = performance.now();
    queue.remove(queue.add(owner('gone', fired, t0)));
    queue.add(owner('first', fired, t0));
    await waitFor(() => fired.length === 1, { timeoutMs: 2000 });
    const t1 = performance.now();
    queue.add(owner('second', fired, t1));
    await waitFor(() => fired.length === 2, { timeoutMs: 2000 });
    assert.deepEqual(fired.map((f) => f.name), ['first', 'second']);
    assert.ok(fired[1].afterMs >= 19, `second fired ${fired[1].afterMs} ms after it was added`);
  });
});
