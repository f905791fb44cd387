// Public door of the async worker: the worker itself and its pure retry decisions.
export { createWorker } from './worker.js';
export type { Worker, WorkerDeps } from './worker.js';
export { decide, isExpired, parseRetryAfterMs, INTERNAL_HEADER } from './decide.js';
export type { Decision, DeadReason, Outcome } from './decide.js';
export { backoffMs } from '../shared/backoff.js';
export type { BackoffOptions } from '../shared/backoff.js';
export { policyFor, asyncConcurrencyFor, ANNOTATION_ASYNC_CONCURRENCY } from './policy.js';
export type { RetryPolicy, RetryDefaults } from './policy.js';
