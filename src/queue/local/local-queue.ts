// The local queue engine behind the `memory` and `embedded` backends: one implementation of the
// Queue contract over a QueueStore. Counters are rebuilt by one key scan at start; no per-call
// state is held in memory except live leases, so a million queued calls cost disk, not RAM.
import type { Logger } from '../../shared/logger.js';
import { FaasqError } from '../../shared/errors.js';
import type {
  CallMessage, CallRecord, CallResult, Consumer, ConsumeOptions, DeadLetter, DeadLetterFilter, Delivery,
  EnqueueOptions, EnqueueResult, Queue, QueueOptions, QueueStats, RecordGuard,
} from '../queue.js';
import { MAX_PRIORITY } from '../queue.js';
import { applyPatch, compact } from '../record-patch.js';
import { asBuffer, clampPriority, finishedKey, isFinalState, newRecord, readyKey, sameKey, type StoredMessage } from './call-rows.js';
import { Dispatcher, type FinalWrites } from './dispatcher.js';
import { KeyLock } from '../../shared/key-lock.js';
import { newQueueState, type QueueState } from './queue-state.js';
import { queueStats } from './queue-stats.js';
import type { QueueStore, StoreWrite } from './store.js';
import { DeadLetterBook } from './dead-letter-book.js';
import { sweepExpired } from './retention-sweep.js';
import { assertSameFunction } from '../call-id-owner.js';

function storedResult(result: CallResult): CallResult {
  return { status: result.status, headers: result.headers, body: asBuffer(result.body), isTruncated: result.isTruncated };
}

const MAX_SWEEP_INTERVAL_MS = 60_000;
const MIN_SWEEP_INTERVAL_MS = 1_000;

export interface LocalQueueDeps {
  readonly backend: 'memory' | 'embedded';
  readonly store: QueueStore;
  readonly options: QueueOptions;
  readonly logger: Logger;
}

export class LocalQueue implements Queue {
  readonly backend: 'memory' | 'embedded';
  readonly hasStaleFirstDeliveries = false;
  private readonly store: QueueStore;
  private readonly options: QueueOptions;
  private readonly logger: Logger;
  private readonly locks = new KeyLock();
  private readonly queues = new Map<string, QueueState>();
  private readonly cancelListeners = new Set<(callId: string) => void>();
  /**
   * Results of running calls, written with the call's next record update (the worker's final one)
   * instead of in a transaction of their own. Lost in a crash together with that update, so the
   * call is not final and runs again.
   */
  private readonly heldResults = new Map<string, CallResult>();
  private readonly dispatcher: Dispatcher;
  private readonly deadLetters: DeadLetterBook;
  private isOpen = false;
  private isStarted = false;
  private seq = 1;
  private totalDepth = 0;
  /** Enqueues admitted but not yet committed, so concurrent callers cannot overshoot maxDepth. */
  private reserved = 0;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(deps: LocalQueueDeps) {
    this.backend = deps.backend;
    this.store = deps.store;
    this.options = deps.options;
    this.logger = deps.logger.child({ component: 'queue', backend: deps.backend });
    this.dispatcher = new Dispatcher({
      store: this.store,
      locks: this.locks,
      leaseMs: this.options.leaseMs,
      logger: this.logger,
      isOpen: () => this.isOpen,
      nextSeq: () => this.seq++,
      addDepth: (state, priority, delta) => this.addDepth(state, priority, delta),
      finalWrites: (callId, patch, result, guard) => this.finalWrites(callId, patch, result, guard),
    });
    this.deadLetters = new DeadLetterBook({
      store: this.store,
      locks: this.locks,
      nextSeq: () => this.seq++,
      stateOf: (name) => this.stateOf(name),
      addDepth: (state, priority, delta) => this.addDepth(state, priority, delta),
      wake: (state) => this.dispatcher.schedulePump(state),
    });
  }

  async start(): Promise<void> {
    if (this.isStarted) return;
    this.isStarted = true;
    await this.store.open();
    const startedAt = Date.now();
    for (const key of this.store.keys('queues', {})) this.stateOf(String(key));
    // One scan of the ready index rebuilds the counters; keys only, so it is fast even at 1M.
    for (const key of this.store.keys('ready', {})) {
      const [queue, band, , seq] = key as readonly [string, number, number, number];
      this.stateOf(queue).depthByPriority[MAX_PRIORITY - band]++;
      this.totalDepth++;
      if (seq >= this.seq) this.seq = seq + 1;
    }
    for (const { value } of this.store.range<DeadLetter>('dead', {})) this.stateOf(value.queue).deadLetters++;
    this.isOpen = true;
    const sweepEveryMs = Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(MIN_SWEEP_INTERVAL_MS, Math.floor(this.options.retentionMs / 4)));
    this.sweepTimer = setInterval(() => void this.sweep(), sweepEveryMs);
    this.sweepTimer.unref();
    this.logger.debug({ depth: this.totalDepth, queues: this.queues.size, scanMs: Date.now() - startedAt }, 'queue opened');
  }

  async close(): Promise<void> {
    if (!this.isStarted) return;
    this.isStarted = false;
    this.isOpen = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const state of this.queues.values()) this.dispatcher.stop(state);
    await this.locks.idle();
    await this.store.close();
  }

  isHealthy(): boolean {
    return this.isOpen;
  }

  // Dedupes every callId, generated or not: the record lookup is one local read.
  async enqueue(input: CallMessage, _options?: EnqueueOptions): Promise<EnqueueResult> {
    this.assertOpen();
    const message: CallMessage = compact({ ...input, priority: clampPriority(input.priority), body: asBuffer(input.body) });
    return this.locks.run(message.callId, async () => {
      this.assertOpen();
      const now = Date.now();
      const existing = this.store.get<CallRecord>('records', message.callId);
      if (existing && this.isDuplicate(existing, now)) {
        assertSameFunction(existing, message);
        return { record: { ...existing }, isDuplicate: true };
      }
      if (this.totalDepth + this.reserved >= this.options.maxDepth) {
        throw new FaasqError('E_QUEUE_FULL', `the queue is full (${this.options.maxDepth} unfinished calls)`, { headers: { 'Retry-After': '1' } });
      }
      const isNewQueue = !this.queues.has(message.queue);
      const state = this.stateOf(message.queue);
      const row: StoredMessage = { message, seq: this.seq++, readyAt: message.notBefore ?? message.enqueuedAt, deliveries: 0 };
      const record = newRecord(message, now);
      const writes: StoreWrite[] = [
        { table: 'records', key: message.callId, value: record },
        { table: 'messages', key: message.callId, value: row },
        { table: 'ready', key: readyKey(row), value: message.callId },
      ];
      if (isNewQueue) writes.push({ table: 'queues', key: message.queue, value: { createdAt: now } });
      const oldFinished = existing && finishedKey(existing);
      if (oldFinished) writes.push({ table: 'finished', key: oldFinished }, { table: 'results', key: message.callId });
      this.reserved++;
      try {
        await this.store.write(writes);
      } catch (err) {
        throw new FaasqError('E_QUEUE_UNAVAILABLE', `storing the call failed: ${(err as Error).message}`, { cause: err });
      } finally {
        this.reserved--;
      }
      this.addDepth(state, message.priority, 1);
      this.dispatcher.schedulePump(state);
      return { record, isDuplicate: false };
    });
  }

  consume(options: ConsumeOptions, handler: (delivery: Delivery) => void): Consumer {
    this.assertOpen();
    const isNew = !this.queues.has(options.queue);
    const state = this.stateOf(options.queue);
    if (isNew) void this.store.write([{ table: 'queues', key: options.queue, value: { createdAt: Date.now() } }]).catch((err: unknown) => this.logger.warn({ err }, 'declaring queue failed'));
    return this.dispatcher.consume(state, options.maxInflight, handler);
  }

  async getRecord(callId: string): Promise<CallRecord | undefined> {
    const record = this.store.get<CallRecord>('records', callId);
    return record ? { ...record } : undefined;
  }

  async updateRecord(callId: string, patch: Partial<CallRecord>, guard?: RecordGuard): Promise<CallRecord | undefined> {
    this.assertOpen();
    return this.locks.run(callId, async () => {
      const { writes, record } = this.patchWrites(callId, patch, this.heldResults.get(callId), guard);
      // Progress (running, retrying) need not wait for the disk: a crash before the next durable
      // write only loses the progress, and the call is delivered again. Final states do wait.
      if (writes.length > 0) await this.store.write(writes, { isVisibleOnly: record !== undefined && !isFinalState(record.state) });
      this.heldResults.delete(callId);
      return record ? { ...record } : undefined;
    });
  }

  /** Delivery.complete's record and result writes (the dispatcher adds the ack's and commits them as one batch). */
  private finalWrites(callId: string, patch: Partial<CallRecord>, input: CallResult | undefined, guard: RecordGuard | undefined): FinalWrites {
    const result = input ? storedResult(input) : this.heldResults.get(callId);
    this.heldResults.delete(callId);
    return this.patchWrites(callId, patch, result, guard);
  }

  /**
   * The writes of a record patch under its state guard, with a result stored alongside (the record
   * then says hasResult). A missing record writes nothing; a failed guard (the record left the
   * worker's hands: cancelled) still keeps the result.
   */
  private patchWrites(callId: string, patch: Partial<CallRecord>, result: CallResult | undefined, guard: RecordGuard | undefined): FinalWrites {
    const current = this.store.get<CallRecord>('records', callId);
    if (!current) return { writes: [] };
    if (guard?.ifStateIn && !guard.ifStateIn.includes(current.state)) {
      return { writes: result ? [{ table: 'results', key: callId, value: result }, { table: 'records', key: callId, value: { ...current, hasResult: true } }] : [] };
    }
    // A final patch carries its finishedAt: the record's update time is the same moment.
    const nowIso = patch.updatedAt ?? patch.finishedAt ?? new Date().toISOString();
    const next = applyPatch(current, patch, nowIso, guard);
    if (isFinalState(next.state) && !isFinalState(current.state) && patch.finishedAt === undefined) next.finishedAt = nowIso;
    const writes: StoreWrite[] = [{ table: 'records', key: callId, value: next }, ...this.finishedIndexWrites(current, next)];
    if (result) {
      writes.push({ table: 'results', key: callId, value: result });
      next.hasResult = true;
    }
    return { writes, record: next };
  }

  async putResult(callId: string, result: CallResult): Promise<void> {
    this.assertOpen();
    await this.locks.run(callId, async () => {
      const stored = storedResult(result);
      const record = this.store.get<CallRecord>('records', callId);
      if (record?.state === 'running') {
        // The worker's final update follows: the result goes into that write.
        this.heldResults.set(callId, stored);
        return;
      }
      const writes: StoreWrite[] = [{ table: 'results', key: callId, value: stored }];
      if (record && !record.hasResult) writes.push({ table: 'records', key: callId, value: { ...record, hasResult: true } });
      await this.store.write(writes);
    });
  }

  async getResult(callId: string): Promise<CallResult | undefined> {
    const result = this.heldResults.get(callId) ?? this.store.get<CallResult>('results', callId);
    return result ? { ...result, body: asBuffer(result.body) } : undefined;
  }

  async cancel(callId: string): Promise<CallRecord | undefined> {
    this.assertOpen();
    const outcome = await this.locks.run(callId, async () => {
      const current = this.store.get<CallRecord>('records', callId);
      if (!current) return undefined;
      if (isFinalState(current.state)) return { record: { ...current }, isChanged: false };
      const nowIso = new Date().toISOString();
      const next: CallRecord = { ...current, state: 'cancelled', finishedAt: nowIso, updatedAt: nowIso };
      const writes: StoreWrite[] = [{ table: 'records', key: callId, value: next }, ...this.finishedIndexWrites(current, next)];
      const row = this.store.get<StoredMessage>('messages', callId);
      if (row) writes.push({ table: 'messages', key: callId }, { table: 'ready', key: readyKey(row) }, { table: 'delivered', key: callId });
      await this.store.write(writes);
      const state = this.stateOf(current.queue);
      this.dispatcher.markCancelled(state, callId);
      if (row) this.addDepth(this.stateOf(row.message.queue), row.message.priority, -1);
      return { record: { ...next }, isChanged: true };
    });
    if (!outcome) return undefined;
    if (outcome.isChanged) {
      for (const listener of this.cancelListeners) {
        try {
          listener(callId);
        } catch (err) {
          this.logger.error({ err, callId }, 'cancel listener threw');
        }
      }
    }
    return outcome.record;
  }

  onCancel(listener: (callId: string) => void): () => void {
    this.cancelListeners.add(listener);
    return () => this.cancelListeners.delete(listener);
  }

  async listDeadLetters(filter?: DeadLetterFilter): Promise<DeadLetter[]> {
    return this.deadLetters.list(filter);
  }

  async getDeadLetter(callId: string): Promise<DeadLetter | undefined> {
    return this.deadLetters.get(callId);
  }

  async replayDeadLetters(ids: readonly string[] | undefined, filter?: DeadLetterFilter): Promise<number> {
    this.assertOpen();
    return this.deadLetters.replay(ids, filter);
  }

  async purgeDeadLetters(ids: readonly string[] | undefined, filter?: DeadLetterFilter): Promise<number> {
    this.assertOpen();
    return this.deadLetters.purge(ids, filter);
  }

  async ensureQueue(name: string): Promise<void> {
    this.assertOpen();
    if (this.queues.has(name)) return;
    this.stateOf(name);
    await this.store.write([{ table: 'queues', key: name, value: { createdAt: Date.now() } }]);
  }

  async listQueues(): Promise<string[]> {
    return [...this.queues.keys()].sort();
  }

  async stats(): Promise<QueueStats[]> {
    return [...this.queues.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((state) => queueStats(this.store, state, Date.now()));
  }

  /** Removes records and results finished longer than the retention ago; returns how many. */
  async sweep(nowMs = Date.now()): Promise<number> {
    if (!this.isOpen) return 0;
    try {
      return await sweepExpired({ store: this.store, locks: this.locks, cutoffMs: nowMs - this.options.retentionMs });
    } catch (err) {
      this.logger.warn({ err }, 'retention sweep failed');
      return 0;
    }
  }

  private isDuplicate(existing: CallRecord, now: number): boolean {
    if (now - Date.parse(existing.acceptedAt) < this.options.dedupeWindowMs) return true;
    // An old call that is still queued or dead-lettered keeps its id: replacing it would orphan it.
    return this.store.get('messages', existing.callId) !== undefined || this.store.get('dead', existing.callId) !== undefined;
  }

  private finishedIndexWrites(current: CallRecord, next: CallRecord): StoreWrite[] {
    const before = finishedKey(current);
    const after = finishedKey(next);
    if (sameKey(before, after)) return [];
    const writes: StoreWrite[] = [];
    if (before) writes.push({ table: 'finished', key: before });
    if (after) writes.push({ table: 'finished', key: after, value: 1 });
    return writes;
  }

  private stateOf(name: string): QueueState {
    let state = this.queues.get(name);
    if (!state) {
      state = newQueueState(name);
      this.queues.set(name, state);
    }
    return state;
  }

  private addDepth(state: QueueState, priority: number, delta: number): void {
    state.depthByPriority[priority] += delta;
    this.totalDepth += delta;
  }

  private assertOpen(): void {
    if (!this.isOpen) throw new FaasqError('E_QUEUE_UNAVAILABLE', 'the queue is not open');
  }
}
