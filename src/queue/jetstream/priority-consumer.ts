// Consumes one queue across its ten priority consumers and hands deliveries out highest priority
// first, then oldest first, at most maxInflight at once.
//
// Design (nats-server 2.10 has no priority groups): each priority level has its own durable pull
// consumer, read with consume({ max_messages: batch, expires: 5000, idle_heartbeat: 1000 }) (short
// heartbeats: a lost consumer leader is noticed in seconds, not 40 s). Arrivals go into a small
// local buffer, at most batch + 1 per level (the +1 keeps a level's next message already here when
// its head is dispatched); the dispatcher takes the best buffered message whenever a slot is free.
// Nothing is dispatched until every level has sent its first pull (then START_GATHER_MS more), and
// a dispatcher that was idle waits GATHER_MS, so that levels answering a moment later still compete. Buffered messages are
// kept leased with working(). A delivery whose lease runs out unextended frees its slot (the
// server redelivers it). Calls accepted with a future notBefore never reach these consumers
// (delay-mover.ts); one that does is naked until then. Priority is therefore strict within a
// process's buffer and best effort across processes.
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../../shared/index.js';
import type { CallMessage, Consumer, Delivery } from '../queue.js';
import { decodeMessage } from './codec.js';
import { PRIORITIES, type JetStreamNames } from './names.js';

const GATHER_MS = 25;
/** At start every level's first answer is awaited a little longer (a loaded machine answers late). */
const START_GATHER_MS = 100;
const RESTART_DELAY_MS = 1000;
const CLOSE_WAIT_MS = 3000;
const MAX_BATCH = 32;
/** Longest wait for all levels' first pull before dispatching anyway (a level may be failing). */
const START_WAIT_MS = 2000;

interface Buffered {
  readonly msg: JsMsg;
  readonly message: CallMessage;
  readonly priority: number;
}

export interface PriorityConsumerDeps {
  readonly js: JetStreamClient;
  readonly names: JetStreamNames;
  readonly queue: string;
  readonly maxInflight: number;
  readonly leaseMs: number;
  readonly logger: Logger;
  readonly handler: (delivery: Delivery) => void;
  /** Waits until the queue's streams and consumers exist. */
  ready(): Promise<void>;
  createDelivery(msg: JsMsg, message: CallMessage, onSettled: () => void): Delivery;
  onDelayed(message: CallMessage, dueAt: number): void;
}

export function startPriorityConsumer(deps: PriorityConsumerDeps): Consumer {
  const { js, names, queue, logger } = deps;
  const maxInflight = Math.max(1, deps.maxInflight);
  const batch = Math.min(maxInflight, MAX_BATCH);
  const maxBufferedPerLevel = batch + 1;
  const stream = names.queueStream(queue);
  const buffered: Buffered[] = [];
  const countAt = new Map<number, number>(PRIORITIES.map((p) => [p, 0]));
  const iterators = new Set<ConsumerMessages>();
  let spaceWaiters: (() => void)[] = [];
  let inflight = 0;
  let isClosed = false;
  let gatherTimer: NodeJS.Timeout | undefined;
  let restartTimers = new Set<NodeJS.Timeout>();
  const leaseTimers = new Set<NodeJS.Timeout>();
  let startedLevels = 0;
  const hasStarted = new Set<number>();
  const startDeadline = Date.now() + START_WAIT_MS;
  let startTimer: NodeJS.Timeout | undefined = setTimeout(() => {
    startTimer = undefined;
    drain();
  }, START_WAIT_MS);

  const keepAlive = setInterval(() => {
    for (const item of buffered) item.msg.working();
  }, Math.max(100, Math.floor(deps.leaseMs / 3)));

  const wakeSpace = (): void => {
    const waiters = spaceWaiters;
    spaceWaiters = [];
    for (const wake of waiters) wake();
  };

  const takeBest = (): Buffered | undefined => {
    let best = -1;
    for (let i = 0; i < buffered.length; i++) {
      const a = buffered[i];
      const b = best >= 0 ? buffered[best] : undefined;
      if (!b || a.priority > b.priority || (a.priority === b.priority && (a.message.enqueuedAt < b.message.enqueuedAt || (a.message.enqueuedAt === b.message.enqueuedAt && a.msg.seq < b.msg.seq)))) best = i;
    }
    if (best < 0) return undefined;
    const [item] = buffered.splice(best, 1);
    countAt.set(item.priority, (countAt.get(item.priority) ?? 1) - 1);
    wakeSpace();
    return item;
  };

  const isStarting = (): boolean => startedLevels < PRIORITIES.length && Date.now() < startDeadline;

  const dispatch = (item: Buffered): void => {
    inflight++;
    let isDone = false;
    let leaseTimer: NodeJS.Timeout | undefined;
    const free = (): void => {
      if (leaseTimer) {
        clearTimeout(leaseTimer);
        leaseTimers.delete(leaseTimer);
        leaseTimer = undefined;
      }
      if (isDone) return;
      isDone = true;
      inflight--;
      queueMicrotask(drain);
    };
    // Unextended for a whole lease: the server hands the call out again, so the slot is free.
    const arm = (): void => {
      if (leaseTimer) {
        clearTimeout(leaseTimer);
        leaseTimers.delete(leaseTimer);
      }
      if (isDone) return;
      leaseTimer = setTimeout(free, deps.leaseMs);
      leaseTimers.add(leaseTimer);
    };
    const inner = deps.createDelivery(item.msg, item.message, free);
    arm();
    const delivery: Delivery = {
      message: inner.message,
      deliveryCount: inner.deliveryCount,
      countKept: () => inner.countKept(),
      extend() {
        arm();
        inner.extend();
      },
      ack: () => inner.ack(),
      retry: (delayMs) => inner.retry(delayMs),
      deadLetter: (info) => inner.deadLetter(info),
      release: () => inner.release(),
      record: () => inner.record(),
      complete: (patch, result, guard) => inner.complete(patch, result, guard),
    };
    try {
      deps.handler(delivery);
    } catch (err) {
      logger.error({ err, callId: item.message.callId }, 'delivery handler threw');
    }
  };

  const drain = (): void => {
    if (isStarting() || gatherTimer) return;
    while (!isClosed && inflight < maxInflight && buffered.length > 0) {
      const item = takeBest();
      if (!item) return;
      dispatch(item);
    }
  };

  const gather = (ms = GATHER_MS): void => {
    if (gatherTimer || isClosed) return;
    gatherTimer = setTimeout(() => {
      gatherTimer = undefined;
      drain();
    }, ms);
  };

  /** After an arrival: dispatch now when busy, or gather first when this is the first call in a while. */
  const schedule = (): void => {
    if (isStarting() || gatherTimer) return;
    if (inflight === 0 && buffered.length === 1) gather();
    else drain();
  };

  const arrive = (priority: number, msg: JsMsg): void => {
    let message: CallMessage;
    try {
      message = decodeMessage(msg.data);
    } catch (err) {
      // Not faasq's format: it can never run, and redelivering it forever would clog the level.
      logger.error({ err, stream, seq: msg.seq }, 'undecodable message terminated');
      msg.term();
      return;
    }
    const now = Date.now();
    if (message.notBefore !== undefined && message.notBefore > now) {
      msg.nak(message.notBefore - now);
      deps.onDelayed(message, message.notBefore);
      return;
    }
    buffered.push({ msg, message, priority });
    countAt.set(priority, (countAt.get(priority) ?? 0) + 1);
    schedule();
  };

  const runLevel = async (priority: number): Promise<void> => {
    await deps.ready();
    const consumer = await js.consumers.get(stream, names.durable(priority));
    if (isClosed) return;
    const messages = await consumer.consume({ max_messages: batch, expires: 5000, idle_heartbeat: 1000 });
    iterators.add(messages);
    if (!hasStarted.has(priority)) {
      hasStarted.add(priority);
      startedLevels++;
      // The first pull is on its way; answers from every level get START_GATHER_MS to arrive.
      if (startedLevels === PRIORITIES.length) gather(START_GATHER_MS);
    }
    try {
      if (isClosed) return;
      for await (const msg of messages) {
        if (isClosed) {
          msg.nak();
          continue;
        }
        arrive(priority, msg);
        while (!isClosed && (countAt.get(priority) ?? 0) >= maxBufferedPerLevel) {
          await new Promise<void>((resolve) => spaceWaiters.push(resolve));
        }
      }
    } finally {
      iterators.delete(messages);
      await messages.close();
    }
  };

  const loops = new Set<Promise<void>>();
  const launch = (priority: number): void => {
    const loop = runLevel(priority)
      .catch((err: unknown) => {
        if (!isClosed) logger.warn({ err, queue, priority }, 'jetstream consumer stopped; restarting');
      })
      .finally(() => {
        loops.delete(loop);
        if (isClosed) return;
        const timer = setTimeout(() => {
          restartTimers.delete(timer);
          if (!isClosed) launch(priority);
        }, RESTART_DELAY_MS);
        restartTimers.add(timer);
      });
    loops.add(loop);
  };
  for (const priority of PRIORITIES) launch(priority);

  return {
    async close() {
      if (isClosed) return;
      isClosed = true;
      clearInterval(keepAlive);
      clearTimeout(gatherTimer);
      clearTimeout(startTimer);
      for (const timer of leaseTimers) clearTimeout(timer);
      leaseTimers.clear();
      for (const timer of restartTimers) clearTimeout(timer);
      restartTimers = new Set();
      for (const item of buffered.splice(0)) item.msg.nak();
      wakeSpace();
      await Promise.all([...iterators].map((it) => it.close().catch(() => undefined)));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...loops]), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
      clearTimeout(timer);
    },
  };
}
