// The terminal settlements shared by the worker paths: dead-lettering (attempts used up or max
// age passed) and acking a call whose record left our hands (cancelled, usually).
import type { CallRecord, CallResult, CallState, Delivery } from '../queue/index.js';
import { DEFAULT_NAMESPACE } from '../shared/index.js';
import type { CallContext } from './call-context.js';
import type { DeadReason } from './decide.js';

export const RESUMABLE: readonly CallState[] = ['queued', 'retrying', 'running'];

export async function finishDead(
  ctx: CallContext,
  delivery: Delivery,
  queueName: string,
  record: CallRecord,
  reason: DeadReason,
  last: { status?: number; error?: string; hasResult?: boolean; result?: CallResult; maxAttempts?: number },
  durationMs: number,
): Promise<void> {
  const m = delivery.message;
  const dead = await ctx.queue.updateRecord(
    m.callId,
    { state: 'dead', lastStatus: last.status, lastError: last.error, finishedAt: new Date().toISOString(), durationMs, hasResult: last.hasResult ?? record.hasResult, nextAttemptAt: undefined,
      ...(last.maxAttempts === undefined ? {} : { maxAttempts: last.maxAttempts }) },
    { ifStateIn: RESUMABLE },
  );
  if (!dead) return settleCancelled(ctx, delivery, queueName);
  await delivery.deadLetter({ status: last.status, error: last.error });
  ctx.events.emit('call.dead_lettered', { callId: m.callId, fn: m.function, namespace: m.namespace, queue: queueName, attempt: dead.attempts, status: last.status, error: last.error, reason });
  ctx.logger.warn({ callId: m.callId, function: m.function, namespace: m.namespace, queue: queueName, attempt: dead.attempts, status: last.status, durationMs, reason, err: last.error }, 'call dead-lettered');
  // A call that never ran still tells its callback: 504, the call timed out waiting in the queue.
  ctx.onFinished({ message: m, record: dead, status: last.status ?? 504, result: last.result, durationMs, deadReason: reason });
}

/** The record left the states we may write (cancelled, usually): settle without touching it. */
export async function settleCancelled(ctx: CallContext, delivery: Delivery, queueName: string): Promise<void> {
  const m = delivery.message;
  await delivery.ack();
  const record = await ctx.queue.getRecord(m.callId);
  const fields = { callId: m.callId, function: m.function, namespace: m.namespace, queue: queueName, state: record?.state };
  if (record?.state === 'cancelled') {
    // The cancel itself is logged and counted where it was requested (the gateway); this line says the worker stopped.
    ctx.events.emit('call.cancelled', { callId: m.callId, fn: m.function, namespace: m.namespace, queue: queueName, by: 'worker' });
    ctx.logger.info({ ...fields, attempt: record.attempts }, 'call stopped: cancelled');
  } else {
    ctx.logger.info(fields, 'call settled elsewhere; acked');
  }
}

export function qualifiedName(fn: string, namespace: string): string {
  return namespace === DEFAULT_NAMESPACE ? fn : `${fn}.${namespace}`;
}
