// Public door of the queue feature: the Queue seam's types and the factory that picks a backend.
export { createQueue, createMemoryQueue, createEmbeddedQueue, queueOptionsFrom } from './create-queue.js';
export type { QueueDeps } from './create-queue.js';
export type { LocalQueue } from './local/local-queue.js';
export { DEFAULT_QUEUE, FINAL_STATES, MAX_PRIORITY, MIN_PRIORITY } from './queue.js';
export type {
  CallbackOutcome, CallMessage, CallRecord, CallResult, CallState, Consumer, ConsumeOptions, DeadLetter, DeadLetterFilter,
  Delivery, EnqueueOptions, EnqueueResult, Queue, QueueOptions, QueueStats, RecordGuard,
} from './queue.js';
