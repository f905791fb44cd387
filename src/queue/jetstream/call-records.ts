// Call records in a KV bucket: create is first-writer-wins (the long dedupe), updates are
// compare-and-set on the entry's revision so concurrent workers and cancels never lose a patch.
import type { KV } from '@nats-io/kv';
import { FaasqError } from '../../shared/index.js';
import type { CallMessage, CallRecord, CallState } from '../queue.js';
import { decodeRecord, encodeRecord } from './codec.js';
import { isWrongLastSequenceError } from './jetstream-errors.js';
import type { JetStreamNames } from './names.js';

const MAX_UPDATE_TRIES = 20;

export const LIVE_STATES: readonly CallState[] = ['queued', 'running', 'retrying'];

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** JSON round trip: what a reader gets back (undefined fields dropped). */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function newRecord(m: CallMessage): CallRecord {
  return plain({
    callId: m.callId,
    function: m.function,
    namespace: m.namespace,
    queue: m.queue,
    priority: m.priority,
    state: 'queued' as const,
    attempts: 0,
    acceptedAt: new Date(m.enqueuedAt).toISOString(),
    notBefore: iso(m.notBefore),
    expiresAt: iso(m.expiresAt),
    updatedAt: new Date().toISOString(),
    hasResult: false,
    callback: m.callbackUrl ? { url: m.callbackUrl, state: 'pending' as const, attempts: 0 } : undefined,
  });
}

export interface CallRecords {
  read(callId: string): Promise<{ record: CallRecord; revision: number } | undefined>;
  /** Resolves with the revision; throws a wrong-last-sequence error when the key is live. */
  create(record: CallRecord): Promise<number>;
  /** Replaces the record at `revision` (or creates it when undefined). */
  replace(record: CallRecord, revision: number | undefined): Promise<number>;
  put(record: CallRecord): Promise<void>;
  /** Removes the record only if still at `revision` (rollback of a failed enqueue). */
  remove(callId: string, revision: number): Promise<void>;
  patch(callId: string, patch: Partial<CallRecord>, ifStateIn?: readonly CallState[]): Promise<CallRecord | undefined>;
}

export function createCallRecords(kv: KV, names: JetStreamNames): CallRecords {
  const records: CallRecords = {
    async read(callId) {
      const entry = await kv.get(names.key(callId));
      if (!entry || entry.operation !== 'PUT') return undefined;
      return { record: decodeRecord(entry.value), revision: entry.revision };
    },
    create: (record) => kv.create(names.key(record.callId), encodeRecord(record)),
    replace: (record, revision) =>
      revision === undefined ? kv.create(names.key(record.callId), encodeRecord(record)) : kv.update(names.key(record.callId), encodeRecord(record), revision),
    async put(record) {
      await kv.put(names.key(record.callId), encodeRecord(record));
    },
    async remove(callId, revision) {
      await kv.delete(names.key(callId), { previousSeq: revision });
    },
    async patch(callId, patch, ifStateIn) {
      for (let i = 0; i < MAX_UPDATE_TRIES; i++) {
        const current = await records.read(callId);
        if (!current) return undefined;
        if (ifStateIn && !ifStateIn.includes(current.record.state)) return undefined;
        const next = plain({ ...current.record, ...patch, callId, updatedAt: new Date().toISOString() });
        try {
          await kv.update(names.key(callId), encodeRecord(next), current.revision);
          return next;
        } catch (err) {
          if (!isWrongLastSequenceError(err)) throw err;
        }
      }
      throw new FaasqError('E_CONFLICT', `call record ${callId} kept changing; update gave up`);
    },
  };
  return records;
}
