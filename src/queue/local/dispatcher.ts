// Hands ready calls to consumers and settles them: scans the ready index from the front
// (priority, ready time, sequence), leases what it hands out, redelivers on lease expiry, and
// turns ack/retry/deadLetter/release into durable store writes. Leases live in memory only: a
// leased call stays in the ready index until settled, so after a crash it is simply ready again.
// Each delivery's count is committed (not flushed: a process crash keeps it, as LMDB's commits
// survive one) before its consumer runs it (Delivery.countKept), so the redelivery after a crash
// knows it is one.
import type { Logger } from '../../shared/logger.js';
import { FaasqError } from '../../shared/errors.js';
import { MAX_PRIORITY, MIN_PRIORITY, type CallRecord, type CallResult, type Consumer, type DeadLetter, type Delivery, type RecordGuard } from '../queue.js';
import { asBuffer, readyKey, sameKey, type DeliveredRow, type StoredMessage } from './call-rows.js';
import type { KeyLock } from '../../shared/key-lock.js';
import type { ConsumerState, Lease, QueueState } from './queue-state.js';
import type { QueueStore, StoreKey, StoreWrite } from './store.js';

/** The longest delay setTimeout honours (2^31-1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type Settlement =
  | { readonly kind: 'ack' }
  | { readonly kind: 'retry'; readonly delayMs: number }
  | { readonly kind: 'release' }
  | { readonly kind: 'deadLetter'; readonly status?: number; readonly error?: string };

export interface DispatcherDeps {
  readonly store: QueueStore;
  readonly locks: KeyLock;
  readonly leaseMs: number;
  readonly logger: Logger;
  isOpen(): boolean;
  nextSeq(): number;
  /** Applies a committed change of unfinished calls to the counters. */
  addDepth(state: QueueState, priority: number, delta: number): void;
  /** The writes of a call's final record and result (Delivery.complete); run under the call's lock. */
  finalWrites(callId: string, patch: Partial<CallRecord>, result: CallResult | undefined, guard: RecordGuard | undefined): FinalWrites;
}

export interface FinalWrites {
  readonly writes: readonly StoreWrite[];
  /** The new record; undefined when the guard failed. */
  readonly record?: CallRecord;
}

/** Extra writes committed in the same batch as a settlement, computed under the call's lock. */
type ExtraWrites = () => readonly StoreWrite[];

/** A delivery handed out in a pump turn, with the row that counts it. */
interface HandOut {
  readonly callId: string;
  readonly consumer: ConsumerState;
  readonly delivery: Delivery;
  readonly delivered: DeliveredRow;
}

const KEPT: Promise<void> = Promise.resolve();

export class Dispatcher {
  /** Delivery counts of calls whose lease expired, until they are settled (rare, so small). */
  private readonly expiredCounts = new Map<string, number>();

  constructor(private readonly deps: DispatcherDeps) {}

  consume(state: QueueState, maxInflight: number, handler: (delivery: Delivery) => void): Consumer {
    if (!Number.isInteger(maxInflight) || maxInflight < 1) throw new FaasqError('E_INVALID_FIELD', `maxInflight must be a whole number >= 1, got ${maxInflight}`);
    const consumer: ConsumerState = { queue: state, maxInflight, handler, active: 0, isClosed: false };
    state.consumers.add(consumer);
    this.schedulePump(state);
    return {
      close: async () => {
        consumer.isClosed = true;
        state.consumers.delete(consumer);
        if (state.consumers.size === 0) this.clearWake(state);
      },
    };
  }

  schedulePump(state: QueueState): void {
    if (state.isPumpScheduled || state.consumers.size === 0) return;
    state.isPumpScheduled = true;
    setImmediate(() => this.pump(state));
  }

  /** Forgets a cancelled call's lease bookkeeping; its message is already gone. */
  markCancelled(state: QueueState, callId: string): void {
    const lease = state.leases.get(callId);
    if (lease) lease.isCancelled = true;
    this.expiredCounts.delete(callId);
  }

  stop(state: QueueState): void {
    this.clearWake(state);
    for (const lease of state.leases.values()) if (lease.timer) clearTimeout(lease.timer);
    for (const consumer of state.consumers) consumer.isClosed = true;
    state.consumers.clear();
  }

  private pump(state: QueueState): void {
    state.isPumpScheduled = false;
    if (!this.deps.isOpen()) return;
    const open = [...state.consumers].filter((c) => !c.isClosed && c.active < c.maxInflight);
    let free = 0;
    for (const c of open) free += c.maxInflight - c.active;
    if (free === 0) return;
    const now = Date.now();
    const picked: { key: StoreKey; callId: string }[] = [];
    for (let p = MAX_PRIORITY; p >= MIN_PRIORITY && picked.length < free; p--) {
      // A priority with no unfinished call has no index entries: no range to open (most pumps).
      if (state.depthByPriority[p] <= 0) continue;
      const band = MAX_PRIORITY - p;
      for (const { key, value } of this.deps.store.range<string>('ready', { start: [state.name, band], end: [state.name, band, now + 1] })) {
        if (state.leases.has(value)) continue;
        picked.push({ key, callId: value });
        if (picked.length >= free) break;
      }
    }
    let turn = 0;
    const handOuts: HandOut[] = [];
    // Read by the deliveries' countKept(), set once the turn's counts are written (below).
    let kept = KEPT;
    const countKept = (): Promise<void> => kept;
    for (const { key, callId } of picked) {
      if (!this.deps.isOpen()) return;
      const row = this.deps.store.get<StoredMessage>('messages', callId);
      if (!row || !sameKey(readyKey(row), key)) {
        // An index entry without its message cannot be delivered; drop it so it stops costing scans.
        void this.deps.store.write([{ table: 'ready', key }]).catch((err: unknown) => this.deps.logger.warn({ err }, 'dropping orphan index entry failed'));
        continue;
      }
      let consumer: ConsumerState | undefined;
      for (let i = 0; i < open.length && !consumer; i++) {
        const c = open[(turn + i) % open.length];
        if (!c.isClosed && c.active < c.maxInflight) consumer = c;
      }
      if (!consumer) break;
      turn++;
      handOuts.push(this.deliver(state, consumer, row, countKept));
    }
    if (handOuts.length > 0) {
      kept = this.keepCounts(handOuts);
      this.give(handOuts);
    }
    if (picked.length < free) this.armWake(state, now);
  }

  /**
   * Commits the delivery counts of one pump turn in one batch, not awaited here: the deliveries go
   * to their consumers at once and each awaits countKept() before its function runs, so a
   * consumer's own first write (the `running` record) lands in the same LMDB commit instead of
   * queueing behind it. Committed is enough (no flush): a commit survives a process crash. A store
   * that does not outlive the process (memory) has no crash to count across.
   */
  private keepCounts(handOuts: readonly HandOut[]): Promise<void> {
    if (!this.deps.store.isDurable) return KEPT;
    const writes: StoreWrite[] = handOuts.map((h) => ({ table: 'delivered', key: h.callId, value: h.delivered }));
    const kept = this.deps.store.write(writes, { isVisibleOnly: true }).catch((err: unknown) => {
      // The consumers do not run these calls; their leases run out and they are delivered again.
      this.deps.logger.error({ err, calls: handOuts.length }, 'recording deliveries failed; the calls are delivered again after their lease');
      throw new FaasqError('E_QUEUE_UNAVAILABLE', `recording the delivery failed: ${(err as Error).message}`, { cause: err });
    });
    // Handled by each consumer that awaits it; one that settles without running never asks.
    kept.catch(() => undefined);
    return kept;
  }

  private give(handOuts: readonly HandOut[]): void {
    for (const h of handOuts) {
      try {
        h.consumer.handler(h.delivery);
      } catch (err) {
        this.deps.logger.error({ err, callId: h.callId }, 'queue consumer handler threw');
      }
    }
  }

  private deliver(state: QueueState, consumer: ConsumerState, row: StoredMessage, countKept: () => Promise<void>): HandOut {
    const callId = row.message.callId;
    const stored = this.deps.store.get<DeliveredRow>('delivered', callId);
    const crashed = stored !== undefined && stored.seq === row.seq ? stored.count : 0;
    const deliveryCount = Math.max(row.deliveries, crashed, this.expiredCounts.get(callId) ?? 0) + 1;
    const lease: Lease = { callId, queue: state, consumer, deliveryCount, hasSlot: true, isSettled: false, isCancelled: false, row, hasExpired: false };
    lease.timer = setTimeout(() => this.expire(lease), this.deps.leaseMs);
    lease.timer.unref();
    state.leases.set(callId, lease);
    consumer.active++;
    const message = { ...row.message, body: asBuffer(row.message.body) };
    const delivery: Delivery = {
      message,
      deliveryCount,
      countKept,
      extend: () => {
        if (!lease.isSettled && state.leases.get(callId) === lease) lease.timer?.refresh();
      },
      ack: () => this.settle(lease, { kind: 'ack' }),
      retry: (delayMs) => this.settle(lease, { kind: 'retry', delayMs }),
      deadLetter: (info) => this.settle(lease, { kind: 'deadLetter', status: info.status, error: info.error }),
      release: () => this.settle(lease, { kind: 'release' }),
      record: async () => {
        const record = this.deps.store.get<CallRecord>('records', callId);
        return record ? { ...record } : undefined;
      },
      complete: async (patch, result, guard) => {
        let final: FinalWrites | undefined;
        await this.settle(lease, { kind: 'ack' }, () => {
          final = this.deps.finalWrites(callId, patch, result, guard);
          return final.writes;
        });
        return final?.record ? { ...final.record } : undefined;
      },
    };
    return { callId, consumer, delivery, delivered: { seq: row.seq, count: deliveryCount } };
  }

  private expire(lease: Lease): void {
    const state = lease.queue;
    if (lease.isSettled || state.leases.get(lease.callId) !== lease) return;
    state.leases.delete(lease.callId);
    lease.hasExpired = true;
    this.freeSlot(lease);
    if (!lease.isCancelled) this.expiredCounts.set(lease.callId, lease.deliveryCount);
    this.schedulePump(state);
  }

  private freeSlot(lease: Lease): void {
    if (!lease.hasSlot) return;
    lease.hasSlot = false;
    lease.consumer.active--;
  }

  private async settle(lease: Lease, settlement: Settlement, extra?: ExtraWrites): Promise<void> {
    if (lease.isSettled) return this.writeAlone(lease.callId, extra);
    if (!this.deps.isOpen()) throw new FaasqError('E_QUEUE_UNAVAILABLE', 'the queue is closed');
    lease.isSettled = true;
    if (lease.timer) clearTimeout(lease.timer);
    const state = lease.queue;
    const { callId } = lease;
    const holder = state.leases.get(callId);
    this.freeSlot(lease);
    // A late settlement of an expired lease still counts unless the call went to someone else.
    if (holder !== undefined && holder !== lease) return this.writeAlone(callId, extra);
    if (lease.isCancelled) {
      state.leases.delete(callId);
      this.schedulePump(state);
      return this.writeAlone(callId, extra);
    }
    state.leases.set(callId, lease);
    try {
      await this.deps.locks.run(callId, () => this.writeSettlement(state, lease, settlement, extra));
    } finally {
      if (state.leases.get(callId) === lease) state.leases.delete(callId);
      this.schedulePump(state);
    }
  }

  /** Extra writes of a settlement that has nothing left to settle (settled, cancelled, or taken over). */
  private async writeAlone(callId: string, extra: ExtraWrites | undefined): Promise<void> {
    if (!extra) return;
    await this.deps.locks.run(callId, async () => {
      const writes = extra();
      if (writes.length > 0) await this.deps.store.write(writes);
    });
  }

  private async writeSettlement(state: QueueState, lease: Lease, settlement: Settlement, extra: ExtraWrites | undefined): Promise<void> {
    // Only this lease's own settlement or a cancel (flagged) changes a leased row, so the delivered
    // row is still the stored one unless the lease ran out and another delivery may have settled it.
    const row = lease.hasExpired ? this.deps.store.get<StoredMessage>('messages', lease.callId) : lease.row;
    const writes: StoreWrite[] = extra ? [...extra()] : [];
    if (!row || lease.isCancelled) {
      if (writes.length > 0) await this.deps.store.write(writes);
      return;
    }
    const oldKey = readyKey(row);
    const { priority } = row.message;
    let depthDelta = 0;
    let isDead = false;
    if (settlement.kind === 'ack' || settlement.kind === 'deadLetter') {
      writes.push({ table: 'messages', key: lease.callId }, { table: 'ready', key: oldKey }, { table: 'delivered', key: lease.callId });
      depthDelta = -1;
      if (settlement.kind === 'deadLetter') {
        isDead = true;
        const record = this.deps.store.get<CallRecord>('records', lease.callId);
        const dead: DeadLetter = {
          callId: lease.callId,
          queue: row.message.queue,
          function: row.message.function,
          namespace: row.message.namespace,
          deadAt: new Date().toISOString(),
          attempts: record?.attempts ?? lease.deliveryCount,
          ...(settlement.status !== undefined ? { lastStatus: settlement.status } : {}),
          ...(settlement.error !== undefined ? { lastError: settlement.error } : {}),
          message: row.message,
        };
        writes.push({ table: 'dead', key: lease.callId, value: dead });
      }
    } else if (settlement.kind === 'retry') {
      const delayMs = Number.isFinite(settlement.delayMs) ? Math.max(0, settlement.delayMs) : 0;
      const next: StoredMessage = { ...row, seq: this.deps.nextSeq(), readyAt: Date.now() + delayMs, deliveries: lease.deliveryCount };
      writes.push({ table: 'ready', key: oldKey }, { table: 'messages', key: lease.callId, value: next }, { table: 'ready', key: readyKey(next), value: lease.callId });
    } else {
      // release keeps the call's place at the front of its queue.
      writes.push({ table: 'messages', key: lease.callId, value: { ...row, deliveries: lease.deliveryCount } });
    }
    await this.deps.store.write(writes);
    this.expiredCounts.delete(lease.callId);
    if (depthDelta !== 0) this.deps.addDepth(state, priority, depthDelta);
    if (isDead) state.deadLetters++;
  }

  private armWake(state: QueueState, now: number): void {
    let earliest = Infinity;
    for (let band = 0; band <= MAX_PRIORITY - MIN_PRIORITY; band++) {
      if (state.depthByPriority[MAX_PRIORITY - band] <= 0) continue;
      for (const key of this.deps.store.keys('ready', { start: [state.name, band, now + 1], end: [state.name, band, Number.MAX_SAFE_INTEGER], limit: 1 })) {
        const readyAt = (key as readonly (string | number)[])[2] as number;
        if (readyAt < earliest) earliest = readyAt;
      }
    }
    if (earliest === Infinity || (state.wakeTimer && state.wakeAt <= earliest)) return;
    this.clearWake(state);
    state.wakeAt = earliest;
    state.wakeTimer = setTimeout(() => {
      state.wakeTimer = undefined;
      state.wakeAt = Infinity;
      this.schedulePump(state);
      // A timer longer than 2^31-1 ms fires at once: far-off calls wake the pump at most that late, and it re-arms.
    }, Math.min(MAX_TIMER_MS, Math.max(0, earliest - Date.now()) + 1));
    state.wakeTimer.unref();
  }

  private clearWake(state: QueueState): void {
    if (state.wakeTimer) clearTimeout(state.wakeTimer);
    state.wakeTimer = undefined;
    state.wakeAt = Infinity;
  }
}
