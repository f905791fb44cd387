// The async worker: one consumer per queue (new dedicated queues are picked up by a periodic
// re-scan), each delivery processed by processDelivery, callbacks posted before the delivery is
// settled, cancel requests turned into aborts, and a shutdown that drains to a deadline then hands
// calls (and unfinished callbacks) back for redelivery.
import { createRequire } from 'node:module';
import { DEFAULT_QUEUE, type Consumer, type Delivery } from '../queue/index.js';
import { DeadlineQueue } from '../shared/index.js';
import { stopRunningCall, type CallContext, type CallDeps, type RunningCall } from './call-context.js';
import { processDelivery } from './run-call.js';
import { startCallback } from '../callback/index.js';
import { createCallbackGuard } from '../callback/index.js';

export interface WorkerDeps extends CallDeps {
  /** Consume only these queues (default: config.worker.queueName, else every queue). */
  readonly queues?: readonly string[];
  /** How often the list of queues is re-read when consuming every queue. */
  readonly rescanIntervalMs?: number;
}

export interface Worker {
  start(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_RESCAN_MS = 3000;

export function createWorker(deps: WorkerDeps): Worker {
  const { config, queue, logger } = deps;
  const fixedQueues = deps.queues ?? (config.worker.queueName ? [config.worker.queueName] : undefined);
  const consumers = new Map<string, Consumer>();
  const inflight = new Set<Promise<void>>();
  const callbackAbort = new AbortController();
  const callbackGuard = createCallbackGuard(config.gateway.callbackDenyList);
  const warned = new Set<string>();
  const userAgent = `faasq-worker/${packageVersion()}`;
  let rescanTimer: NodeJS.Timeout | undefined;
  let leaseTimer: NodeJS.Timeout | undefined;
  let stopCancelListener: (() => void) | undefined;
  let isClosing = false;
  let closing: Promise<void> | undefined;

  const ctx: CallContext = {
    config, queue, logger,
    invoker: deps.invoker,
    getSpec: deps.getSpec,
    events: deps.events,
    running: new Map<string, RunningCall>(),
    fnInflight: new Map<string, number>(),
    runningRecordTimers: new DeadlineQueue(config.worker.runningRecordDelayMs),
    isClosing: () => isClosing,
    onInvalidAnnotation: (key, value) => {
      const id = `${key}=${value}`;
      if (warned.has(id)) return;
      warned.add(id);
      logger.warn({ annotation: key, value }, 'invalid annotation; using the worker default');
    },
    sendCallback: (call) =>
      startCallback({ queue, events: deps.events, logger, settings: config.worker.callback, userAgent, signal: callbackAbort.signal, guard: callbackGuard }, call, call.message.callbackUrl as string),
  };

  function onDelivery(queueName: string, delivery: Delivery): void {
    if (isClosing) {
      void delivery.release().catch((err: unknown) => logger.warn({ err, callId: delivery.message.callId }, 'release failed'));
      return;
    }
    const p: Promise<void> = processDelivery(ctx, delivery, queueName)
      .catch((err: unknown) => {
        // The delivery stays unsettled; its lease runs out and it is redelivered.
        logger.error({ err, callId: delivery.message.callId, function: delivery.message.function, queue: queueName }, 'call processing failed');
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }

  async function syncConsumers(): Promise<void> {
    if (isClosing) return;
    const names = fixedQueues ?? [...new Set([DEFAULT_QUEUE, ...(await queue.listQueues())])];
    for (const name of names) {
      if (consumers.has(name) || isClosing) continue;
      consumers.set(name, queue.consume({ queue: name, maxInflight: config.worker.maxInflight }, (d) => onDelivery(name, d)));
      logger.info({ queue: name, maxInflight: config.worker.maxInflight }, 'consuming queue');
    }
  }

  return {
    async start() {
      stopCancelListener = queue.onCancel((callId) => {
        const run = ctx.running.get(callId);
        if (run) stopRunningCall(run, 'cancel');
      });
      // One timer keeps every running call leased (a timer per call cost more than the calls).
      leaseTimer = setInterval(() => {
        for (const run of ctx.running.values()) run.delivery.extend();
      }, Math.max(50, Math.floor(config.queue.leaseMs / 3)));
      leaseTimer.unref();
      await syncConsumers();
      deps.events.emit('worker.started', { queues: fixedQueues });
      if (!fixedQueues) {
        rescanTimer = setInterval(() => {
          syncConsumers().catch((err: unknown) => logger.warn({ err }, 'listing queues failed'));
        }, deps.rescanIntervalMs ?? DEFAULT_RESCAN_MS);
        rescanTimer.unref();
      }
    },
    close() {
      closing ??= (async () => {
        isClosing = true;
        if (rescanTimer) clearInterval(rescanTimer);
        await Promise.allSettled([...consumers.values()].map((c) => c.close()));
        const deadline = Date.now() + config.worker.shutdownGraceMs;
        if (!(await settleWithin(inflight, deadline))) {
          logger.warn({ calls: ctx.running.size, settling: inflight.size }, 'grace period over; handing in-flight calls and unfinished callbacks back');
          for (const run of ctx.running.values()) stopRunningCall(run, 'shutdown');
          callbackAbort.abort();
          await Promise.allSettled([...inflight]);
        }
        stopCancelListener?.();
        clearInterval(leaseTimer);
        await callbackGuard.close().catch(() => undefined);
      })();
      return closing;
    },
  };
}

/** Waits for every promise in the (live) set until the deadline; true when all settled. */
async function settleWithin(set: Set<Promise<void>>, deadline: number): Promise<boolean> {
  while (set.size > 0) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), left); });
    const r = await Promise.race([Promise.allSettled([...set]), timeout]);
    clearTimeout(timer);
    if (r === 'timeout') return set.size === 0;
  }
  return true;
}

function packageVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'dev';
  }
}
