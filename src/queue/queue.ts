// The Queue seam: the only durable state in faasq. Every backend (memory, embedded, jetstream)
// implements this interface and passes the one contract suite in test/queue/contract.ts.
//
// In the contract:
// - enqueue() resolves only once the call is durably stored (the gateway answers 202 after it);
//   from then on getRecord() finds the call (state queued), whether the backend stored a record
//   or derives it from the queued message. A callId the caller chose (hasCallerId) is an
//   idempotency key: a second enqueue of it whose record is younger than the dedupe window
//   stores nothing and returns the existing record with isDuplicate = true. A generated callId
//   is unique, so a backend may skip that check for it. Capacity: E_QUEUE_FULL (429);
//   backend down: E_QUEUE_UNAVAILABLE (503).
// - consume() hands deliveries of one queue to a handler, at most maxInflight unsettled at once,
//   higher priority first, then oldest first, never before notBefore. A delivery is leased:
//   unsettled and not extended for leaseMs, it is delivered again (at least once).
// - Delivery settles exactly once: ack (done, message removed), retry(delayMs) (redelivered
//   after the delay), deadLetter (moved to the dead-letter store), release (immediate
//   redelivery, for shutdown), complete (final record and result written, then acked: one write
//   where the backend can; a complete() that throws may be called again). extend() keeps the lease alive while the function runs. record() is
//   the call's record as the delivery starts; a backend may derive it from the message on a
//   first delivery, so the first guarded update of it is what detects a concurrent change.
//   deliveryCount survives a crash of the consuming process once countKept() resolves.
// - Call records and results: get/update with an optional state guard, kept for the retention.
// - "Not found" and "could not tell" are different answers: undefined (from getRecord, getResult,
//   updateRecord, Delivery.record/complete, cancel) means the backend established that the record
//   is not there (or the guard failed); a read or write that could not be done rejects with
//   E_QUEUE_UNAVAILABLE, never resolves undefined. A worker that cannot establish a delivery's
//   state hands it back (retry with a delay); it never acks it or takes it for cancelled.
// - cancel(): marks a not-yet-final record cancelled, removes a queued message where the
//   backend can, and tells every consumer (in any process) through onCancel listeners.
// - Dead letters: list, get, replay (back to the queue, record state queued, attempts reset),
//   purge. Stats per queue.
// Not in the contract: attempt counting and retry policy (the worker's, kept on the record),
// HTTP, and metrics (the worker and gateway emit events; backends import no prom-client).

export type CallState = 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'dead' | 'cancelled';
export const FINAL_STATES: readonly CallState[] = ['succeeded', 'failed', 'dead', 'cancelled'];

export const DEFAULT_QUEUE = 'faas-request';
export const MIN_PRIORITY = 0;
export const MAX_PRIORITY = 9;

/** A queued call: the HTTP request to replay plus scheduling data. */
export interface CallMessage {
  readonly callId: string;
  readonly function: string;
  readonly namespace: string;
  readonly queue: string;
  readonly priority: number;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
  readonly callbackUrl?: string;
  /** Epoch ms when accepted. */
  readonly enqueuedAt: number;
  /** Epoch ms before which the call must not start (X-Delay). */
  readonly notBefore?: number;
  /** Epoch ms after which an unstarted call is dead-lettered (max age). */
  readonly expiresAt?: number;
  /** X-Start-Time of the accepting request, Unix nanoseconds as a decimal string. */
  readonly startTimeNs: string;
  /** Set by a backend whose stored message must say that the call id was the caller's (its record was written at accept). */
  readonly hasCallerId?: boolean;
  /** The caller authenticated with a faasq credential: the call's record and result need one to read. */
  readonly isPrivate?: boolean;
}

export interface CallbackOutcome {
  url: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus?: number;
  lastError?: string;
  deliveredAt?: string;
}

export interface CallRecord {
  callId: string;
  function: string;
  namespace: string;
  queue: string;
  priority: number;
  state: CallState;
  /** Attempts made, those of unknownAttempts included. */
  attempts: number;
  /**
   * Numbers of the attempts whose outcome is unknown: the worker handling them stopped (killed,
   * cut off, or shut down mid-run) before it recorded how they ended. The function may or may not
   * have run, and may have run to completion. Absent when there is none; the latest 16 are kept.
   */
  unknownAttempts?: number[];
  maxAttempts?: number;
  /** ISO timestamps. */
  acceptedAt: string;
  notBefore?: string;
  expiresAt?: string;
  startedAt?: string;
  finishedAt?: string;
  updatedAt: string;
  nextAttemptAt?: string;
  lastStatus?: number;
  lastError?: string;
  /** Why a 'dead' call was dead-lettered. */
  deadReason?: 'attempts' | 'max_age';
  durationMs?: number;
  hasResult: boolean;
  callback?: CallbackOutcome;
  /** Copied from the message: reading this record or its result needs an invoke or admin credential. */
  isPrivate?: boolean;
}

export interface CallResult {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** True when the body was cut at the result size cap. */
  isTruncated: boolean;
}

export interface EnqueueResult {
  readonly record: CallRecord;
  readonly isDuplicate: boolean;
}

export interface Delivery {
  readonly message: CallMessage;
  /** How many times the backend has handed this message out (1 on first delivery). */
  readonly deliveryCount: number;
  /**
   * Resolves once deliveryCount is kept where the delivery that follows a crash of this process
   * (kill -9) will count it; rejects (E_QUEUE_UNAVAILABLE) when it could not be kept. Awaited
   * before the attempt's first side effect (the function's invocation): a delivery whose count was
   * not kept must not run, or a crash would leave a run the next delivery cannot see. The backend
   * may hand the delivery out before the count is kept, so the consumer's own first write can
   * share its commit.
   */
  countKept(): Promise<void>;
  /** Keep the lease alive (JetStream working()). Cheap; call it every leaseMs / 3 or so. */
  extend(): void;
  ack(): Promise<void>;
  retry(delayMs: number): Promise<void>;
  deadLetter(info: { status?: number; error?: string }): Promise<void>;
  release(): Promise<void>;
  /** The call's record at the start of this delivery (derived from the message when none is stored). */
  record(): Promise<CallRecord | undefined>;
  /**
   * Applies the final patch (when the record's state passes the guard) with the result stored
   * alongside, then acks: durably together where the backend can. Returns the new record, or
   * undefined when the guard failed; the delivery is acked either way, and a result whose record
   * left the worker's hands (cancelled) is still stored.
   */
  complete(patch: Partial<CallRecord>, result: CallResult | undefined, guard?: RecordGuard): Promise<CallRecord | undefined>;
}

export interface EnqueueOptions {
  /** The caller chose the callId (X-Call-Id): dedupe on it. Generated ids are unique and need not be checked. */
  readonly hasCallerId?: boolean;
}

export interface ConsumeOptions {
  readonly queue: string;
  readonly maxInflight: number;
}

export interface Consumer {
  /** Stop taking new deliveries; buffered, unhandled ones are released. In-flight ones stay the caller's. */
  close(): Promise<void>;
}

export interface DeadLetter {
  readonly callId: string;
  readonly queue: string;
  readonly function: string;
  readonly namespace: string;
  readonly deadAt: string;
  readonly attempts: number;
  readonly lastStatus?: number;
  readonly lastError?: string;
  readonly message: CallMessage;
}

export interface DeadLetterFilter {
  readonly queue?: string;
  readonly function?: string;
  readonly limit?: number;
}

export interface QueueStats {
  readonly name: string;
  /** Ready + delayed + in flight + retrying: everything not yet finished. */
  readonly depth: number;
  readonly depthByPriority: Readonly<Record<number, number>>;
  readonly delayed: number;
  readonly inflight: number;
  /** Age of the oldest call waiting to start (ready), ms; 0 when none. */
  readonly oldestAgeMs: number;
  readonly deadLetters: number;
}

export interface RecordGuard {
  /** Apply the patch only when the record's current state is one of these. */
  readonly ifStateIn?: readonly CallState[];
  /**
   * The patch's callback counts one more send: its `callback.attempts` becomes the current
   * record's plus one, decided inside the write (two workers resuming one callback at once count
   * two sends, never one). The patch's own attempts value is ignored.
   */
  readonly countsCallbackSend?: boolean;
}

export interface Queue {
  readonly backend: 'memory' | 'embedded' | 'jetstream';
  /**
   * Whether a first delivery (deliveryCount 1) may be a call already finished by another worker:
   * a consumer leader cut off by a partition can, before it learns it was replaced, hand such a
   * call out again (JetStream). A worker then checks a first delivery that waited long with a
   * compare-and-set before running it. One store in one process (memory, embedded) never does:
   * a finished call's message goes in the write that finishes it.
   */
  readonly hasStaleFirstDeliveries: boolean;
  start(): Promise<void>;
  close(): Promise<void>;
  /** Cheap liveness check for /healthz and intake (false: answer 503). */
  isHealthy(): boolean;

  enqueue(message: CallMessage, options?: EnqueueOptions): Promise<EnqueueResult>;
  consume(options: ConsumeOptions, handler: (delivery: Delivery) => void): Consumer;

  getRecord(callId: string): Promise<CallRecord | undefined>;
  /** Merges the patch; returns the new record, or undefined when missing or the guard failed. */
  updateRecord(callId: string, patch: Partial<CallRecord>, guard?: RecordGuard): Promise<CallRecord | undefined>;
  putResult(callId: string, result: CallResult): Promise<void>;
  getResult(callId: string): Promise<CallResult | undefined>;

  cancel(callId: string): Promise<CallRecord | undefined>;
  onCancel(listener: (callId: string) => void): () => void;

  listDeadLetters(filter?: DeadLetterFilter): Promise<DeadLetter[]>;
  getDeadLetter(callId: string): Promise<DeadLetter | undefined>;
  /** Replays the named dead letters (all matching the filter when ids is undefined); returns how many. */
  replayDeadLetters(ids: readonly string[] | undefined, filter?: DeadLetterFilter): Promise<number>;
  purgeDeadLetters(ids: readonly string[] | undefined, filter?: DeadLetterFilter): Promise<number>;

  /** Declares a queue (control plane); idempotent. Enqueue to an undeclared queue declares it. */
  ensureQueue(name: string): Promise<void>;
  listQueues(): Promise<string[]>;
  stats(): Promise<QueueStats[]>;
}

export interface QueueOptions {
  readonly leaseMs: number;
  readonly maxDepth: number;
  readonly dedupeWindowMs: number;
  readonly retentionMs: number;
}
