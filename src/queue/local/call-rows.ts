// The rows the local queue engine keeps per call and the index keys derived from them, in one
// place so every write that touches a call updates its indexes the same way.
import { FINAL_STATES, MAX_PRIORITY, MIN_PRIORITY, type CallMessage, type CallRecord, type CallState } from '../queue.js';
import type { StoreKey } from './store.js';

/** A queued message plus its position in the ready index. */
export interface StoredMessage {
  readonly message: CallMessage;
  readonly seq: number;
  /** Epoch ms from which the call may be delivered (notBefore, enqueue or retry time). */
  readonly readyAt: number;
  /** Deliveries handed out before this one (survives retry and release; a crash mid-lease: see DeliveredRow). */
  readonly deliveries: number;
}

/**
 * The `delivered` table's row of a call (key: its id): how many times the message stored at `seq`
 * has been handed out. Committed before each delivery's function runs (the consumer awaits
 * Delivery.countKept), so a redelivery after a crash (kill -9) mid-lease still counts the delivery
 * the crash cut short.
 */
export interface DeliveredRow {
  readonly seq: number;
  readonly count: number;
}

export function clampPriority(priority: number): number {
  if (!Number.isFinite(priority)) return MIN_PRIORITY;
  return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, Math.trunc(priority)));
}

/** Ready index key: per queue, higher priority first, then ready time, then sequence. */
export function readyKey(row: StoredMessage): StoreKey {
  return [row.message.queue, MAX_PRIORITY - row.message.priority, row.readyAt, row.seq];
}

export function isFinalState(state: CallState): boolean {
  return FINAL_STATES.includes(state);
}

/** Finished index key (for the retention sweep), or undefined while the call is unfinished. */
export function finishedKey(record: CallRecord): StoreKey | undefined {
  if (!isFinalState(record.state)) return undefined;
  const at = Date.parse(record.finishedAt ?? record.updatedAt);
  return [Number.isFinite(at) ? at : 0, record.callId];
}

export function sameKey(a: StoreKey | undefined, b: StoreKey | undefined): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function newRecord(message: CallMessage, nowMs: number): CallRecord {
  const iso = new Date(nowMs).toISOString();
  const record: CallRecord = {
    callId: message.callId,
    function: message.function,
    namespace: message.namespace,
    queue: message.queue,
    priority: message.priority,
    state: 'queued',
    attempts: 0,
    acceptedAt: new Date(message.enqueuedAt).toISOString(),
    updatedAt: iso,
    hasResult: false,
  };
  if (message.notBefore !== undefined) record.notBefore = new Date(message.notBefore).toISOString();
  if (message.expiresAt !== undefined) record.expiresAt = new Date(message.expiresAt).toISOString();
  if (message.isPrivate) record.isPrivate = true;
  return record;
}

/** Stores may hand binary back as Uint8Array; callers get Buffers. */
export function asBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.alloc(0);
}
