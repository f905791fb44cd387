// The Queue seam on NATS JetStream (nats-server >= 2.10, no 2.11+ feature), the production and
// multi-machine backend. Layout, all names from names.ts (default prefix "faasq"):
// - per queue a WorkQueue file stream FAASQ_Q_<queue>, subjects faasq.q.<queue>.p<0-9>.<callId>
//   (ready calls) and faasq.q.<queue>.d.<priority>.<callId> (calls waiting for notBefore), with
//   max_msgs = queue.maxDepth and discard new (full: E_QUEUE_FULL), msgID dedupe (2 min);
// - per (queue, priority) a durable pull consumer p<N>: explicit ack, ack_wait = leaseMs,
//   max_deliver -1 (attempts are counted by the worker on the record, not by deliveryCount),
//   max_ack_pending -1 (retries wait as naked messages); plus a "delayed" consumer (delay-mover.ts);
// - dead letters in the FAASQ_DLQ stream, subjects faasq.dlq.<queue>.<callId>;
// - records and results in KV buckets FAASQ_records / FAASQ_results, bucket TTL = retentionMs;
//   kv.create(callId) is the first-writer-wins dedupe beyond the msgID window;
// - cancel broadcast on core subject faasq.cancel so onCancel fires in every process.
// Consumption and priorities: priority-consumer.ts. Retries: nak(delay). Stats: consumer info
// (num_pending + num_ack_pending per level), stream subject counts for delayed calls and dead
// letters; "delayed" also counts retries waiting in this process (other processes' are in-flight).
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Config } from '../../config/index.js';
import { FaasqError, type Logger } from '../../shared/index.js';
import { FINAL_STATES, type CallMessage, type CallRecord, type CallState, type Consumer, type DeadLetter, type Queue, type QueueStats } from '../queue.js';
import { decodeRecord, decodeResult, encodeMessage, encodeRecord, encodeResult } from './codec.js';
import { createDeadLetterStore, type DeadLetterStore } from './dead-letters.js';
import { createDelivery } from './delivery.js';
import { isWrongLastSequenceError, toQueueError } from './jetstream-errors.js';
import { createNames, PRIORITIES } from './names.js';
import { startDelayMover } from './delay-mover.js';
import { startPriorityConsumer } from './priority-consumer.js';
import { DUPLICATE_WINDOW_MS, provisionBuckets, provisionDeadLetters, provisionQueue } from './provision.js';

export interface JetStreamQueueDeps {
  readonly config: Config;
  readonly logger: Logger;
  /** Names every stream, subject and bucket (tests use a random one); default "faasq". */
  readonly prefix?: string;
}

const PUBLISH_TIMEOUT_MS = 2000;
const API_TIMEOUT_MS = 5000;
const CONNECT_TIMEOUT_MS = 5000;
const MAX_UPDATE_TRIES = 20;
/** Bytes kept free under the server's max_payload for the frame head and NATS headers. */
const FRAME_OVERHEAD_BYTES = 1024;

interface Connection {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly records: KV;
  readonly results: KV;
  readonly deadLetters: DeadLetterStore;
  readonly cancelSub: Subscription;
}

const LIVE_STATES: readonly CallState[] = ['queued', 'running', 'retrying'];

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** JSON round trip: what a reader gets back (undefined fields dropped). */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function newRecord(m: CallMessage): CallRecord {
  return plain({
    callId: m.callId,
    function: m.function,
    namespace: m.namespace,
    queue: m.queue,
    priority: m.priority,
    state: 'queued' as const,
    attempts: 0,
    acceptedAt: new Date(m.enqueuedAt).toISOString(),
    notBefore: iso(m.notBefore),
    expiresAt: iso(m.expiresAt),
    updatedAt: new Date().toISOString(),
    hasResult: false,
    callback: m.callbackUrl ? { url: m.callbackUrl, state: 'pending' as const, attempts: 0 } : undefined,
  });
}

export function createJetStreamQueue(deps: JetStreamQueueDeps): Queue {
  const queueConfig = deps.config.queue;
  const logger = deps.logger.child({ component: 'queue', backend: 'jetstream' });
  const names = createNames(deps.prefix);
  const instanceId = randomUUID();
  const servers = queueConfig.url.split(',').map((s) => s.trim()).filter(Boolean);
  const provisionOptions = { replicas: queueConfig.streamReplicas, leaseMs: queueConfig.leaseMs, maxDepth: queueConfig.maxDepth, retentionMs: queueConfig.retentionMs };
  const declared = new Map<string, Promise<void>>();
  const cancelListeners = new Set<(callId: string) => void>();
  const consumers = new Set<Consumer>();
  const delayed = new Map<string, Map<string, number>>();
  let conn: Connection | undefined;
  let isConnected = false;
  let isClosed = false;
  let starting: Promise<void> | undefined;

  const subjectFor = (message: CallMessage): string =>
    message.notBefore !== undefined && message.notBefore > Date.now()
      ? names.delayedSubject(message.queue, message.priority, message.callId)
      : names.prioritySubject(message.queue, message.priority, message.callId);

  const need = (): Connection => {
    if (!conn || isClosed) throw new FaasqError('E_QUEUE_UNAVAILABLE', isClosed ? 'queue is closed' : 'queue is not started');
    if (!isConnected) throw new FaasqError('E_QUEUE_UNAVAILABLE', 'NATS is disconnected', { headers: { 'Retry-After': '1' } });
    return conn;
  };

  const guarded = async <T>(action: string, fn: (c: Connection) => Promise<T>): Promise<T> => {
    const c = need();
    try {
      return await fn(c);
    } catch (err) {
      throw toQueueError(err, action);
    }
  };

  const fireCancel = (callId: string): void => {
    for (const listener of cancelListeners) {
      try {
        listener(callId);
      } catch (err) {
        logger.error({ err, callId }, 'cancel listener threw');
      }
    }
  };

  async function connectAndProvision(): Promise<void> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers, name: 'faasq', maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: CONNECT_TIMEOUT_MS, pingInterval: 10_000, maxPingOut: 2 });
    } catch (err) {
      throw new FaasqError('E_QUEUE_UNAVAILABLE', `cannot connect to NATS at ${servers.join(',')}`, { cause: err });
    }
    isConnected = true;
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          isConnected = false;
          logger.warn({ server: status.server }, 'nats disconnected');
        } else if (status.type === 'reconnect') {
          isConnected = true;
          logger.info({ server: status.server }, 'nats reconnected');
        }
      }
    })();
    try {
      const jsm = await jetstreamManager(nc, { timeout: API_TIMEOUT_MS });
      const js = jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS });
      const { records, results } = await provisionBuckets(js, jsm, names, { ...provisionOptions, timeoutMs: PUBLISH_TIMEOUT_MS });
      await provisionDeadLetters(jsm, names, provisionOptions);
      const cancelSub = nc.subscribe(names.cancelSubject, {
        callback: (err, msg) => {
          if (err) return;
          try {
            const { callId, from } = msg.json<{ callId: string; from: string }>();
            if (from !== instanceId) fireCancel(callId);
          } catch (parseErr) {
            logger.warn({ err: parseErr }, 'bad cancel broadcast');
          }
        },
      });
      const deadLetters = createDeadLetterStore({ js, jsm, names, publishTimeoutMs: PUBLISH_TIMEOUT_MS, subjectFor, ensureQueue: (q) => queue.ensureQueue(q), requeueRecord });
      conn = { nc, js, jsm, records, results, deadLetters, cancelSub };
    } catch (err) {
      await nc.close().catch(() => undefined);
      isConnected = false;
      throw toQueueError(err, 'start');
    }
  }

  async function readRecord(c: Connection, callId: string): Promise<{ record: CallRecord; revision: number } | undefined> {
    const entry = await c.records.get(names.key(callId));
    if (!entry || entry.operation !== 'PUT') return undefined;
    return { record: decodeRecord(entry.value), revision: entry.revision };
  }

  async function patchRecord(c: Connection, callId: string, patch: Partial<CallRecord>, ifStateIn?: readonly CallState[]): Promise<CallRecord | undefined> {
    for (let i = 0; i < MAX_UPDATE_TRIES; i++) {
      const current = await readRecord(c, callId);
      if (!current) return undefined;
      if (ifStateIn && !ifStateIn.includes(current.record.state)) return undefined;
      const next = plain({ ...current.record, ...patch, callId, updatedAt: new Date().toISOString() });
      try {
        await c.records.update(names.key(callId), encodeRecord(next), current.revision);
        return next;
      } catch (err) {
        if (!isWrongLastSequenceError(err)) throw err;
      }
    }
    throw new FaasqError('E_CONFLICT', `call record ${callId} kept changing; update gave up`);
  }

  async function requeueRecord(message: CallMessage): Promise<CallRecord> {
    const c = need();
    const reset: Partial<CallRecord> = { state: 'queued', attempts: 0, finishedAt: undefined, startedAt: undefined, nextAttemptAt: undefined, lastError: undefined, lastStatus: undefined, durationMs: undefined };
    const patched = await patchRecord(c, message.callId, reset);
    if (patched) return patched;
    const record = newRecord(message);
    await c.records.put(names.key(message.callId), encodeRecord(record));
    return record;
  }

  async function deadLetterDelivery(message: CallMessage, msg: JsMsg, info: { status?: number; error?: string }): Promise<void> {
    const c = need();
    const current = await readRecord(c, message.callId);
    const deadLetter: DeadLetter = plain({
      callId: message.callId,
      queue: message.queue,
      function: message.function,
      namespace: message.namespace,
      deadAt: new Date().toISOString(),
      attempts: current?.record.attempts ?? msg.info.deliveryCount,
      lastStatus: info.status ?? current?.record.lastStatus,
      lastError: info.error ?? current?.record.lastError,
      message,
    });
    await c.deadLetters.add({ ...deadLetter, message }, `dlq.${message.callId}.${msg.seq}.${msg.info.deliveryCount}`);
    await patchRecord(c, message.callId, { state: 'dead', finishedAt: deadLetter.deadAt, lastStatus: deadLetter.lastStatus, lastError: deadLetter.lastError }, LIVE_STATES);
  }

  const noteDelayed = (message: CallMessage, dueAt: number): void => {
    let byCall = delayed.get(message.queue);
    if (!byCall) delayed.set(message.queue, (byCall = new Map()));
    byCall.set(message.callId, dueAt);
  };

  const delayedCount = (queueName: string): number => {
    const byCall = delayed.get(queueName);
    if (!byCall) return 0;
    const now = Date.now();
    for (const [callId, dueAt] of byCall) if (dueAt <= now) byCall.delete(callId);
    return byCall.size;
  };

  async function queueStats(c: Connection, name: string, deadLetters: number): Promise<QueueStats> {
    const stream = names.queueStream(name);
    const infos = await Promise.all(PRIORITIES.map((p) => c.jsm.consumers.info(stream, names.durable(p))));
    const depthByPriority: Record<number, number> = {};
    let depth = 0;
    let ackPending = 0;
    let oldest = Number.POSITIVE_INFINITY;
    await Promise.all(
      infos.map(async (info, i) => {
        const priority = PRIORITIES[i];
        const n = info.num_pending + info.num_ack_pending;
        if (n > 0) depthByPriority[priority] = n;
        depth += n;
        ackPending += info.num_ack_pending;
        if (info.num_pending === 0) return;
        const next = await c.jsm.streams.getMessage(stream, { seq: info.delivered.stream_seq + 1, next_by_subj: names.priorityFilter(name, priority) } as unknown as { seq: number });
        if (next) oldest = Math.min(oldest, next.time.getTime());
      }),
    );
    const waiting = await c.jsm.streams.info(stream, { subjects_filter: names.delayedFilter(name) });
    let waitingCount = 0;
    for (const [subject, n] of Object.entries(waiting.state.subjects ?? {})) {
      const priority = names.priorityOfDelayedSubject(subject);
      depthByPriority[priority] = (depthByPriority[priority] ?? 0) + n;
      waitingCount += n;
    }
    const retrying = Math.min(delayedCount(name), ackPending);
    return {
      name,
      depth: depth + waitingCount,
      depthByPriority,
      delayed: waitingCount + retrying,
      inflight: ackPending - retrying,
      oldestAgeMs: Number.isFinite(oldest) ? Math.max(0, Date.now() - oldest) : 0,
      deadLetters,
    };
  }

  const queue: Queue = {
    backend: 'jetstream',

    async start() {
      if (isClosed) throw new FaasqError('E_QUEUE_UNAVAILABLE', 'queue is closed');
      starting ??= connectAndProvision().catch((err: unknown) => {
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
      const c = conn;
      conn = undefined;
      isConnected = false;
      if (!c) return;
      c.cancelSub.unsubscribe();
      let timer: NodeJS.Timeout | undefined;
      const drained = c.nc.drain().catch(() => undefined);
      await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, API_TIMEOUT_MS)))]);
      clearTimeout(timer);
      if (!c.nc.isClosed()) await c.nc.close().catch(() => undefined);
    },

    isHealthy: () => conn !== undefined && !isClosed && isConnected && !conn.nc.isClosed(),

    async enqueue(message) {
      await queue.ensureQueue(message.queue);
      return guarded('enqueue', async (c) => {
        const frame = encodeMessage(message);
        const maxPayload = c.nc.info?.max_payload ?? 1024 * 1024;
        if (frame.length + FRAME_OVERHEAD_BYTES > maxPayload) {
          throw new FaasqError('E_BODY_TOO_LARGE', `call of ${frame.length} bytes exceeds the NATS server's max_payload (${maxPayload} bytes)`);
        }
        const key = names.key(message.callId);
        const record = newRecord(message);
        let revision: number;
        try {
          revision = await c.records.create(key, encodeRecord(record));
        } catch (err) {
          if (!isWrongLastSequenceError(err)) throw err;
          const existing = await readRecord(c, message.callId);
          if (existing && Date.now() - Date.parse(existing.record.acceptedAt) < queueConfig.dedupeWindowMs) {
            await republishIfYoung(c, existing.record, message, frame);
            return { record: existing.record, isDuplicate: true };
          }
          revision = existing ? await c.records.update(key, encodeRecord(record), existing.revision) : await c.records.create(key, encodeRecord(record));
        }
        try {
          await c.js.publish(subjectFor(message), frame, {
            msgID: message.callId,
            expect: { streamName: names.queueStream(message.queue) },
            timeout: PUBLISH_TIMEOUT_MS,
          });
        } catch (err) {
          await c.records.delete(key, { previousSeq: revision }).catch(() => undefined);
          throw err;
        }
        return { record, isDuplicate: false };
      });
    },

    consume(options, handler) {
      const c = need();
      const consumer = startPriorityConsumer({
        js: c.js,
        names,
        queue: options.queue,
        maxInflight: options.maxInflight,
        leaseMs: queueConfig.leaseMs,
        logger,
        handler,
        ready: () => queue.ensureQueue(options.queue),
        createDelivery: (msg, message, onSettled) =>
          createDelivery({ ackTimeoutMs: PUBLISH_TIMEOUT_MS, deadLetter: deadLetterDelivery, onDelayed: noteDelayed }, msg, message, onSettled),
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

    getRecord: (callId) => guarded('get record', async (c) => (await readRecord(c, callId))?.record),

    updateRecord: (callId, patch, guard) => guarded('update record', (c) => patchRecord(c, callId, patch, guard?.ifStateIn)),

    putResult: (callId, result) =>
      guarded('put result', async (c) => {
        await c.results.put(names.key(callId), encodeResult(result));
        await patchRecord(c, callId, { hasResult: true });
      }),

    getResult: (callId) =>
      guarded('get result', async (c) => {
        const entry = await c.results.get(names.key(callId));
        return entry && entry.operation === 'PUT' ? decodeResult(entry.value) : undefined;
      }),

    cancel: (callId) =>
      guarded('cancel', async (c) => {
        const cancelled = await patchRecord(c, callId, { state: 'cancelled', finishedAt: new Date().toISOString() }, LIVE_STATES);
        if (!cancelled) return (await readRecord(c, callId))?.record;
        // A queued (or delayed) message is removed; a running one is stopped by the onCancel listeners.
        const stream = names.queueStream(cancelled.queue);
        const subjects = [names.prioritySubject(cancelled.queue, cancelled.priority, callId), names.delayedSubject(cancelled.queue, cancelled.priority, callId)];
        await Promise.all(subjects.map((filter) => c.jsm.streams.purge(stream, { filter }))).catch((err: unknown) => {
          logger.warn({ err, callId }, 'could not remove the cancelled message; the worker will skip it');
        });
        c.nc.publish(names.cancelSubject, JSON.stringify({ callId, from: instanceId }));
        fireCancel(callId);
        return cancelled;
      }),

    onCancel(listener) {
      cancelListeners.add(listener);
      return () => {
        cancelListeners.delete(listener);
      };
    },

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
        return Promise.all(queueNames.map((name) => queueStats(c, name, deadLetters.get(name) ?? 0)));
      }),
  };

  /** A duplicate whose first enqueue may have died between the record and the publish: publish again under the same msgID (the server drops it if it is stored). */
  async function republishIfYoung(c: Connection, existing: CallRecord, message: CallMessage, frame: Uint8Array): Promise<void> {
    if (existing.state !== 'queued' || Date.now() - Date.parse(existing.acceptedAt) > DUPLICATE_WINDOW_MS / 2) return;
    await c.js
      .publish(subjectFor(message), frame, { msgID: message.callId, expect: { streamName: names.queueStream(existing.queue) }, timeout: PUBLISH_TIMEOUT_MS })
      .catch((err: unknown) => logger.warn({ err, callId: message.callId }, 'duplicate re-publish failed'));
  }

  return queue;
}
