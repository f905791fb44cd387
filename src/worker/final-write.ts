// A call that has run keeps its outcome through a queue outage (a NATS leader election): its final
// write is retried with the delivery kept leased, instead of failing and letting the lease run out,
// which would run the call a second time. Gives up at the deadline or when the worker shuts down;
// the call is then delivered again after its lease, as before.
import type { CallRecord, CallResult, Delivery, RecordGuard } from '../queue/index.js';
import { isFaasqError } from '../shared/index.js';
import type { CallContext } from './call-context.js';

const FIRST_WAIT_MS = 100;
/** A final write refused as unavailable is retried at least this long (a NATS leader election takes seconds). */
const MIN_FINAL_RETRY_MS = 30_000;
const MAX_WAIT_MS = 2000;

interface QueueWriteRetry {
  /** How long to keep trying in all. */
  readonly maxMs: number;
  readonly isClosing: () => boolean;
  /** How often the delivery's lease is extended while the writes run. */
  readonly extendEveryMs: number;
  /** Told before each wait. */
  readonly onRetry?: (attempt: number, err: unknown) => void;
}

async function retryQueueWrite<T>(delivery: Delivery, write: () => Promise<T>, options: QueueWriteRetry): Promise<T> {
  const deadline = Date.now() + options.maxMs;
  let waitMs = FIRST_WAIT_MS;
  // The lease is kept through the writes themselves too: one that times out (a frozen leader) can
  // take longer than a short lease, and a lease that ran out meanwhile would run the call again.
  const timer = setInterval(() => delivery.extend(), options.extendEveryMs);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        if (!isFaasqError(err, 'E_QUEUE_UNAVAILABLE') || options.isClosing() || Date.now() + waitMs > deadline) throw err;
        options.onRetry?.(attempt, err);
        delivery.extend();
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        delivery.extend();
        waitMs = Math.min(waitMs * 2, MAX_WAIT_MS);
      }
    }
  } finally {
    clearInterval(timer);
  }
}

/**
 * Writes an attempt's final record (`patch`, with `result`) and returns it; undefined when the
 * record left the worker's hands (a cancel). Without a callback that is Delivery.complete(): record,
 * result and ack in one write. With one, the result and the record are written and the delivery is
 * left unsettled: the callback goes out between the final record (which says it is owed) and the ack.
 */
export async function writeFinal(
  ctx: CallContext,
  delivery: Delivery,
  attempt: number,
  write: { readonly patch: Partial<CallRecord>; readonly result: CallResult | undefined; readonly guard: RecordGuard },
  logFields: Record<string, unknown>,
): Promise<CallRecord | undefined> {
  const { queue, logger, config } = ctx;
  const { patch, result, guard } = write;
  const callId = delivery.message.callId;
  let isAnswerLost = false;
  const retry: QueueWriteRetry = {
    maxMs: Math.max(config.queue.leaseMs, MIN_FINAL_RETRY_MS),
    isClosing: ctx.isClosing,
    extendEveryMs: Math.max(50, Math.floor(config.queue.leaseMs / 3)),
    onRetry: (n, err) => {
      isAnswerLost = true;
      logger.warn({ ...logFields, err, retry: n }, 'final record not written; retrying');
    },
  };
  if (!delivery.message.callbackUrl) return retryQueueWrite(delivery, () => delivery.complete(patch, result, guard), retry);
  if (result) await retryQueueWrite(delivery, () => queue.putResult(callId, result), retry);
  return retryQueueWrite(delivery, async () => {
    const written = await queue.updateRecord(callId, patch, guard);
    if (written || !isAnswerLost) return written;
    // After a write whose answer was lost, a failed guard may be our own final record (the
    // callback must still go out) or a cancel: ours has this outcome and attempt, callback owed.
    const current = await queue.getRecord(callId);
    const isOurs = current !== undefined && current.state === patch.state && current.attempts === attempt && current.callback?.state === 'pending';
    return isOurs ? current : undefined;
  }, retry);
}
