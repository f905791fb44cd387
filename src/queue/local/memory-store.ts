// QueueStore kept in process memory: the `memory` backend, same engine and semantics as the
// embedded one, nothing on disk. Ordered tables keep a sorted key array beside the map.
import { compareKeys, TABLE_NAMES, type QueueStore, type RangeOptions, type StoreKey, type StoreWrite, type TableName } from './store.js';

const ORDERED_TABLES: ReadonlySet<TableName> = new Set(['ready', 'finished', 'dead', 'queues']);

interface Table {
  readonly values: Map<string, { key: StoreKey; value: unknown }>;
  /** Present for ordered tables only. */
  readonly sorted?: StoreKey[];
}

function keyId(key: StoreKey): string {
  return JSON.stringify(key);
}

/** First index whose key is >= `key`. */
function lowerBound(sorted: readonly StoreKey[], key: StoreKey): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(sorted[mid], key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class MemoryStore implements QueueStore {
  readonly isDurable = false;
  private readonly tables = new Map<TableName, Table>();

  constructor() {
    for (const name of TABLE_NAMES) {
      this.tables.set(name, { values: new Map(), sorted: ORDERED_TABLES.has(name) ? [] : undefined });
    }
  }

  async open(): Promise<void> {}

  get<T>(table: TableName, key: StoreKey): T | undefined {
    return this.table(table).values.get(keyId(key))?.value as T | undefined;
  }

  *range<T>(table: TableName, options: RangeOptions): Iterable<{ key: StoreKey; value: T }> {
    const t = this.table(table);
    for (const key of this.keys(table, options)) {
      const entry = t.values.get(keyId(key));
      if (entry) yield { key, value: entry.value as T };
    }
  }

  *keys(table: TableName, options: RangeOptions): Iterable<StoreKey> {
    const { sorted } = this.table(table);
    if (!sorted) throw new Error(`memory store: table ${table} is not ordered`);
    // Lazy, like an LMDB cursor: callers finish a synchronous walk before any write lands.
    const from = options.start === undefined ? 0 : lowerBound(sorted, options.start);
    const to = options.end === undefined ? sorted.length : lowerBound(sorted, options.end);
    const stop = Math.min(to, from + (options.limit ?? Infinity));
    for (let i = from; i < stop; i++) yield sorted[i];
  }

  count(table: TableName, options: RangeOptions): number {
    const { sorted } = this.table(table);
    if (!sorted) return this.table(table).values.size;
    const from = options.start === undefined ? 0 : lowerBound(sorted, options.start);
    const to = options.end === undefined ? sorted.length : lowerBound(sorted, options.end);
    return Math.max(0, Math.min(to - from, options.limit ?? Infinity));
  }

  async write(writes: readonly StoreWrite[]): Promise<void> {
    for (const w of writes) {
      const t = this.table(w.table);
      const id = keyId(w.key);
      const had = t.values.has(id);
      if (w.value === undefined) {
        if (!had) continue;
        t.values.delete(id);
        if (t.sorted) t.sorted.splice(lowerBound(t.sorted, w.key), 1);
      } else {
        t.values.set(id, { key: w.key, value: w.value });
        if (t.sorted && !had) t.sorted.splice(lowerBound(t.sorted, w.key), 0, w.key);
      }
    }
  }

  async close(): Promise<void> {}

  private table(name: TableName): Table {
    const t = this.tables.get(name);
    if (!t) throw new Error(`memory store: unknown table ${name}`);
    return t;
  }
}
