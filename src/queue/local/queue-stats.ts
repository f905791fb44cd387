// Per-queue stats for the local engine. Depth comes from counters; the oldest ready call is the
// first unleased key of each priority band; delayed calls are the keys of the delayed part of the
// ready index, counted by the store without decoding (LMDB counts in native code).
import { MAX_PRIORITY, type QueueStats } from '../queue.js';
import { depthOf, type QueueState } from './queue-state.js';
import type { QueueStore } from './store.js';

export function queueStats(store: QueueStore, state: QueueState, now: number): QueueStats {
  let delayed = 0;
  let oldestReadyAt = Infinity;
  const depthByPriority: Record<number, number> = {};
  for (let p = MAX_PRIORITY; p >= 0; p--) {
    if (state.depthByPriority[p] <= 0) continue;
    depthByPriority[p] = state.depthByPriority[p];
    const band = MAX_PRIORITY - p;
    for (const { key, value } of store.range<string>('ready', { start: [state.name, band], end: [state.name, band, now + 1] })) {
      if (state.leases.has(value)) continue;
      oldestReadyAt = Math.min(oldestReadyAt, (key as readonly number[])[2]);
      break;
    }
    delayed += store.count('ready', { start: [state.name, band, now + 1], end: [state.name, band, Number.MAX_SAFE_INTEGER] });
  }
  return {
    name: state.name,
    depth: depthOf(state),
    depthByPriority,
    delayed,
    inflight: state.leases.size,
    oldestAgeMs: oldestReadyAt === Infinity ? 0 : Math.max(0, now - oldestReadyAt),
    deadLetters: state.deadLetters,
  };
}
