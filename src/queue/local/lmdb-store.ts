// QueueStore on LMDB (package lmdb): the `embedded` backend's disk. Every table is a named
// database in one environment, so one batch spans tables atomically; write() resolves after the
// batch is committed AND flushed to disk (overlapping sync, never noSync). Concurrent batches
// share one commit, which is what makes durable enqueues cheap.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { FaasqError } from '../../shared/errors.js';
import { PRIVATE_DIR_MODE, withOwnerOnlyUmask } from '../../shared/private-files.js';
import { claimDirectory } from './owner-lock.js';
import { TABLE_NAMES, type QueueStore, type RangeOptions, type StoreKey, type StoreWrite, type TableName } from './store.js';

type Key = string | number | (string | number)[];

export class LmdbStore implements QueueStore {
  readonly isDurable = true;
  private root: RootDatabase | undefined;
  private release: (() => void) | undefined;
  private readonly dbs = new Map<TableName, Database<unknown, Key>>();

  constructor(private readonly dir: string) {}

  async open(): Promise<void> {
    try {
      mkdirSync(this.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
      accessSync(this.dir, constants.W_OK);
    } catch (err) {
      throw new FaasqError('E_DATA_DIR', `queue data directory ${this.dir} is not writable: ${(err as Error).message}`, { cause: err });
    }
    try {
      this.release = claimDirectory(this.dir);
    } catch (err) {
      if (err instanceof FaasqError) throw err;
      throw new FaasqError('E_DATA_DIR', `cannot claim queue data directory ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
    try {
      // separateFlushed: each commit promise carries its own flush promise, so a caller waits for
      // the flush of its own transaction, not of whichever batch is newest (overlapping sync stays on).
      // remapChunks maps the file in chunks on demand: about half the file-backed RSS of one big map
      // on a store with random keys (measured; see bench/queue-engine.ts).
      // LMDB takes no file mode (it creates data.mdb and lock.mdb 0664 less the umask): the stored
      // calls hold bodies and tokens, so the files are created under an owner-only umask.
      const root = withOwnerOnlyUmask(() => open({ path: this.dir, maxDbs: 16, separateFlushed: true, remapChunks: true }));
      this.root = root;
      for (const name of TABLE_NAMES) this.dbs.set(name, root.openDB<unknown, Key>({ name }));
      // A first durable write proves the disk takes writes (full disk, read-only mount) before we accept calls.
      await root.put('faasq.openedAt', Date.now());
      await root.flushed;
    } catch (err) {
      await this.close().catch(() => undefined);
      throw new FaasqError('E_DATA_DIR', `cannot open the queue store in ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  get<T>(table: TableName, key: StoreKey): T | undefined {
    return this.db(table).get(key as Key) as T | undefined;
  }

  range<T>(table: TableName, options: RangeOptions): Iterable<{ key: StoreKey; value: T }> {
    return this.db(table).getRange({ start: options.start as Key, end: options.end as Key, limit: options.limit }) as Iterable<{ key: StoreKey; value: T }>;
  }

  keys(table: TableName, options: RangeOptions): Iterable<StoreKey> {
    return this.db(table).getKeys({ start: options.start as Key, end: options.end as Key, limit: options.limit }) as Iterable<StoreKey>;
  }

  count(table: TableName, options: RangeOptions): number {
    return this.db(table).getKeysCount({ start: options.start as Key, end: options.end as Key, limit: options.limit });
  }

  async write(writes: readonly StoreWrite[], options: { isVisibleOnly?: boolean } = {}): Promise<void> {
    const root = this.root;
    if (!root) throw new FaasqError('E_QUEUE_UNAVAILABLE', 'the queue store is closed');
    // batch() keeps the writes in one transaction; lmdb batches concurrent batches into one commit.
    const committed = root.batch(() => {
      for (const w of writes) {
        const db = this.db(w.table);
        if (w.value === undefined) void db.remove(w.key as Key);
        else void db.put(w.key as Key, w.value);
      }
    }) as Promise<boolean> & { flushed?: PromiseLike<void> };
    await committed;
    if (!options.isVisibleOnly) await (committed.flushed ?? root.flushed);
  }

  async close(): Promise<void> {
    const root = this.root;
    const release = this.release;
    this.root = undefined;
    this.release = undefined;
    this.dbs.clear();
    if (root) await root.close();
    release?.();
  }

  private db(table: TableName): Database<unknown, Key> {
    const db = this.dbs.get(table);
    if (!db) throw new FaasqError('E_QUEUE_UNAVAILABLE', 'the queue store is closed');
    return db;
  }
}
