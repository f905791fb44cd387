// Glue between a finished call and its callback: builds the payload (X-Retry = X-Retry-Max for a
// dead call), delivers it, and records each attempt's outcome on the call record and as events.
// The call's delivery is settled only after this resolves, so a crash mid-callback leaves the
// record 'pending' with the message still queued: the redelivery sends the callback again from the
// stored result without running the function (at least once, as the call itself). The record's
// callback.attempts counts every POST that may have gone out: a resumed callback first records the
// send whose outcome was lost (settle-call.ts), so a receiver that got it twice finds both counted.
import type { CallRecord, CallResult, Delivery, Queue } from '../queue/index.js';
import type { EventBus, Logger } from '../shared/index.js';
import { deliverCallback, type CallbackResult, type CallbackSettings } from './deliver-callback.js';
import type { CallbackGuard } from './callback-guard.js';
import { redactUrl } from '../shared/index.js';
import { qualifiedName } from '../shared/index.js';

/** A finished call whose callback is owed: what the payload and the record's bookkeeping need. */
export interface CallbackCall {
  readonly message: Delivery['message'];
  readonly record: CallRecord;
  readonly status: number;
  readonly result?: CallResult;
  readonly durationMs: number;
  /** Why the call is dead, when it is (sent as X-Faasq-Dead-Reason). */
  readonly deadReason?: string;
  /** Callback sends already counted on the record (a resumed callback goes on from there). */
  readonly callbackSends?: number;
}

export interface CallbackDeps {
  readonly queue: Queue;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly settings: CallbackSettings;
  readonly userAgent: string;
  readonly signal: AbortSignal;
  /** Deny-list checks at send time (literal hosts, and every address a name resolves to). */
  readonly guard?: CallbackGuard;
}

export async function startCallback(deps: CallbackDeps, call: CallbackCall, url: string): Promise<CallbackResult> {
  const { queue, events, logger } = deps;
  const m = call.message;
  const retryMax = Math.max(0, (call.record.maxAttempts ?? call.record.attempts) - 1);
  const retry = call.deadReason ? retryMax : Math.max(0, call.record.attempts - 1);
  const headers: Record<string, string | string[]> = { ...(call.result?.headers ?? {}) };
  if (call.deadReason) headers['x-faasq-dead-reason'] = call.deadReason;
  const fields = { callId: m.callId, function: m.function, namespace: m.namespace, queue: m.queue, url: redactUrl(url) };
  const ids = { callId: m.callId, fn: m.function, namespace: m.namespace, queue: m.queue, url: fields.url };
  try {
    return await deliverCallback(
      {
        url, callId: m.callId, functionName: qualifiedName(m.function, m.namespace), status: call.status,
        headers, body: call.result?.body ?? Buffer.alloc(0), durationMs: call.durationMs, retry, retryMax,
      },
      deps.settings,
      deps.userAgent,
      async (a) => {
        const state = a.isDelivered ? 'delivered' : a.isFinal ? 'failed' : 'pending';
        await queue.updateRecord(m.callId, {
          callback: { url: redactUrl(url), state, attempts: (call.callbackSends ?? 0) + a.attempt, lastStatus: a.status, lastError: a.error, deliveredAt: a.isDelivered ? new Date().toISOString() : undefined },
        });
        if (a.isDelivered) {
          events.emit('callback.delivered', { ...ids, status: a.status!, attempt: a.attempt });
          logger.info({ ...fields, status: a.status, attempt: a.attempt }, 'callback delivered');
        } else {
          events.emit('callback.failed', { ...ids, status: a.status, error: a.error, attempt: a.attempt, isFinal: a.isFinal });
          logger.warn({ ...fields, status: a.status, attempt: a.attempt, err: a.error, isFinal: a.isFinal }, 'callback failed');
        }
      },
      deps.signal,
      deps.guard,
    );
  } catch (err) {
    // The record could not be updated (queue down): leave the call unsettled so it is redelivered.
    logger.error({ ...fields, err }, 'callback bookkeeping failed');
    return 'aborted';
  }
}
