// The Queue seam on NATS JetStream (nats-server >= 2.10, no 2.11+ feature), the production and
// multi-machine backend. Layout, all names from names.ts (default prefix "faasq"):
// - per queue a WorkQueue file stream FAASQ_Q_<queue>, subjects faasq.q.<queue>.p<0-9>.<callId>
//   (ready calls) and faasq.q.<queue>.d.<priority>.<callId> (calls waiting for notBefore), with
//   max_msgs = queue.maxDepth and discard new (full: E_QUEUE_FULL), msgID = <callId> dedupe (2 min
//   window: retries of one enqueue after a timeout or a leader election, see enqueue-call.ts);
// - per (queue, priority) a durable pull consumer p<N>: explicit ack, ack_wait = leaseMs,
//   max_deliver -1 (attempts are counted by the worker on the record, not by deliveryCount),
//   max_ack_pending -1 (retries wait as naked messages); plus a "delayed" consumer (delay-mover.ts);
// - dead letters in the FAASQ_DLQ stream, subjects faasq.dlq.<queue>.<callId>;
// - records and results in KV buckets FAASQ_records / FAASQ_results, bucket TTL = retentionMs.
//   An accept is one publish: the queued message is the record until the worker's first update
//   creates its entry (call-records.ts derives it; getRecord finds the message by subject, see
//   queued-lookup.ts; the accept itself is enqueue-call.ts). Only a
//   caller-chosen X-Call-Id also gets kv.create(callId) first, the first-writer-wins dedupe beyond
//   the msgID window. A first delivery reads nothing (its record is derived from the message and
//   the `running` update is a create-if-absent); a call's small result goes inside its final
//   record update (one write), then the ack;
// - cancel broadcast on core subject faasq.cancel so onCancel fires in every process.
// Consumption and priorities: priority-consumer.ts. Retries: nak(delay). Stats: consumer info
// (num_pending + num_ack_pending per level), stream subject counts for delayed calls and dead
// letters; "delayed" also counts retries waiting in this process (other processes' are in-flight).
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../../config/index.js';
import { FaasqError, type Logger } from '../../shared/index.js';
import { DEFAULT_QUEUE, type CallMessage, type CallRecord, type CallResult, type Consumer, type DeadLetter, type Queue, type RecordGuard } from '../queue.js';
import { decodeResult, encodeResult } from './codec.js';
import { createCallResults, type CallResults } from './call-results.js';
import { CancelBroadcast } from './cancel-broadcast.js';
import { connectNats } from './connect-nats.js';
import { createCallRecords, LIVE_STATES, newRecord, plain, type CallRecords } from './call-records.js';
import { createDeadLetterStore, type DeadLetterStore } from './dead-letters.js';
import { createDelivery } from './delivery.js';
import { isUnstoredDuplicateError, toQueueError } from './jetstream-errors.js';
import { createNames } from './names.js';
import { createWriteBatcher } from './write-batcher.js';
import { findQueued } from './queued-lookup.js';
import { enqueueCall, FRAME_OVERHEAD_BYTES, unconfirmed } from './enqueue-call.js';
import { createAckedPublisher, type AckedPublisher } from './acked-publisher.js';
import { startDelayMover } from './delay-mover.js';
import { startPriorityConsumer } from './priority-consumer.js';
import { readQueueStats, RetryDelays } from './queue-stats.js';
import { provisionBuckets, provisionDeadLetters, provisionQueue } from './provision.js';

export interface JetStreamQueueDeps {
  readonly config: Config;
  readonly logger: Logger;
  /** Names every stream, subject and bucket (tests use a random one); default "faasq". */
  readonly prefix?: string;
}

const PUBLISH_TIMEOUT_MS = 2000;
/** Waits between the tries of one accept (doubling up to the max). */
const ACCEPT_FIRST_WAIT_MS = 50;
const ACCEPT_MAX_WAIT_MS = 1000;
/**
 * How long a leader may answer "duplicate, not stored" for a call before the accept takes it for a
 * cut-off leader's proposal that will never be stored and publishes under a second msgID. A live
 * proposal commits within a round trip to a follower; this leaves room for a slow one.
 */
const STUCK_DUPLICATE_MS = 4000;
const API_TIMEOUT_MS = 5000;
/** nats-server's default max_payload. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Results up to this size (encoded) are stored inside the final call record instead of on their own. */
const MAX_INLINE_RESULT_BYTES = 16 * 1024;
/** Bound on results held between putResult and the final update (one per running call, normally). */
const MAX_HELD_RESULTS = 4096;
/** Bound on the messages remembered as leased here (a delivery its worker never settled stays until pushed out). */
const MAX_LEASED = 50_000;

interface Connection {
  readonly nc: NatsConnection;
  readonly publisher: AckedPublisher;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly records: CallRecords;
  readonly results: CallResults;
  readonly deadLetters: DeadLetterStore;
}

export function createJetStreamQueue(deps: JetStreamQueueDeps): Queue {
  const queueConfig = deps.config.queue;
  const logger = deps.logger.child({ component: 'queue', backend: 'jetstream' });
  const names = createNames(deps.prefix);
  const servers = queueConfig.url.split(',').map((s) => s.trim()).filter(Boolean);
  const provisionOptions = { replicas: queueConfig.streamReplicas, leaseMs: queueConfig.leaseMs, maxDepth: queueConfig.maxDepth, retentionMs: queueConfig.retentionMs };
  const declared = new Map<string, Promise<void>>();
  const cancels = new CancelBroadcast(names.cancelSubject, logger);
  const consumers = new Set<Consumer>();
  const retryDelays = new RetryDelays();
  const noteDelayed = (message: CallMessage, dueAt: number): void => retryDelays.note(message.queue, message.callId, dueAt);
  const settling = new Set<Promise<void>>();
  const batch = createWriteBatcher();
  // Results of running calls waiting for the worker's final record update (see putResult).
  const heldResults = new Map<string, { readonly result: CallResult; readonly frame: Uint8Array }>();
  // Messages delivered to this process and not yet settled. Such a call is queued for certain (a
  // work-queue message goes only when acked), so a record lookup that finds neither its record nor
  // its message was answered by a server that is behind (a stream leader cut off by a partition or
  // a freeze answers until it learns it was replaced): the record is derived from the message and
  // the write's compare-and-set, which needs the quorum, decides. Read as "gone", that answer once
  // made a worker take a call for cancelled and ack it: accepted, never run, no record.
  const leased = new Map<string, CallMessage>();
  const holdLeased = (message: CallMessage): void => {
    leased.delete(message.callId);
    leased.set(message.callId, message);
    if (leased.size > MAX_LEASED) leased.delete(leased.keys().next().value as string);
  };
  const releaseLeased = (message: CallMessage): void => {
    if (leased.get(message.callId) === message) leased.delete(message.callId);
  };
  const track = (promise: Promise<void>): Promise<void> => {
    settling.add(promise);
    const forget = (): void => {
      settling.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  };
  let conn: Connection | undefined;
  let isConnected = false;
  let isClosed = false;
  let starting: Promise<void> | undefined;

  const subjectFor = (message: CallMessage): string =>
    message.notBefore !== undefined && message.notBefore > Date.now()
      ? names.delayedSubject(message.queue, message.priority, message.callId)
      : names.prioritySubject(message.queue, message.priority, message.callId);

  const started = (): Connection => {
    if (!conn || isClosed) throw new FaasqError('E_QUEUE_UNAVAILABLE', isClosed ? 'queue is closed' : 'queue is not started');
    return conn;
  };

  /** Fails fast while disconnected: callers get 503 at once instead of waiting for a timeout. */
  const need = (): Connection => {
    const c = started();
    if (!isConnected) throw new FaasqError('E_QUEUE_UNAVAILABLE', 'NATS is disconnected', { headers: { 'Retry-After': '1' } });
    return c;
  };

  const guarded = async <T>(action: string, fn: (c: Connection) => Promise<T>): Promise<T> => {
    const c = need();
    try {
      return await fn(c);
    } catch (err) {
      throw toQueueError(err, action);
    }
  };

  async function connectAndProvision(): Promise<void> {
    const nc = await connectNats({ servers, logger, onConnected: (is) => (isConnected = is) });
    try {
      const jsm = await jetstreamManager(nc, { timeout: API_TIMEOUT_MS });
      const js = jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS });
      const buckets = await provisionBuckets(js, jsm, names, { ...provisionOptions, timeoutMs: PUBLISH_TIMEOUT_MS });
      await provisionDeadLetters(jsm, names, provisionOptions);
      const deadLetters = createDeadLetterStore({ js, jsm, names, publishTimeoutMs: PUBLISH_TIMEOUT_MS, subjectFor, ensureQueue: (q) => queue.ensureQueue(q), requeueRecord });
      const publisher = createAckedPublisher(nc);
      const writeRecord = async (key: string, data: Uint8Array, previousRevision: number): Promise<number> =>
        (await publisher.publish(`$KV.${names.recordsBucket}.${key}`, data, { expectLastSubjectSequence: previousRevision, timeoutMs: PUBLISH_TIMEOUT_MS })).seq;
      const records = createCallRecords(buckets.records, names, async (callId) => leased.get(callId) ?? findQueued(jsm, names, callId, () => queue.listQueues()), batch, writeRecord);
      const results = createCallResults(buckets.results, names, () => nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD);
      conn = { nc, publisher, js, jsm, records, results, deadLetters };
      cancels.attach(nc);
      warnOnSmallPayload(nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD);
    } catch (err) {
      await nc.close().catch(() => undefined);
      isConnected = false;
      throw toQueueError(err, 'start');
    }
  }

  /** A call is one NATS message: a server whose max_payload is below the async body limit refuses big calls (413). */
  function warnOnSmallPayload(maxPayload: number): void {
    const needed = deps.config.gateway.maxAsyncBodyBytes + deps.config.gateway.maxHeaderBytes + FRAME_OVERHEAD_BYTES;
    if (maxPayload >= needed) return;
    logger.warn({ maxPayload, needed }, 'nats-server max_payload is below the async body limit; larger calls get 413 (set max_payload: 8MB in the server config)');
  }

  /** A generated id's first delivery reads nothing: its record is the message's, and the first write's CAS checks it. */
  async function readDeliveryRecord(message: CallMessage, deliveryCount: number): Promise<CallRecord> {
    const c = need();
    // A first delivery of a generated id has no record to read (the message is its record); a
    // caller's id had its record written at accept, and a redelivery's may say final: read those.
    if (deliveryCount <= 1 && !message.hasCallerId) return c.records.assume(message);
    return (await c.records.readFor(message)).record;
  }

  async function requeueRecord(message: CallMessage): Promise<CallRecord> {
    const c = need();
    const reset: Partial<CallRecord> = { state: 'queued', attempts: 0, finishedAt: undefined, startedAt: undefined, nextAttemptAt: undefined, lastError: undefined, lastStatus: undefined, durationMs: undefined };
    const patched = await c.records.patch(message.callId, reset);
    if (patched) return patched;
    const record = newRecord(message);
    await c.records.put(record);
    return record;
  }

  async function deadLetterDelivery(message: CallMessage, msg: JsMsg, info: { status?: number; error?: string }): Promise<void> {
    const c = need();
    const current = await c.records.readFor(message);
    // plain() drops undefined fields; the message (with its Buffer body) is added afterwards.
    const head = plain({
      callId: message.callId,
      queue: message.queue,
      function: message.function,
      namespace: message.namespace,
      deadAt: new Date().toISOString(),
      attempts: current.record.attempts || msg.info.deliveryCount,
      lastStatus: info.status ?? current.record.lastStatus,
      lastError: info.error ?? current.record.lastError,
    });
    const deadLetter: DeadLetter = { ...head, message };
    await c.deadLetters.add(deadLetter, `dlq.${message.callId}.${msg.seq}.${msg.info.deliveryCount}`);
    await c.records.patch(message.callId, { state: 'dead', finishedAt: deadLetter.deadAt, lastStatus: deadLetter.lastStatus, lastError: deadLetter.lastError }, { ifStateIn: LIVE_STATES });
  }

  const queue: Queue = {
    backend: 'jetstream',
    hasStaleFirstDeliveries: true,

    async start() {
      if (isClosed) throw new FaasqError('E_QUEUE_UNAVAILABLE', 'queue is closed');
      starting ??= connectAndProvision()
        // The default queue exists from the start, so a server that mangles the config fails start().
        .then(() => queue.ensureQueue(DEFAULT_QUEUE))
        .catch(async (err: unknown) => {
          const opened = conn;
          conn = undefined;
          isConnected = false;
          cancels.detach();
          opened?.publisher.close();
          await opened?.nc.close().catch(() => undefined);
          starting = undefined;
          throw err;
        });
      await starting;
    },

    async close() {
      if (isClosed) return;
      isClosed = true;
      await Promise.all([...consumers].map((c) => c.close()));
      consumers.clear();
      // Acks and dead-letter moves under way finish on the open connection (bounded by their timeouts).
      await Promise.allSettled([...settling]);
      const c = conn;
      conn = undefined;
      isConnected = false;
      if (!c) return;
      cancels.detach();
      c.publisher.close();
      let timer: NodeJS.Timeout | undefined;
      const drained = c.nc.drain().catch(() => undefined);
      await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, API_TIMEOUT_MS)))]);
      clearTimeout(timer);
      if (!c.nc.isClosed()) await c.nc.close().catch(() => undefined);
    },

    isHealthy: () => conn !== undefined && !isClosed && isConnected && !conn.nc.isClosed(),

    async enqueue(message, options) {
      // Tried again (same msgID, so the server stores it once; after a reconnect, on another server)
      // until stored or the accept deadline passes. A refusal then says what is known: nothing was
      // sent (E_QUEUE_UNAVAILABLE), or it may be stored (E_ACCEPT_UNCONFIRMED, with the call id).
      const deadline = Date.now() + queueConfig.acceptTimeoutMs;
      let isSent = false;
      let waitMs = ACCEPT_FIRST_WAIT_MS;
      /** When the leader first answered "duplicate, not stored" (EnqueueOptions.isPastStuckDuplicate). */
      let unstoredSince: number | undefined;
      for (let tries = 1; ; tries++) {
        try {
          await untilConnected(deadline);
          await queue.ensureQueue(message.queue);
          return await guarded('enqueue', (c) =>
            enqueueCall({
              names, jsm: c.jsm, records: c.records, dedupeWindowMs: queueConfig.dedupeWindowMs, maxPayload: c.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD,
              publish: (m, frame, msgID) => {
                isSent = true;
                return publishCall(c, m, frame, msgID);
              },
              onWrite: () => (isSent = true),
            }, message, {
              hasCallerId: options?.hasCallerId === true,
              isRetry: tries > 1,
              isPastStuckDuplicate: unstoredSince !== undefined && Date.now() - unstoredSince >= STUCK_DUPLICATE_MS,
            }));
        } catch (err) {
          if (isUnstoredDuplicateError(err)) unstoredSince ??= Date.now();
          const e = toQueueError(err, 'enqueue');
          const isRetryable = e.code === 'E_QUEUE_UNAVAILABLE' && !isClosed;
          if (isRetryable && Date.now() + waitMs < deadline) {
            await new Promise((resolve) => setTimeout(resolve, waitMs));
            waitMs = Math.min(waitMs * 2, ACCEPT_MAX_WAIT_MS);
            continue;
          }
          if (isRetryable && isSent) throw unconfirmed(message.callId, queueConfig.acceptTimeoutMs, e);
          throw e;
        }
      }
    },

    consume(options, handler) {
      // Only started, not connected: the consumer loops ride out a disconnect on their own.
      const c = started();
      const consumer = startPriorityConsumer({
        js: c.js,
        names,
        queue: options.queue,
        maxInflight: options.maxInflight,
        leaseMs: queueConfig.leaseMs,
        logger,
        handler,
        ready: () => queue.ensureQueue(options.queue),
        createDelivery: (msg, message, onSettled) => {
          holdLeased(message);
          const settled = (): void => {
            releaseLeased(message);
            onSettled();
          };
          return createDelivery({ ackTimeoutMs: PUBLISH_TIMEOUT_MS, deadLetter: deadLetterDelivery, onDelayed: noteDelayed, track, batch, record: readDeliveryRecord, complete: completeCall }, msg, message, settled);
        },
        onDelayed: noteDelayed,
      });
      const mover = startDelayMover({ js: c.js, names, queue: options.queue, publishTimeoutMs: PUBLISH_TIMEOUT_MS, logger, ready: () => queue.ensureQueue(options.queue) });
      const tracked: Consumer = {
        async close() {
          consumers.delete(tracked);
          await Promise.all([consumer.close(), mover.close()]);
        },
      };
      consumers.add(tracked);
      return tracked;
    },

    getRecord: (callId) => guarded('get record', async (c) => (await c.records.read(callId))?.record),

    updateRecord: (callId, patch, guard) =>
      guarded('update record', async (c) => {
        const held = patch.hasResult === true ? heldResults.get(callId) : undefined;
        if (!held) return c.records.patch(callId, patch, guard);
        heldResults.delete(callId);
        return patchWithResult(c, callId, patch, guard, held.result, held.frame);
      }),

    putResult: (callId, result) =>
      guarded('put result', async (c) => {
        // A running call's result is announced by the worker's final record update (which sets
        // hasResult), so it needs no patch of its own; a small one is held here and written inside
        // that update: the outcome and the result become one KV write.
        const isRunning = c.records.known(callId)?.state === 'running';
        if (isRunning) {
          const frame = encodeResult(result);
          if (frame.length <= MAX_INLINE_RESULT_BYTES && heldResults.size < MAX_HELD_RESULTS) {
            heldResults.set(callId, { result, frame });
            return;
          }
        }
        await c.results.put(callId, result);
        if (!isRunning) await c.records.patch(callId, { hasResult: true });
      }),

    getResult: (callId) =>
      guarded('get result', async (c) => {
        const held = heldResults.get(callId);
        if (held) return held.result;
        const stored = await c.results.get(callId);
        if (stored) return stored;
        const inline = (await c.records.read(callId))?.inlineResult;
        return inline ? decodeResult(inline) : undefined;
      }),

    cancel: (callId) =>
      guarded('cancel', async (c) => {
        const cancelled = await c.records.patch(callId, { state: 'cancelled', finishedAt: new Date().toISOString() }, { ifStateIn: LIVE_STATES });
        if (!cancelled) return (await c.records.read(callId))?.record;
        // A queued (or delayed) message is removed; a running one is stopped by the onCancel listeners.
        const stream = names.queueStream(cancelled.queue);
        const subjects = [names.prioritySubject(cancelled.queue, cancelled.priority, callId), names.delayedSubject(cancelled.queue, cancelled.priority, callId)];
        await Promise.all(subjects.map((filter) => c.jsm.streams.purge(stream, { filter }))).catch((err: unknown) => {
          logger.warn({ err, callId }, 'could not remove the cancelled message; the worker will skip it');
        });
        cancels.announce(callId);
        return cancelled;
      }),

    onCancel: (listener) => cancels.listen(listener),

    listDeadLetters: (filter) => guarded('list dead letters', (c) => c.deadLetters.list(filter)),
    getDeadLetter: (callId) => guarded('get dead letter', (c) => c.deadLetters.get(callId)),
    replayDeadLetters: (ids, filter) => guarded('replay dead letters', (c) => c.deadLetters.replay(ids, filter)),
    purgeDeadLetters: (ids, filter) => guarded('purge dead letters', (c) => c.deadLetters.purge(ids, filter)),

    async ensureQueue(name) {
      const c = need();
      let pending = declared.get(name);
      if (!pending) {
        pending = provisionQueue(c.jsm, names, name, provisionOptions);
        declared.set(name, pending);
      }
      try {
        await pending;
      } catch (err) {
        if (declared.get(name) === pending) declared.delete(name);
        throw toQueueError(err, `declare queue ${name}`);
      }
    },

    listQueues: () =>
      guarded('list queues', async (c) => {
        const found = new Set<string>();
        for await (const stream of c.jsm.streams.names()) {
          const name = names.queueOfStream(stream);
          if (name !== undefined) found.add(name);
        }
        return [...found].sort();
      }),

    stats: () =>
      guarded('stats', async (c) => {
        const [queueNames, deadLetters] = await Promise.all([queue.listQueues(), c.deadLetters.countByQueue()]);
        return Promise.all(queueNames.map((name) => readQueueStats(c.jsm, names, name, deadLetters.get(name) ?? 0, retryDelays)));
      }),
  };

  /** Resolves once connected (a reconnect to another server usually takes well under a second); rejects at the deadline. */
  async function untilConnected(deadline: number): Promise<void> {
    while (!isConnected && !isClosed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    need();
  }

  async function publishCall(c: Connection, message: CallMessage, frame: Uint8Array, msgID: string): Promise<void> {
    const subject = subjectFor(message);
    await batch(() => c.publisher.publish(subject, frame, { msgID, expectStream: names.queueStream(message.queue), timeoutMs: PUBLISH_TIMEOUT_MS }));
  }

  /** Delivery.complete without the ack: the final record carrying a small result, or a big one stored first. */
  async function completeCall(message: CallMessage, patch: Partial<CallRecord>, result: CallResult | undefined, guard: RecordGuard | undefined): Promise<CallRecord | undefined> {
    const c = need();
    const { callId } = message;
    const held = heldResults.get(callId);
    heldResults.delete(callId);
    if (result) return patchWithResult(c, callId, patch, guard, result);
    if (held) return patchWithResult(c, callId, patch, guard, held.result, held.frame);
    return c.records.patch(callId, patch, guard);
  }

  /**
   * A record patch that announces a result: a small one travels inside the record's write, a big
   * one is stored first on its own. When the guard fails (cancelled) the result is still stored.
   */
  async function patchWithResult(c: Connection, callId: string, patch: Partial<CallRecord>, guard: RecordGuard | undefined, result: CallResult, frame = encodeResult(result)): Promise<CallRecord | undefined> {
    const inline = frame.length <= MAX_INLINE_RESULT_BYTES ? frame : undefined;
    if (!inline) await c.results.put(callId, result);
    const updated = await c.records.patch(callId, { ...patch, hasResult: true }, guard, inline);
    if (!updated && inline) await c.results.put(callId, result);
    return updated;
  }

  return queue;
}
