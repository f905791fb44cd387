// Glue between a finished call and its callback: builds the payload (X-Retry = X-Retry-Max for a
// dead call), delivers it, and records each attempt's outcome on the call record and as events.
// Callback progress lives in this process only: a crash mid-delivery leaves the record's callback
// 'pending' and that callback is not retried (documented in docs/async.md).
import type { Queue } from '../queue/index.js';
import type { EventBus, Logger } from '../shared/index.js';
import { deliverCallback, type CallbackSettings } from './callback.js';
import type { FinishedCall } from './call-context.js';
import { qualifiedName } from './settle-call.js';

export interface CallbackDeps {
  readonly queue: Queue;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly settings: CallbackSettings;
  readonly userAgent: string;
  readonly signal: AbortSignal;
}

export async function startCallback(deps: CallbackDeps, call: FinishedCall, url: string): Promise<void> {
  const { queue, events, logger } = deps;
  const m = call.message;
  const retryMax = Math.max(0, (call.record.maxAttempts ?? call.record.attempts) - 1);
  const retry = call.deadReason ? retryMax : Math.max(0, call.record.attempts - 1);
  const headers: Record<string, string | string[]> = { ...(call.result?.headers ?? {}) };
  if (call.deadReason) headers['x-faasq-dead-reason'] = call.deadReason;
  const fields = { callId: m.callId, function: m.function, namespace: m.namespace, queue: m.queue, url: redactUrl(url) };
  const ids = { callId: m.callId, fn: m.function, namespace: m.namespace, queue: m.queue, url };
  try {
    await queue.updateRecord(m.callId, { callback: { url, state: 'pending', attempts: 0 } });
    await deliverCallback(
      {
        url, callId: m.callId, functionName: qualifiedName(m.function, m.namespace), status: call.status,
        headers, body: call.result?.body ?? Buffer.alloc(0), durationMs: call.durationMs, retry, retryMax,
      },
      deps.settings,
      deps.userAgent,
      async (a) => {
        const state = a.isDelivered ? 'delivered' : a.isFinal ? 'failed' : 'pending';
        await queue.updateRecord(m.callId, {
          callback: { url, state, attempts: a.attempt, lastStatus: a.status, lastError: a.error, deliveredAt: a.isDelivered ? new Date().toISOString() : undefined },
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
    );
  } catch (err) {
    logger.error({ ...fields, err }, 'callback bookkeeping failed');
  }
}

/** Callback URLs may carry tokens in the query; logs keep only origin and path. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '[invalid url]';
  }
}
