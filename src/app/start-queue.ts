// Opens the queue at start. A NATS server that is not reachable yet (it may be starting next to
// us) is retried with backoff and a clear log line per attempt, up to a deadline; then the error
// stands. Embedded and memory queues fail at once: retrying a local disk does not help.
import type { Config } from '../config/index.js';
import { createQueue, type Queue } from '../queue/index.js';
import { isFaasqError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export interface StartQueueOptions {
  /** How long to keep retrying an unreachable NATS (default 60 s). */
  readonly maxWaitMs?: number;
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
}

export async function startQueue(config: Config, logger: Logger, options: StartQueueOptions = {}): Promise<Queue> {
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const maxDelayMs = options.maxDelayMs ?? 5000;
  const deadline = Date.now() + maxWaitMs;
  const isNats = config.queue.url.startsWith('nats');
  let delayMs = options.minDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    const queue = createQueue({ config, logger });
    try {
      await queue.start();
      if (attempt > 1) logger.info({ attempt }, 'queue reachable');
      return queue;
    } catch (err) {
      await queue.close().catch(() => undefined);
      const isRetryable = isNats && isFaasqError(err, 'E_QUEUE_UNAVAILABLE');
      if (!isRetryable || Date.now() + delayMs > deadline) throw err;
      logger.warn({ err, attempt, retryInMs: delayMs, url: config.queue.url }, 'NATS not reachable; retrying');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(maxDelayMs, delayMs * 2);
    }
  }
}
