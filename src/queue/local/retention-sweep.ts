// The retention sweep: deletes records and results of calls finished before the cutoff, walking
// the finished index from its oldest end. Unfinished calls are never in that index.
import type { CallRecord } from '../queue.js';
import { finishedKey, sameKey } from './call-rows.js';
import type { KeyLock } from '../../shared/key-lock.js';
import type { QueueStore, StoreKey } from './store.js';

const SWEEP_BATCH = 500;
const MAX_BATCHES_PER_SWEEP = 200;

export async function sweepExpired(deps: { store: QueueStore; locks: KeyLock; cutoffMs: number }): Promise<number> {
  const { store, locks } = deps;
  let removed = 0;
  for (let batch = 0; batch < MAX_BATCHES_PER_SWEEP; batch++) {
    const keys: StoreKey[] = [...store.keys('finished', { end: [deps.cutoffMs], limit: SWEEP_BATCH })];
    if (keys.length === 0) break;
    await Promise.all(
      keys.map((key) => {
        const callId = String((key as readonly (string | number)[])[1]);
        return locks.run(callId, async () => {
          const record = store.get<CallRecord>('records', callId);
          // The record may have been replayed or re-finished since the key was read.
          const isExpired = record !== undefined && sameKey(finishedKey(record), key);
          await store.write(isExpired ? [{ table: 'finished', key }, { table: 'records', key: callId }, { table: 'results', key: callId }] : [{ table: 'finished', key }]);
          if (isExpired) removed++;
        });
      }),
    );
    if (keys.length < SWEEP_BATCH) break;
  }
  return removed;
}
