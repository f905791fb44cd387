// Ingestion and processing rate per queue for GET /system/queues, counted from this process's
// events over a sliding window. Each process reports what it saw: a gateway counts the calls it
// accepted, and processing only when a worker runs in the same process (else processRate is null,
// because 0 would claim nothing is being processed).
import type { EventBus } from '../shared/events.js';

export interface QueueRateSnapshot {
  /** Calls accepted into this queue by this process since it started (duplicates not counted). */
  readonly submittedTotal: number;
  /** Calls finished (succeeded, failed, dead-lettered) by a worker in this process; null without one. */
  readonly processedTotal: number | null;
  /** Accepted calls per second over the window. */
  readonly ingestRate: number;
  /** Finished calls per second over the window; null when no worker in this process consumes the queue. */
  readonly processRate: number | null;
  readonly rateWindowSeconds: number;
}

export interface QueueRates {
  snapshot(queue: string): QueueRateSnapshot;
  close(): void;
}

export interface QueueRatesOptions {
  /** Length of the sliding window; default 60 s. */
  readonly windowMs?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

const BUCKET_MS = 1000;
const DEFAULT_WINDOW_MS = 60_000;

/** Counts per one-second bucket in a ring; buckets are cleared lazily as time moves past them. */
class WindowCounter {
  total = 0;
  private readonly counts: number[];
  private readonly stamps: number[];

  constructor(private readonly buckets: number) {
    this.counts = new Array<number>(buckets).fill(0);
    this.stamps = new Array<number>(buckets).fill(-1);
  }

  add(nowMs: number): void {
    const slot = Math.floor(nowMs / BUCKET_MS);
    const i = slot % this.buckets;
    if (this.stamps[i] !== slot) {
      this.stamps[i] = slot;
      this.counts[i] = 0;
    }
    this.counts[i]++;
    this.total++;
  }

  /** Events in the last `buckets` seconds, the current (partial) second included. */
  inWindow(nowMs: number): number {
    const slot = Math.floor(nowMs / BUCKET_MS);
    let sum = 0;
    for (let i = 0; i < this.buckets; i++) if (this.stamps[i] > slot - this.buckets) sum += this.counts[i];
    return sum;
  }
}

export function createQueueRates(events: EventBus, options: QueueRatesOptions = {}): QueueRates {
  const now = options.now ?? Date.now;
  const windowMs = Math.max(BUCKET_MS, options.windowMs ?? DEFAULT_WINDOW_MS);
  const buckets = Math.ceil(windowMs / BUCKET_MS);
  const startedAt = now();
  const submitted = new Map<string, WindowCounter>();
  const processed = new Map<string, WindowCounter>();
  // undefined: no local worker; 'all': one consumes every queue; else the named ones.
  let workerQueues: Set<string> | 'all' | undefined;

  const counter = (map: Map<string, WindowCounter>, queue: string): WindowCounter => {
    let c = map.get(queue);
    if (!c) map.set(queue, (c = new WindowCounter(buckets)));
    return c;
  };
  const finished = (e: { queue: string }): void => counter(processed, e.queue).add(now());

  const offs = [
    events.on('call.accepted', (e) => { if (!e.isDuplicate) counter(submitted, e.queue).add(now()); }),
    events.on('call.succeeded', finished),
    events.on('call.failed', finished),
    events.on('call.dead_lettered', finished),
    events.on('worker.started', (e) => {
      if (!e.queues || workerQueues === 'all') workerQueues = 'all';
      else workerQueues = new Set([...(workerQueues ?? []), ...e.queues]);
    }),
  ];

  const hasWorker = (queue: string): boolean => workerQueues === 'all' || (workerQueues?.has(queue) ?? false);

  return {
    snapshot(queue) {
      const t = now();
      // A young process has not seen a whole window yet: divide by what it has seen (at least 1 s).
      const seconds = Math.max(BUCKET_MS, Math.min(windowMs, t - startedAt)) / 1000;
      const s = submitted.get(queue);
      const p = processed.get(queue);
      const isLocal = hasWorker(queue) || p !== undefined;
      return {
        submittedTotal: s?.total ?? 0,
        processedTotal: isLocal ? p?.total ?? 0 : null,
        ingestRate: round(s ? s.inWindow(t) / seconds : 0),
        processRate: isLocal ? round(p ? p.inWindow(t) / seconds : 0) : null,
        rateWindowSeconds: windowMs / 1000,
      };
    },
    close() {
      for (const off of offs) off();
    },
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
