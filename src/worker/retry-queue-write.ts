// A call that has run keeps its outcome through a queue outage (a NATS leader election): its final
// write is retried with the delivery kept leased, instead of failing and letting the lease run out,
// which would run the call a second time. Gives up at the deadline or when the worker shuts down;
// the call is then delivered again after its lease, as before.
import type { Delivery } from '../queue/index.js';
import { isFaasqError } from '../shared/index.js';

const FIRST_WAIT_MS = 100;
const MAX_WAIT_MS = 2000;

export interface QueueWriteRetry {
  /** How long to keep trying in all. */
  readonly maxMs: number;
  readonly isClosing: () => boolean;
  /** Told before each wait. */
  readonly onRetry?: (attempt: number, err: unknown) => void;
}

export async function retryQueueWrite<T>(delivery: Delivery, write: () => Promise<T>, options: QueueWriteRetry): Promise<T> {
  const deadline = Date.now() + options.maxMs;
  let waitMs = FIRST_WAIT_MS;
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
}
