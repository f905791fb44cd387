// Processes one delivery: checks the record (final calls are acked without running), applies max
// age and the per-function concurrency limit, runs one attempt with the lease kept alive, and
// turns decide()'s answer into record updates and exactly one settlement of the delivery.
import type { CallRecord, CallResult, CallState, Delivery } from '../queue/index.js';
import { isFaasqError } from '../shared/index.js';
import { abortError, type CallContext, type RunningCall } from './call-context.js';
import { decide, isExpired, type Outcome } from './decide.js';
import { asyncConcurrencyFor, policyFor, type RetryPolicy } from './policy.js';
import { collectResponse } from './collect-response.js';
import { RunningRecord } from './running-record.js';
import { writeFinal } from './final-write.js';
import { finishDead, pendingCallback, RESUMABLE, resumeCallback, settleAfterCallback, settleCancelled } from './settle-call.js';
import { countUnknownAttempts, needsHandBackMark, withAttempt, type AttemptCount } from './unknown-attempts.js';

const SETTLED: readonly CallState[] = ['succeeded', 'failed', 'cancelled'];
const ONLY_RUNNING: readonly CallState[] = ['running'];
/** How long a delivery waits when its function is at its async concurrency limit. */
const CONCURRENCY_RETRY_MS = 250;
/** How long a delivery whose record could not be read waits before it is delivered again. */
const STATE_UNKNOWN_RETRY_MS = 1000;
/**
 * On a queue with stale first deliveries (JetStream), a first delivery of a call that waited longer
 * than this writes `running` (a compare-and-set) before it runs, like a redelivery. A consumer
 * leader that was frozen or cut off can, once back and before it learns it was replaced, hand out
 * again a call another worker has finished, as a first delivery; that takes a freeze longer than
 * NATS's election timeout (4 s at least), so such a call is older than this. Calls taken from a
 * backlog older than this pay the write too.
 */
const FIRST_DELIVERY_CHECK_AGE_MS = 3000;

export async function processDelivery(ctx: CallContext, delivery: Delivery, queueName: string): Promise<void> {
  const m = delivery.message;
  const { logger } = ctx;
  const base = { callId: m.callId, function: m.function, queue: queueName };
  let record: CallRecord | undefined;
  try {
    record = await delivery.record();
  } catch (err) {
    if (!isFaasqError(err, 'E_QUEUE_UNAVAILABLE')) throw err;
    // Whether the call is final, cancelled or still to run cannot be told now: hand it back for a
    // later delivery, never run it on a guess (a final call would run twice) nor ack it (lost).
    logger.warn({ ...base, err }, 'call record unreadable; handing the delivery back');
    await delivery.retry(STATE_UNKNOWN_RETRY_MS);
    return;
  }
  if (!record) {
    // Never drop a call: without its record (retention passed) it is parked with the dead letters.
    logger.warn(base, 'call record missing; dead-lettering');
    await delivery.deadLetter({ error: 'call record missing' });
    return;
  }
  if (m.callbackUrl && record.callback?.state === 'pending' && (record.state === 'succeeded' || record.state === 'failed' || record.state === 'dead')) {
    await resumeCallback(ctx, delivery, record);
    return;
  }
  if (SETTLED.includes(record.state)) {
    logger.debug({ ...base, state: record.state }, 'call already final; acking redelivery');
    await delivery.ack();
    return;
  }
  if (record.state === 'dead') {
    await delivery.deadLetter({ status: record.lastStatus, error: record.lastError });
    return;
  }
  const spec = ctx.getSpec(m.function, m.namespace);
  const policy = policyFor(spec, ctx.config.worker.retry, ctx.onInvalidAnnotation);
  if (isExpired(m.expiresAt, record.attempts, Date.now())) {
    await finishDead(ctx, delivery, queueName, record, 'max_age', { error: 'max age passed before the call started', maxAttempts: policy.attempts }, 0);
    return;
  }
  const limit = asyncConcurrencyFor(spec, ctx.onInvalidAnnotation);
  const key = `${m.function}.${m.namespace}`;
  const busy = ctx.fnInflight.get(key) ?? 0;
  if (limit !== undefined && busy >= limit) {
    if (needsHandBackMark(record, delivery.deliveryCount, ctx.config.worker.runningRecordDelayMs)) await markHandedBack(ctx, delivery, CONCURRENCY_RETRY_MS);
    await delivery.retry(CONCURRENCY_RETRY_MS);
    return;
  }
  ctx.fnInflight.set(key, busy + 1);
  try {
    await runAttempt(ctx, delivery, queueName, record, policy);
  } finally {
    const left = (ctx.fnInflight.get(key) ?? 1) - 1;
    if (left <= 0) ctx.fnInflight.delete(key);
    else ctx.fnInflight.set(key, left);
  }
}

async function runAttempt(ctx: CallContext, delivery: Delivery, queueName: string, record: CallRecord, policy: RetryPolicy): Promise<void> {
  const m = delivery.message;
  const { queue, events, logger, config } = ctx;
  // A redelivery may reveal attempts that left no outcome (their worker stopped): they are counted.
  const counted = countUnknownAttempts(record, delivery.deliveryCount, config.worker.runningRecordDelayMs);
  const attempt = counted.attempts + 1;
  const now = Date.now();
  // The attempt's fields: written by the `running` record, or by the attempt's next write when that was skipped.
  const attemptFields: Partial<CallRecord> = { attempts: attempt, startedAt: record.startedAt ?? new Date(now).toISOString(), maxAttempts: policy.attempts };
  if (counted.unknownAttempts) attemptFields.unknownAttempts = counted.unknownAttempts;
  // Registered before any record says 'running', so a cancel that lands meanwhile is not missed.
  const run: RunningCall = { delivery };
  ctx.running.set(m.callId, run);
  const running = new RunningRecord(ctx.runningRecordTimers, () =>
    queue.updateRecord(m.callId, { ...attemptFields, state: 'running', nextAttemptAt: undefined }, { ifStateIn: RESUMABLE }));
  // A redelivery writes it first: a call that keeps killing its worker then still counts its attempts,
  // and a record read stale (after a partition) cannot let a finished call run again: the write is a
  // compare-and-set that needs the record's current revision. So does a first delivery that waited
  // long on a queue whose first deliveries may be stale.
  const mayBeStale = queue.hasStaleFirstDeliveries && now - Math.max(m.enqueuedAt, m.notBefore ?? 0) >= FIRST_DELIVERY_CHECK_AGE_MS;
  if (config.worker.runningRecordDelayMs > 0 && delivery.deliveryCount <= 1 && !mayBeStale) {
    await keepCount(ctx, delivery);
    running.schedule();
  } else {
    // The `running` write goes first, so the delivery's count can share its commit.
    const first = await running.start();
    if (first.kind === 'failed') {
      // Unregistered, so the worker's lease timer stops extending it: the lease runs out and the
      // call is delivered again (a registered one would stay leased forever).
      ctx.running.delete(m.callId);
      throw first.error;
    }
    if (first.kind !== 'written' || run.reason !== undefined) {
      ctx.running.delete(m.callId);
      return first.kind === 'written' && run.reason === 'shutdown' ? handBack(ctx, delivery, record, counted, undefined) : settleCancelled(ctx, delivery, queueName);
    }
    await keepCount(ctx, delivery);
  }
  const ns = m.namespace;
  const fields = { callId: m.callId, function: m.function, namespace: ns, queue: queueName, attempt };
  const queuedMs = Math.max(0, now - m.enqueuedAt);
  events.emit('call.started', { callId: m.callId, fn: m.function, namespace: ns, queue: queueName, attempt, queuedMs });
  events.emit('worker.inflight', { queue: queueName, fn: m.function, namespace: ns, delta: 1 });
  // Log objects are built only when written: spreading a few fields costs about a µs each call.
  if (logger.isLevelEnabled('info')) logger.info({ ...fields, queuedMs }, 'call started');
  const t0 = performance.now();
  let outcome: Outcome;
  let result: CallResult | undefined;
  let lastError: string | undefined;
  try {
    const res = await collectResponse(ctx.invoker, m.function, m.namespace, {
      method: m.method,
      path: m.path,
      query: m.query,
      headers: { ...m.headers, 'x-call-id': m.callId, 'x-start-time': m.startTimeNs },
      body: m.body,
      callId: m.callId,
    }, config.queue.maxResultBytes, (abort) => {
      run.abortInvocation = abort;
      // A cancel or shutdown that came before the invocation started.
      if (run.reason) abort(abortError(run.reason));
    });
    result = { status: res.status, headers: res.headers, body: res.body, isTruncated: res.isTruncated };
    outcome = { status: res.status, headers: res.headers };
  } catch (err) {
    lastError = err instanceof Error ? err.message : String(err);
    outcome = isFaasqError(err, 'E_FUNCTION_NOT_FOUND')
      ? { status: 404 }
      : { error: lastError, kind: isFaasqError(err, 'E_FUNCTION_TIMEOUT') ? 'timeout' : isFaasqError(err, 'E_FUNCTION_OUTPUT_TOO_LARGE') ? 'refused' : 'transport' };
  } finally {
    ctx.running.delete(m.callId);
    events.emit('worker.inflight', { queue: queueName, fn: m.function, namespace: m.namespace, delta: -1 });
  }
  const durationMs = Math.round((performance.now() - t0) * 1000) / 1000;
  const recorded = await running.settle();
  if (recorded.kind === 'failed') logger.warn({ ...fields, err: recorded.error }, 'running record not written; the final record carries the attempt');

  if (run.reason === 'cancel' || recorded.kind === 'refused') return settleCancelled(ctx, delivery, queueName, true);
  if (run.reason === 'shutdown') {
    logger.info({ ...fields, durationMs }, 'call released on shutdown');
    // The function was stopped mid-run: when a `running` record may say so, it becomes an unknown
    // attempt; without one, the next delivery counts it as one (the record shows no trace of it).
    if (recorded.kind === 'skipped') return delivery.release();
    return handBack(ctx, delivery, record, counted, attempt);
  }
  // After a `running` record the attempt's writes expect it; without one (or when its write may
  // have failed) they carry the attempt's fields and accept any state a live call can be in.
  const isRecorded = recorded.kind === 'written';
  const carried = isRecorded ? {} : attemptFields;
  const guard = { ifStateIn: isRecorded ? ONLY_RUNNING : RESUMABLE };

  const status = 'status' in outcome ? outcome.status : errorStatus(outcome.kind);
  const decision = decide(outcome, attempt, policy, Date.now());
  const logFields = { callId: m.callId, function: m.function, namespace: ns, queue: queueName, attempt, status, durationMs };
  if (decision.kind !== 'ack' || decision.state !== 'succeeded') {
    events.emit('call.attempt_failed', { callId: m.callId, fn: m.function, namespace: ns, queue: queueName, attempt, status: 'status' in outcome ? status : undefined, error: lastError, durationMs, reportedStatus: status });
    logger.info({ ...logFields, err: lastError }, 'call attempt failed');
  }
  if (decision.kind === 'retry') {
    const nextAttemptAt = new Date(Date.now() + decision.delayMs).toISOString();
    const updated = await queue.updateRecord(m.callId, { ...carried, state: 'retrying', nextAttemptAt, lastStatus: status, lastError }, guard);
    if (!updated) return settleCancelled(ctx, delivery, queueName, true);
    events.emit('call.retried', { callId: m.callId, fn: m.function, namespace: ns, queue: queueName, attempt, delayMs: decision.delayMs });
    logger.info({ ...logFields, delayMs: decision.delayMs, nextAttemptAt }, 'call retried');
    await delivery.retry(decision.delayMs);
    return;
  }
  if (decision.kind === 'dead') {
    if (result) await queue.putResult(m.callId, result);
    await finishDead(ctx, delivery, queueName, isRecorded ? recorded.record : record, decision.reason, { status, error: lastError, hasResult: result !== undefined, result, fields: carried }, durationMs);
    return;
  }
  // Built field by field: spreads here cost several µs per call on the drain's hot path.
  const patch: Partial<CallRecord> = { state: decision.state, lastStatus: status, lastError, finishedAt: new Date().toISOString(), durationMs, hasResult: result !== undefined, nextAttemptAt: undefined };
  if (!isRecorded) Object.assign(patch, attemptFields);
  if (m.callbackUrl) patch.callback = pendingCallback(m.callbackUrl).callback;
  const final = await writeFinal(ctx, delivery, attempt, { patch, result, guard }, logFields);
  if (!final) return settleCancelled(ctx, delivery, queueName, true);
  if (decision.state === 'succeeded') {
    events.emit('call.succeeded', { callId: m.callId, fn: m.function, namespace: ns, queue: queueName, attempt, status, durationMs });
    logger.info(logFields, 'call succeeded');
  } else {
    events.emit('call.failed', { callId: m.callId, fn: m.function, namespace: ns, queue: queueName, attempt, status, durationMs });
    logger.info(logFields, 'call failed');
  }
  if (m.callbackUrl) await settleAfterCallback(ctx, delivery, { message: m, record: final, status, result, durationMs }, () => delivery.ack());
}

/**
 * Waits until the delivery's count would survive this process's crash: only then may the function
 * run, or a kill -9 mid-run would leave a run that no later delivery counts. A count that could not
 * be kept stops the attempt unrun; the delivery is unregistered so its lease runs out and the call
 * is delivered again (a `running` record written meanwhile then counts one attempt of unknown
 * outcome too many: over, never under).
 */
async function keepCount(ctx: CallContext, delivery: Delivery): Promise<void> {
  try {
    await delivery.countKept();
  } catch (err) {
    ctx.running.delete(delivery.message.callId);
    throw err;
  }
}

function errorStatus(kind: 'transport' | 'timeout' | 'refused'): number {
  return kind === 'timeout' ? 504 : 502;
}

/**
 * Shutdown stopped the attempt (not the function): the record leaves `running` and the call is
 * released. An attempt whose function was stopped mid-run (`ranAttempt`) stays counted, as one of
 * unknown outcome; one stopped before the function was called is given back, with `nextAttemptAt`
 * saying it was handed back (so the next delivery does not take it for an unknown attempt).
 */
async function handBack(ctx: CallContext, delivery: Delivery, before: CallRecord, counted: AttemptCount, ranAttempt: number | undefined): Promise<void> {
  const state = before.state === 'running' ? 'queued' : before.state;
  const patch: Partial<CallRecord> = ranAttempt === undefined
    ? { state, attempts: counted.attempts, unknownAttempts: counted.unknownAttempts, nextAttemptAt: new Date().toISOString() }
    : { state, unknownAttempts: withAttempt(counted.unknownAttempts, ranAttempt) };
  await ctx.queue.updateRecord(delivery.message.callId, patch, { ifStateIn: ONLY_RUNNING });
  await delivery.release();
}

/**
 * Before a first delivery is handed back unrun: `nextAttemptAt` on the record tells the next
 * delivery that this one did not run. A mark that cannot be written only makes the next delivery
 * count one attempt too many (as unknown), so the hand-back goes ahead.
 */
async function markHandedBack(ctx: CallContext, delivery: Delivery, delayMs: number): Promise<void> {
  const { callId } = delivery.message;
  try {
    await ctx.queue.updateRecord(callId, { nextAttemptAt: new Date(Date.now() + delayMs).toISOString() }, { ifStateIn: ['queued'] });
  } catch (err) {
    if (!isFaasqError(err, 'E_QUEUE_UNAVAILABLE') && !isFaasqError(err, 'E_CONFLICT')) throw err;
    ctx.logger.warn({ callId, err }, 'hand-back not marked on the record; its next delivery will count an attempt of unknown outcome');
  }
}
