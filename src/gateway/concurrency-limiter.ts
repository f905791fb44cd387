// Gateway-level queueing for sync calls (seed 004): a function busy with maxConcurrent calls makes
// further callers wait in a bounded FIFO instead of failing at once. Pure admission logic, no HTTP.
import { FaasqError } from '../shared/errors.js';

export interface LimitSettings {
  /** Calls running at once; 0 = unlimited. */
  readonly maxConcurrent: number;
  /** Callers allowed to wait for a slot; beyond that they get E_CONCURRENCY_LIMIT at once. */
  readonly maxWaiting: number;
  /** How long a caller may wait for a slot before E_CONCURRENCY_LIMIT. */
  readonly maxWaitMs: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  isDone: boolean;
}

/** Smoothing for the average hold time used to estimate Retry-After. */
const HOLD_EWMA_WEIGHT = 0.2;

export class ConcurrencyLimiter {
  readonly settings: LimitSettings;
  private running = 0;
  private readonly waiters: Waiter[] = [];
  /** Index of the first live waiter; the array is compacted when it drains. */
  private head = 0;
  private avgHoldMs = 0;

  constructor(settings: LimitSettings) {
    this.settings = settings;
  }

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.waiters.length - this.head;
  }

  /** Takes a slot without waiting; false when none is free (or others are already waiting). */
  tryAcquire(): boolean {
    const max = this.settings.maxConcurrent;
    if (max === 0 || (this.running < max && this.waiting === 0)) {
      this.running++;
      return true;
    }
    return false;
  }

  /**
   * Resolves once the caller holds a slot (it must call release() exactly once afterwards).
   * Rejects with E_CONCURRENCY_LIMIT (Retry-After set) when the wait queue is full or the wait
   * exceeds maxWaitMs, and with the signal's reason when the caller goes away while waiting.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.waiting >= this.settings.maxWaiting) {
      return Promise.reject(this.limitError(`function is at its concurrency limit of ${this.settings.maxConcurrent} and ${this.waiting} calls are waiting`));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined, signal, onAbort: undefined, isDone: false };
      waiter.timer = setTimeout(() => {
        this.drop(waiter, this.limitError(`waited ${this.settings.maxWaitMs}ms for a free slot (concurrency limit ${this.settings.maxConcurrent})`));
      }, this.settings.maxWaitMs);
      if (signal) {
        waiter.onAbort = () => this.drop(waiter, signal.reason);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  /** Frees a slot; the oldest waiter (if any) takes it over. heldMs feeds the Retry-After estimate. */
  release(heldMs?: number): void {
    if (heldMs !== undefined && heldMs >= 0) {
      this.avgHoldMs = this.avgHoldMs === 0 ? heldMs : this.avgHoldMs + HOLD_EWMA_WEIGHT * (heldMs - this.avgHoldMs);
    }
    this.running--;
    while (this.head < this.waiters.length) {
      const next = this.waiters[this.head];
      this.waiters[this.head] = undefined as unknown as Waiter;
      this.head++;
      if (next.isDone) continue;
      this.settle(next);
      this.running++;
      next.resolve();
      break;
    }
    if (this.head === this.waiters.length) {
      this.waiters.length = 0;
      this.head = 0;
    }
  }

  /** Seconds a rejected caller should wait: the estimated time for the queue ahead to drain, at least 1. */
  retryAfterSeconds(): number {
    const max = Math.max(1, this.settings.maxConcurrent);
    const estimateMs = (this.avgHoldMs * (this.waiting + 1)) / max;
    return Math.max(1, Math.ceil(estimateMs / 1000));
  }

  private drop(waiter: Waiter, reason: unknown): void {
    if (waiter.isDone) return;
    this.settle(waiter);
    // Removed lazily from the array: release() skips done waiters; count them out of `waiting` now.
    const index = this.waiters.indexOf(waiter, this.head);
    if (index !== -1) this.waiters.splice(index, 1);
    waiter.reject(reason);
  }

  private settle(waiter: Waiter): void {
    waiter.isDone = true;
    if (waiter.timer) clearTimeout(waiter.timer);
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
  }

  private limitError(message: string): FaasqError {
    return new FaasqError('E_CONCURRENCY_LIMIT', message, {
      headers: { 'Retry-After': String(this.retryAfterSeconds()) },
      detail: { maxConcurrent: this.settings.maxConcurrent, waiting: this.waiting },
    });
  }
}
