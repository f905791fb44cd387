// Call records in a KV bucket: create is first-writer-wins (the long dedupe), updates are
// compare-and-set on the entry's revision so concurrent workers and cancels never lose a patch.
// The last revision this process read or wrote is remembered, so a patch is one KV request (the
// compare-and-set) instead of a read plus the update; a stale one only costs a failed CAS and a read.
// A call accepted with a generated id has no entry until its first update: its record is derived
// from its queued message (state queued) at "revision" 0 (or the revision of a delete marker), so
// that first update is a create-if-absent and loses to anyone who wrote the record first.
import type { KV } from '@nats-io/kv';
import { FaasqError } from '../../shared/index.js';
import { applyPatch } from '../record-patch.js';
import { FINAL_STATES, type CallMessage, type CallRecord, type CallState, type RecordGuard } from '../queue.js';
import { decodeRecordEntry, encodeRecord } from './codec.js';
import { isWrongLastSequenceError } from './jetstream-errors.js';
import type { JetStreamNames } from './names.js';
import type { WriteBatcher } from './write-batcher.js';

const MAX_UPDATE_TRIES = 20;
/** After the third failed compare-and-set of one patch, the wait before the next grows by this much each time (about 5 s in all). */
const CONFLICT_WAIT_MS = 25;
/** Records whose revision is remembered; the oldest is forgotten first (a miss costs one read). */
const MAX_KNOWN_RECORDS = 20_000;

export const LIVE_STATES: readonly CallState[] = ['queued', 'running', 'retrying'];

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** JSON round trip: what a reader gets back (undefined fields dropped). */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function newRecord(m: CallMessage): CallRecord {
  // Built without undefined fields (what a reader gets back) and without plain()'s JSON round trip.
  const now = Date.now();
  const acceptedAt = new Date(m.enqueuedAt).toISOString();
  const record: CallRecord = {
    callId: m.callId,
    function: m.function,
    namespace: m.namespace,
    queue: m.queue,
    priority: m.priority,
    state: 'queued',
    attempts: 0,
    acceptedAt,
    updatedAt: now - m.enqueuedAt < 1 ? acceptedAt : new Date(now).toISOString(),
    hasResult: false,
  };
  if (m.notBefore !== undefined) record.notBefore = iso(m.notBefore);
  if (m.expiresAt !== undefined) record.expiresAt = iso(m.expiresAt);
  if (m.callbackUrl) record.callback = { url: m.callbackUrl, state: 'pending', attempts: 0 };
  if (m.isPrivate) record.isPrivate = true;
  return record;
}

export interface StoredRecord {
  readonly record: CallRecord;
  readonly revision: number;
  /** The encoded result stored in the record's entry (encodeResult), when it is there. */
  readonly inlineResult?: Uint8Array;
}

export interface CallRecords {
  /** The stored record, else the one derived from the queued message (found by derive()). */
  read(callId: string): Promise<StoredRecord | undefined>;
  /** The stored record, else the one derived from this message (no search). */
  readFor(message: CallMessage): Promise<StoredRecord>;
  /** Without I/O: the remembered record, else the one derived from the message (a first delivery). */
  assume(message: CallMessage): CallRecord;
  /** Resolves with the revision; throws a wrong-last-sequence error when the key is live. */
  create(record: CallRecord): Promise<number>;
  /** Replaces the record at `revision` (or creates it when undefined). */
  replace(record: CallRecord, revision: number | undefined): Promise<number>;
  put(record: CallRecord): Promise<void>;
  /** The record as this process last read or wrote it (may be stale; never a guard on its own). */
  known(callId: string): CallRecord | undefined;
  /** Removes the record only if still at `revision` (rollback of a failed enqueue). */
  remove(callId: string, revision: number): Promise<void>;
  /** Kept inline results stay; `inlineResult` stores a new one with the patch in the same write. */
  patch(callId: string, patch: Partial<CallRecord>, guard?: RecordGuard, inlineResult?: Uint8Array): Promise<CallRecord | undefined>;
}

/** Finds a queued call's message by id (any queue, any priority); undefined when none is queued. */
export type FindQueued = (callId: string) => Promise<CallMessage | undefined>;

/** Writes one KV entry (a publish to the bucket's key subject), compare-and-set on the previous revision; resolves with the new one. */
export type KvWrite = (key: string, data: Uint8Array, previousRevision: number) => Promise<number>;

export function createCallRecords(kv: KV, names: JetStreamNames, findQueued: FindQueued, batch: WriteBatcher, write: KvWrite): CallRecords {
  // Two generations: lookups try both, writes go to the young one, and when it is full the old one
  // is dropped whole (O(1); evicting single oldest entries from a Map degrades with its holes).
  // Inline result bytes are not kept in memory: a patch of a record known to carry one reads it first.
  type Known = { readonly record: CallRecord; readonly revision: number; readonly hasInlineResult: boolean };
  let young = new Map<string, Known>();
  let old = new Map<string, Known>();
  const known = {
    get: (callId: string): Known | undefined => young.get(callId) ?? old.get(callId),
    delete(callId: string): void {
      young.delete(callId);
      old.delete(callId);
    },
  };
  const remember = (record: CallRecord, revision: number, inlineResult?: Uint8Array): void => {
    old.delete(record.callId);
    young.set(record.callId, { record, revision, hasInlineResult: inlineResult !== undefined });
    if (young.size >= MAX_KNOWN_RECORDS / 2) {
      old = young;
      young = new Map();
    }
  };
  /** The KV entry; a missing one is undefined, a delete marker its revision (what a create must expect). */
  const readStored = async (callId: string): Promise<StoredRecord | number | undefined> => {
    const entry = await batch(() => kv.get(names.key(callId)));
    if (!entry) return undefined;
    if (entry.operation !== 'PUT') return entry.revision;
    const { record, inlineResult } = decodeRecordEntry(entry.value);
    remember(record, entry.revision, inlineResult);
    return { record, revision: entry.revision, inlineResult };
  };
  const derived = (message: CallMessage, revision: number | undefined): StoredRecord => {
    const record = newRecord(message);
    remember(record, revision ?? 0);
    return { record, revision: revision ?? 0 };
  };
  const records: CallRecords = {
    async read(callId) {
      const stored = await readStored(callId);
      if (typeof stored === 'object') return stored;
      const message = await findQueued(callId);
      if (message) return derived(message, stored);
      known.delete(callId);
      return undefined;
    },
    async readFor(message) {
      const stored = await readStored(message.callId);
      return typeof stored === 'object' ? stored : derived(message, stored);
    },
    assume(message) {
      // A remembered queued record (accepted by this process) keeps its revision; anything else may
      // be a previous call under the same id, so the derived one goes first and the CAS decides.
      const remembered = known.get(message.callId);
      return remembered?.record.state === 'queued' ? remembered.record : derived(message, 0).record;
    },
    async create(record) {
      const revision = await batch(() => kv.create(names.key(record.callId), encodeRecord(record)));
      remember(record, revision);
      return revision;
    },
    async replace(record, revision) {
      // Revision 0 (or none) is a record derived from its message: nothing stored yet.
      const next = revision ? await kv.put(names.key(record.callId), encodeRecord(record), { previousSeq: revision }) : await kv.create(names.key(record.callId), encodeRecord(record));
      remember(record, next);
      return next;
    },
    async put(record) {
      remember(record, await kv.put(names.key(record.callId), encodeRecord(record)));
    },
    async remove(callId, revision) {
      known.delete(callId);
      await kv.delete(names.key(callId), { previousSeq: revision });
    },
    known: (callId) => known.get(callId)?.record,
    async patch(callId, patch, guard, inlineResult) {
      const ifStateIn = guard?.ifStateIn;
      for (let i = 0; i < MAX_UPDATE_TRIES; i++) {
        // A compare-and-set that keeps failing may be reading from a server that is behind (a
        // leader that was cut off answers until it learns it was replaced, a second or so): wait.
        if (i >= 3) await new Promise((resolve) => setTimeout(resolve, CONFLICT_WAIT_MS * i));
        // The remembered revision first; when its state fails the guard it may be stale, so read.
        const cached = i === 0 ? known.get(callId) : undefined;
        const isCachedUsable = cached !== undefined && (!ifStateIn || ifStateIn.includes(cached.record.state)) && (!cached.hasInlineResult || inlineResult !== undefined);
        const current: StoredRecord | undefined = isCachedUsable ? cached : await records.read(callId);
        if (!current) return undefined;
        if (ifStateIn && !ifStateIn.includes(current.record.state)) return undefined;
        const nowIso = patch.finishedAt ?? new Date().toISOString();
        const next = applyPatch(current.record, patch, nowIso, guard);
        if (next.finishedAt === undefined && FINAL_STATES.includes(next.state)) next.finishedAt = nowIso;
        try {
          const result = inlineResult ?? current.inlineResult;
          const data = encodeRecord(next, result);
          remember(next, await batch(() => write(names.key(callId), data, current.revision)), result);
          return next;
        } catch (err) {
          if (!isWrongLastSequenceError(err)) {
            known.delete(callId);
            throw err;
          }
        }
      }
      known.delete(callId);
      throw new FaasqError('E_CONFLICT', `call record ${callId} kept changing; update gave up`);
    },
  };
  return records;
}
