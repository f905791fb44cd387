// The terminal settlements shared by the worker paths: dead-lettering (attempts used up or max
// age passed), acking a call whose record left our hands (cancelled, usually), and the rule that a
// final outcome's callback is posted before its delivery is settled.
import type { CallRecord, CallResult, CallState, Delivery } from '../queue/index.js';
import { isFaasqError } from '../shared/index.js';
import type { CallContext, FinishedCall } from './call-context.js';
import type { DeadReason } from './decide.js';

export const RESUMABLE: readonly CallState[] = ['queued', 'retrying', 'running'];

export async function finishDead(
  ctx: CallContext,
  delivery: Delivery,
  queueName: string,
  record: CallRecord,
  reason: DeadReason,
  /** `fields`: the attempt's own fields when no `running` record wrote them. */
  last: { status?: number; error?: string; hasResult?: boolean; result?: CallResult; maxAttempts?: number; fields?: Partial<CallRecord> },
  durationMs: number,
): Promise<void> {
  const m = delivery.message;
  const dead = await ctx.queue.updateRecord(
    m.callId,
    { ...last.fields, state: 'dead', deadReason: reason, lastStatus: last.status, lastError: last.error, finishedAt: new Date().toISOString(), durationMs, hasResult: last.hasResult ?? record.hasResult, nextAttemptAt: undefined,
      ...pendingCallback(m.callbackUrl),
      ...(last.maxAttempts === undefined ? {} : { maxAttempts: last.maxAttempts }) },
    { ifStateIn: RESUMABLE },
  );
  if (!dead) return settleCancelled(ctx, delivery, queueName);
  ctx.events.emit('call.dead_lettered', { callId: m.callId, fn: m.function, namespace: m.namespace, queue: queueName, attempt: dead.attempts, status: last.status, error: last.error, reason });
  ctx.logger.warn({ callId: m.callId, function: m.function, namespace: m.namespace, queue: queueName, attempt: dead.attempts, status: last.status, durationMs, reason, err: last.error }, 'call dead-lettered');
  // A call that never ran still tells its callback: 504, the call timed out waiting in the queue.
  const call: FinishedCall = { message: m, record: dead, status: last.status ?? 504, result: last.result, durationMs, deadReason: reason };
  await settleAfterCallback(ctx, delivery, call, () => delivery.deadLetter({ status: last.status, error: last.error }));
}

/** The record patch that marks a final call's callback as owed. */
export function pendingCallback(url: string | undefined): { callback?: CallRecord['callback'] } {
  return url ? { callback: { url, state: 'pending', attempts: 0 } } : {};
}

/**
 * Posts the callback of a final outcome (when the call has one) with the lease kept alive, then
 * settles the delivery. A callback cut short by shutdown releases the delivery instead, so the
 * next worker finishes the callback from the record and stored result.
 */
export async function settleAfterCallback(ctx: CallContext, delivery: Delivery, call: FinishedCall, settle: () => Promise<void>): Promise<void> {
  if (call.message.callbackUrl) {
    const timer = setInterval(() => delivery.extend(), Math.max(50, Math.floor(ctx.config.queue.leaseMs / 3)));
    let outcome;
    try {
      outcome = await ctx.sendCallback(call);
    } finally {
      clearInterval(timer);
    }
    if (outcome === 'aborted') {
      await delivery.release();
      return;
    }
  }
  await settle();
}

/** How long a delivery waits when the record of a resumed callback could not be written. */
const RESUME_RETRY_MS = 1000;

/**
 * A redelivered final call whose callback is still owed (the worker died mid-callback, or its
 * bookkeeping failed): finish it. The send that may have gone out unrecorded is counted on the
 * record first (callback.attempts + 1, decided inside the write, so concurrent resumptions each
 * count), and only once that is written is the callback sent again: the record explains every
 * copy a receiver gets.
 */
export async function resumeCallback(ctx: CallContext, delivery: Delivery, record: CallRecord): Promise<void> {
  const m = delivery.message;
  const owed = record.callback ?? { url: m.callbackUrl ?? '', state: 'pending' as const, attempts: 0 };
  let marked: CallRecord | undefined;
  try {
    // One more send counted inside the write: two deliveries resuming at once count two.
    marked = await ctx.queue.updateRecord(m.callId, { callback: { ...owed, state: 'pending', attempts: owed.attempts + 1, lastError: 'a send whose outcome was not recorded (the worker lost it)' } }, { ifStateIn: [record.state], countsCallbackSend: true });
  } catch (err) {
    if (!isFaasqError(err, 'E_QUEUE_UNAVAILABLE')) throw err;
    ctx.logger.warn({ callId: m.callId, function: m.function, err }, 'owed callback not recorded; handing the delivery back');
    await delivery.retry(RESUME_RETRY_MS);
    return;
  }
  if (!marked) return settleCancelled(ctx, delivery, m.queue);
  const callbackSends = marked.callback?.attempts ?? owed.attempts + 1;
  // The record read first may have been behind (a stale read after a partition): the write went to
  // the current record, which may say the callback went out meanwhile. Then it is not sent again.
  if (marked.callback?.state === 'delivered') {
    ctx.logger.info({ callId: m.callId, function: m.function, queue: m.queue }, 'owed callback already delivered; acking');
    await (record.state === 'dead' ? delivery.deadLetter({ status: record.lastStatus, error: record.lastError }) : delivery.ack());
    return;
  }
  const result = record.hasResult ? await ctx.queue.getResult(m.callId) : undefined;
  const call: FinishedCall = {
    message: m, record: marked, status: record.lastStatus ?? 504, result, durationMs: record.durationMs ?? 0, callbackSends,
    ...(record.state === 'dead' ? { deadReason: record.deadReason ?? 'attempts' } : {}),
  };
  ctx.logger.info({ callId: m.callId, function: m.function, namespace: m.namespace, queue: m.queue, state: record.state }, 'call redelivered with its callback owed; sending it');
  await settleAfterCallback(ctx, delivery, call, () =>
    record.state === 'dead' ? delivery.deadLetter({ status: record.lastStatus, error: record.lastError }) : delivery.ack());
}

/**
 * The record left the states we may write (cancelled, usually): settle without touching it. With
 * `hasRun` (the function ran this delivery) and a record that is already finished, this run was a
 * second one of a finished call (a first delivery handed out again by a consumer leader that had
 * been frozen: it reads no record before running): the run is counted on the record, so the
 * record explains it.
 */
export async function settleCancelled(ctx: CallContext, delivery: Delivery, queueName: string, hasRun = false): Promise<void> {
  const m = delivery.message;
  await delivery.ack();
  // Only for the log line and the event: the guarded write that led here already said the record
  // is not ours (a state outside the guard, or gone with its message), so a failed read is no reason
  // to hold the call back.
  let record: CallRecord | undefined;
  try {
    record = await ctx.queue.getRecord(m.callId);
  } catch (err) {
    ctx.logger.info({ callId: m.callId, function: m.function, namespace: m.namespace, queue: queueName, err }, 'call settled elsewhere; acked (its record could not be read for the log)');
    return;
  }
  const fields = { callId: m.callId, function: m.function, namespace: m.namespace, queue: queueName, state: record?.state };
  if (hasRun && record && (record.state === 'succeeded' || record.state === 'failed' || record.state === 'dead')) {
    ctx.logger.warn({ ...fields, attempts: record.attempts }, 'call ran again after its record was final; the run is counted on the record');
    await ctx.queue.updateRecord(m.callId, { attempts: record.attempts + 1 }, { ifStateIn: [record.state] }).catch((err: unknown) => {
      ctx.logger.warn({ ...fields, err }, 'counting the extra run failed');
    });
    return;
  }
  if (record?.state === 'cancelled') {
    // The cancel itself is logged and counted where it was requested (the gateway); this line says the worker stopped.
    ctx.events.emit('call.cancelled', { callId: m.callId, fn: m.function, namespace: m.namespace, queue: queueName, by: 'worker' });
    ctx.logger.info({ ...fields, attempt: record.attempts }, 'call stopped: cancelled');
  } else {
    ctx.logger.info(fields, 'call settled elsewhere; acked');
  }
}

