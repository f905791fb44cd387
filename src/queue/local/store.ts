// The storage seam under the local queue engine: a few ordered key-value tables with atomic,
// durable batch writes. The engine owns every rule (leases, ordering, dedupe); a store only keeps
// bytes, so memory and LMDB behave the same by construction.

/** Keys are strings or tuples; tuples order element by element (numbers before strings, prefix first). */
export type StoreKey = string | number | readonly (string | number)[];

export type TableName = 'records' | 'messages' | 'ready' | 'finished' | 'results' | 'dead' | 'queues' | 'delivered';
export const TABLE_NAMES: readonly TableName[] = ['records', 'messages', 'ready', 'finished', 'results', 'dead', 'queues', 'delivered'];

/** One write in a batch: a put when `value` is present, a remove otherwise. */
export interface StoreWrite {
  readonly table: TableName;
  readonly key: StoreKey;
  readonly value?: unknown;
}

export interface RangeOptions {
  /** Inclusive. */
  readonly start?: StoreKey;
  /** Exclusive. */
  readonly end?: StoreKey;
  readonly limit?: number;
}

export interface QueueStore {
  /** Whether what it keeps outlives the process (false: memory, where nothing survives a crash). */
  readonly isDurable: boolean;
  open(): Promise<void>;
  /** Reads see every write whose write() promise has resolved. */
  get<T>(table: TableName, key: StoreKey): T | undefined;
  range<T>(table: TableName, options: RangeOptions): Iterable<{ key: StoreKey; value: T }>;
  keys(table: TableName, options: RangeOptions): Iterable<StoreKey>;
  /** Number of keys in the range, without decoding them (stats). */
  count(table: TableName, options: RangeOptions): number;
  /** Applies every write atomically; resolves only once the batch is durable. */
  /**
   * Applies the writes atomically. Resolves once they are durable, or, with `isVisibleOnly`, once
   * they are committed and visible to reads but maybe not yet flushed: such a write becomes durable
   * with any later durable write (commits are flushed in order).
   */
  write(writes: readonly StoreWrite[], options?: { isVisibleOnly?: boolean }): Promise<void>;
  close(): Promise<void>;
}

function compareScalar(a: string | number, b: string | number): number {
  if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
  return typeof a === 'number' ? -1 : 1;
}

/** The order LMDB's ordered-binary keys use for the key shapes the engine writes. */
export function compareKeys(a: StoreKey, b: StoreKey): number {
  const left = Array.isArray(a) ? (a as readonly (string | number)[]) : [a as string | number];
  const right = Array.isArray(b) ? (b as readonly (string | number)[]) : [b as string | number];
  const n = Math.min(left.length, right.length);
  for (let i = 0; i < n; i++) {
    const c = compareScalar(left[i], right[i]);
    if (c !== 0) return c;
  }
  return left.length - right.length;
}
