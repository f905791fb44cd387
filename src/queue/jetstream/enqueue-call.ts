// The JetStream accept. A generated call id is unique, so its accept is one publish and the queued
// message stands for the call record until a worker writes one. A caller's own X-Call-Id is an
// idempotency key: its record is created first (first writer wins, beyond the stream's msgID
// window), a duplicate within the dedupe window answers with the existing call, and a still-queued
// call under that id (a client resubmitting the id it got back) is the original.
import type { JetStreamManager } from '@nats-io/jetstream';
import { FaasqError } from '../../shared/index.js';
import type { CallMessage, CallRecord, EnqueueResult } from '../queue.js';
import { assertSameFunction } from '../call-id-owner.js';
import { newRecord, type CallRecords } from './call-records.js';
import { encodeMessage } from './codec.js';
import { isUnavailableError, isWrongLastSequenceError } from './jetstream-errors.js';
import type { JetStreamNames } from './names.js';
import { DUPLICATE_WINDOW_MS } from './provision.js';
import { findQueuedIn } from './queued-lookup.js';

/** Bytes kept free under the server's max_payload for the frame head and NATS headers. */
export const FRAME_OVERHEAD_BYTES = 1024;

export interface EnqueueContext {
  readonly names: JetStreamNames;
  readonly jsm: JetStreamManager;
  readonly records: CallRecords;
  readonly dedupeWindowMs: number;
  readonly maxPayload: number;
  /** Told before a write that may store something (the caller's record); the publish itself is known to the caller. */
  onWrite(): void;
  /** Publishes the call's message (acked) under msgID. */
  publish(message: CallMessage, frame: Uint8Array, msgID: string): Promise<void>;
}

/**
 * The msgID of a call's publish. With faasq's dedupe window at least the server's duplicate window
 * (the default: 24 h against 2 min) it is the call id alone, so every publish of one call id within
 * the server's window dedupes: a retry of one accept, and a caller's retry with the X-Call-Id of a
 * refusal whose outcome was unknown, even when the first publish lands late. With a shorter faasq
 * window, the record's acceptance time is added, so a new enqueue of the same id after faasq's
 * window (but inside the server's) is stored.
 */
function msgIdOf(ctx: EnqueueContext, record: CallRecord, isPastStuckDuplicate: boolean): string {
  const base = ctx.dedupeWindowMs >= DUPLICATE_WINDOW_MS ? record.callId : `${record.callId}@${Date.parse(record.acceptedAt)}`;
  return isPastStuckDuplicate ? `${base}${STUCK_DUPLICATE_SUFFIX}` : base;
}

/**
 * The msgID suffix of a publish past a stuck "duplicate, not stored" answer (see EnqueueOptions).
 * Every later try of that call id uses it too, so they dedupe against each other.
 */
export const STUCK_DUPLICATE_SUFFIX = '~2';

export interface EnqueueOptions {
  /** The call id is the caller's (X-Call-Id): an idempotency key, with its record written first. */
  readonly hasCallerId: boolean;
  /** An earlier try of this same accept may have stored the record or the message. */
  readonly isRetry: boolean;
  /**
   * The stream's leader has answered "duplicate, not stored" for this call's msgID for longer than
   * a proposal takes to commit: a proposal of a leader that was cut off, which nats-server 2.10
   * keeps answering for until its duplicate window (2 min) passes, while the message is not in the
   * stream. The call then goes the way of a caller's id (record first, then a lookup of the stream,
   * then the publish) under a second msgID. Should the old proposal ever be stored as well, its
   * delivery is older than the worker's first-delivery check age, so it writes `running` as a
   * compare-and-set against the record before it could run, and meets a final call as final.
   */
  readonly isPastStuckDuplicate: boolean;
}

export async function enqueueCall(ctx: EnqueueContext, accepted: CallMessage, options: EnqueueOptions): Promise<EnqueueResult> {
  const { isRetry, isPastStuckDuplicate } = options;
  const hasCallerId = options.hasCallerId || isPastStuckDuplicate;
  // Marked, so a first delivery reads the record written here instead of deriving one from the message.
  const message = hasCallerId ? { ...accepted, hasCallerId: true } : accepted;
  const frame = encodeMessage(message);
  if (frame.length + FRAME_OVERHEAD_BYTES > ctx.maxPayload) {
    throw new FaasqError('E_BODY_TOO_LARGE', `call of ${frame.length} bytes exceeds the NATS server's max_payload (${ctx.maxPayload} bytes)`);
  }
  const record = newRecord(message);
  if (!hasCallerId) {
    await ctx.publish(message, frame, msgIdOf(ctx, record, false));
    return { record, isDuplicate: false };
  }
  // Record first, then the message, in series: a worker never meets a message before its record.
  let revision: number;
  try {
    ctx.onWrite();
    revision = await ctx.records.create(record);
  } catch (err) {
    if (!isWrongLastSequenceError(err)) throw err;
    const existing = await ctx.records.read(message.callId);
    if (isRetry && existing && existing.record.acceptedAt === record.acceptedAt && existing.record.state === 'queued') {
      // This accept's own record, from an earlier try whose answer was lost: carry on with it.
      revision = existing.revision;
    } else if (existing && Date.now() - Date.parse(existing.record.acceptedAt) < ctx.dedupeWindowMs) {
      assertSameFunction(existing.record, message);
      await republishIfYoung(ctx, existing.record, message, isPastStuckDuplicate);
      return { record: existing.record, isDuplicate: true };
    } else {
      revision = await ctx.records.replace(record, existing?.revision);
    }
  }
  const queued = await findQueuedIn(ctx.jsm, ctx.names, message.queue, message.callId);
  if (isRetry && queued && queued.enqueuedAt === message.enqueuedAt) return { record, isDuplicate: false }; // this accept's own earlier try
  if (queued) {
    // Best effort: a record left behind says queued for the call that is queued under this id.
    await ctx.records.remove(message.callId, revision).catch(() => undefined);
    assertSameFunction(queued, message);
    return { record: newRecord(queued), isDuplicate: true };
  }
  try {
    await ctx.publish(message, frame, msgIdOf(ctx, record, isPastStuckDuplicate));
  } catch (err) {
    // Refused (full, too large): roll the record back. Timed out or unreachable: the message may be
    // stored, so the record stays and a retry of the same callId publishes again under the same
    // msgID (republishIfYoung), which the server dedupes.
    if (!isUnavailableError(err)) await ctx.records.remove(message.callId, revision).catch(() => undefined);
    throw err;
  }
  return { record, isDuplicate: false };
}

/**
 * A duplicate whose first enqueue may have died between the record and the publish (or whose
 * publish failed and whose record could not be rolled back): while the record is young, publish
 * again under the same msgID; the server drops it when the first one was stored. It must succeed,
 * or the caller would be told "accepted" for a call that may not be stored.
 */
async function republishIfYoung(ctx: EnqueueContext, existing: CallRecord, message: CallMessage, isPastStuckDuplicate: boolean): Promise<void> {
  if (existing.state !== 'queued' || Date.now() - Date.parse(existing.acceptedAt) > DUPLICATE_WINDOW_MS / 2) return;
  const original = { ...message, queue: existing.queue, priority: existing.priority };
  await ctx.publish(original, encodeMessage(original), msgIdOf(ctx, existing, isPastStuckDuplicate));
}

/**
 * The refusal of an accept that sent its call but got no answer before the deadline: the call may
 * be stored. It carries the call id; a retry with that X-Call-Id is deduplicated (the same msgID
 * within the server's duplicate window, and the record check after it), so it never runs twice.
 */
export function unconfirmed(callId: string, acceptTimeoutMs: number, cause: unknown): FaasqError {
  return new FaasqError(
    'E_ACCEPT_UNCONFIRMED',
    `the call was sent to the queue but not confirmed within ${acceptTimeoutMs} ms; it may have been stored. Retry with header X-Call-Id: ${callId} (safe: a call is never queued twice under one id)`,
    { cause, headers: { 'X-Call-Id': callId, 'Retry-After': '1', Location: `/async-function/${callId}` }, detail: { callId, isRetrySafeWithCallId: true } },
  );
}
