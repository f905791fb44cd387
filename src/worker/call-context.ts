// What processing one call needs from the worker: its dependencies and the shared bookkeeping
// (running calls for cancel and shutdown, per-function in-flight counts, the finished-call hook).
import type { Config } from '../config/index.js';
import type { FunctionSpec, Invoker } from '../provider/index.js';
import type { CallRecord, CallResult, Delivery, Queue } from '../queue/index.js';
import type { DeadlineQueue, EventBus, Logger } from '../shared/index.js';
import type { DeadReason } from './decide.js';
import type { CallbackResult } from '../callback/index.js';
import type { InvalidAnnotation } from './policy.js';

/** One running invocation; `reason` says why it was aborted, when it was. */
export interface RunningCall {
  /** Kept leased by the worker's one lease timer while the function runs. */
  readonly delivery: Delivery;
  reason?: 'cancel' | 'shutdown';
  /** Stops the invocation once it has started (a plain function: an AbortController and its listener cost ~4 µs per call). */
  abortInvocation?: (reason: Error) => void;
}

/** Aborts a running call for `reason` (once); an invocation not started yet is stopped as it starts. */
export function stopRunningCall(run: RunningCall, reason: 'cancel' | 'shutdown'): void {
  if (run.reason) return;
  run.reason = reason;
  run.abortInvocation?.(abortError(reason));
}

export function abortError(reason: 'cancel' | 'shutdown'): Error {
  return new Error(reason === 'cancel' ? 'call cancelled' : 'worker shutting down');
}

export interface FinishedCall {
  readonly message: Delivery['message'];
  readonly record: CallRecord;
  readonly status: number;
  readonly result?: CallResult;
  readonly durationMs: number;
  readonly deadReason?: DeadReason;
  /** Callback sends already counted on the record (a resumed callback goes on from there). */
  readonly callbackSends?: number;
}

/** What the worker is built from, and every call processed with. */
export interface CallDeps {
  readonly config: Config;
  readonly queue: Queue;
  readonly invoker: Invoker;
  readonly getSpec: (fn: string, ns: string) => FunctionSpec | undefined;
  readonly events: EventBus;
  readonly logger: Logger;
}

export interface CallContext extends CallDeps {
  readonly running: Map<string, RunningCall>;
  readonly fnInflight: Map<string, number>;
  /** The one timer for every running call's deferred `running` record (worker.runningRecordDelayMs). */
  readonly runningRecordTimers: DeadlineQueue;
  readonly onInvalidAnnotation: InvalidAnnotation;
  /** True once the worker has begun to shut down. */
  readonly isClosing: () => boolean;
  /** Posts a final outcome's callback (message.callbackUrl set); the delivery is settled after it. */
  readonly sendCallback: (call: FinishedCall) => Promise<CallbackResult>;
}
