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
  /** Publishes the call's message (acked) under msgID. */
  publish(message: CallMessage, frame: Uint8Array, msgID: string): Promise<void>;
}

/**
 * The msgID of a call's publish: the call id plus its record's acceptance time, so retries of one
 * enqueue dedupe on the server while a new enqueue of the same id after faasq's dedupe window
 * (which may be shorter than the server's 2 minutes) is stored.
 */
function msgIdOf(record: CallRecord): string {
  return `${record.callId}@${Date.parse(record.acceptedAt)}`;
}

export async function enqueueCall(ctx: EnqueueContext, accepted: CallMessage, hasCallerId: boolean): Promise<EnqueueResult> {
  // Marked, so a first delivery reads the record written here instead of deriving one from the message.
  const message = hasCallerId ? { ...accepted, hasCallerId: true } : accepted;
  const frame = encodeMessage(message);
  if (frame.length + FRAME_OVERHEAD_BYTES > ctx.maxPayload) {
    throw new FaasqError('E_BODY_TOO_LARGE', `call of ${frame.length} bytes exceeds the NATS server's max_payload (${ctx.maxPayload} bytes)`);
  }
  const record = newRecord(message);
  if (!hasCallerId) {
    await ctx.publish(message, frame, msgIdOf(record));
    return { record, isDuplicate: false };
  }
  // Record first, then the message, in series: a worker never meets a message before its record.
  let revision: number;
  try {
    revision = await ctx.records.create(record);
  } catch (err) {
    if (!isWrongLastSequenceError(err)) throw err;
    const existing = await ctx.records.read(message.callId);
    if (existing && Date.now() - Date.parse(existing.record.acceptedAt) < ctx.dedupeWindowMs) {
      assertSameFunction(existing.record, message);
      await republishIfYoung(ctx, existing.record, message);
      return { record: existing.record, isDuplicate: true };
    }
    revision = await ctx.records.replace(record, existing?.revision);
  }
  const queued = await findQueuedIn(ctx.jsm, ctx.names, message.queue, message.callId);
  if (queued) {
    await ctx.records.remove(message.callId, revision).catch(() => undefined);
    assertSameFunction(queued, message);
    return { record: newRecord(queued), isDuplicate: true };
  }
  try {
    await ctx.publish(message, frame, msgIdOf(record));
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
async function republishIfYoung(ctx: EnqueueContext, existing: CallRecord, message: CallMessage): Promise<void> {
  if (existing.state !== 'queued' || Date.now() - Date.parse(existing.acceptedAt) > DUPLICATE_WINDOW_MS / 2) return;
  const original = { ...message, queue: existing.queue, priority: existing.priority };
  await ctx.publish(original, encodeMessage(original), msgIdOf(existing));
}
