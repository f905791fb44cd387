// Dead letters of the local engine: list, replay (back to the front of the queue with a fresh
// ready time, record queued with attempts reset) and purge. Kept until purged or replayed.
import type { CallRecord, DeadLetter, DeadLetterFilter } from '../queue.js';
import { compact } from '../record-patch.js';
import { asBuffer, finishedKey, newRecord, readyKey, type StoredMessage } from './call-rows.js';
import type { KeyLock } from '../../shared/key-lock.js';
import type { QueueState } from './queue-state.js';
import type { QueueStore, StoreWrite } from './store.js';

export interface DeadLetterBookDeps {
  readonly store: QueueStore;
  readonly locks: KeyLock;
  nextSeq(): number;
  stateOf(queue: string): QueueState;
  addDepth(state: QueueState, priority: number, delta: number): void;
  wake(state: QueueState): void;
}

function matches(dead: DeadLetter, filter: DeadLetterFilter | undefined): boolean {
  if (filter?.queue !== undefined && dead.queue !== filter.queue) return false;
  if (filter?.function !== undefined && dead.function !== filter.function) return false;
  return true;
}

function withBuffer(dead: DeadLetter): DeadLetter {
  return { ...dead, message: { ...dead.message, body: asBuffer(dead.message.body) } };
}

export class DeadLetterBook {
  constructor(private readonly deps: DeadLetterBookDeps) {}

  /** Oldest first. */
  list(filter?: DeadLetterFilter): DeadLetter[] {
    const found: DeadLetter[] = [];
    for (const { value } of this.deps.store.range<DeadLetter>('dead', {})) if (matches(value, filter)) found.push(value);
    found.sort((a, b) => (a.deadAt < b.deadAt ? -1 : a.deadAt > b.deadAt ? 1 : 0));
    const limited = filter?.limit !== undefined ? found.slice(0, filter.limit) : found;
    return limited.map(withBuffer);
  }

  get(callId: string): DeadLetter | undefined {
    const dead = this.deps.store.get<DeadLetter>('dead', callId);
    return dead ? withBuffer(dead) : undefined;
  }

  async replay(ids: readonly string[] | undefined, filter?: DeadLetterFilter): Promise<number> {
    const targets = this.targets(ids, filter);
    const done = await Promise.all(targets.map((callId) => this.deps.locks.run(callId, () => this.replayOne(callId, filter))));
    return done.filter(Boolean).length;
  }

  async purge(ids: readonly string[] | undefined, filter?: DeadLetterFilter): Promise<number> {
    const targets = this.targets(ids, filter);
    const done = await Promise.all(
      targets.map((callId) =>
        this.deps.locks.run(callId, async () => {
          const dead = this.deps.store.get<DeadLetter>('dead', callId);
          if (!dead || !matches(dead, filter)) return false;
          await this.deps.store.write([{ table: 'dead', key: callId }]);
          this.deps.stateOf(dead.queue).deadLetters--;
          return true;
        }),
      ),
    );
    return done.filter(Boolean).length;
  }

  private targets(ids: readonly string[] | undefined, filter: DeadLetterFilter | undefined): string[] {
    if (ids) return [...new Set(ids)];
    return this.list(filter).map((d) => d.callId);
  }

  private async replayOne(callId: string, filter: DeadLetterFilter | undefined): Promise<boolean> {
    const { store } = this.deps;
    const dead = store.get<DeadLetter>('dead', callId);
    if (!dead || !matches(dead, filter)) return false;
    const now = Date.now();
    const writes: StoreWrite[] = [{ table: 'dead', key: callId }];
    const hasMessage = store.get('messages', callId) !== undefined;
    if (!hasMessage) {
      const row: StoredMessage = { message: dead.message, seq: this.deps.nextSeq(), readyAt: now, deliveries: 0 };
      writes.push({ table: 'messages', key: callId, value: row }, { table: 'ready', key: readyKey(row), value: callId });
    }
    const current = store.get<CallRecord>('records', callId);
    const base = current ?? newRecord(dead.message, now);
    const nowIso = new Date(now).toISOString();
    const next: CallRecord = compact({ ...base, state: 'queued', attempts: 0, updatedAt: nowIso, startedAt: undefined, finishedAt: undefined, nextAttemptAt: undefined });
    writes.push({ table: 'records', key: callId, value: next });
    const oldFinished = current && finishedKey(current);
    if (oldFinished) writes.push({ table: 'finished', key: oldFinished });
    await store.write(writes);
    const state = this.deps.stateOf(dead.queue);
    state.deadLetters--;
    if (!hasMessage) {
      this.deps.addDepth(state, dead.message.priority, 1);
      this.deps.wake(state);
    }
    return true;
  }
}
