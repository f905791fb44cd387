// Prometheus metrics under the OpenFaaS names (so existing dashboards work) plus faasq's own.
// Counters and histograms follow the EventBus; gauges that describe state (replicas, queue depth)
// are read from the provider and queue when Prometheus scrapes. Nothing else imports prom-client.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventBus } from '../shared/events.js';
import { SeriesCounter, SeriesGauge, SeriesHistogram } from './series-metrics.js';
import type { Provider } from '../provider/provider.js';
import type { Queue } from '../queue/queue.js';

export interface Metrics {
  readonly contentType: string;
  render(): Promise<string>;
  close(): void;
}

export interface MetricsDeps {
  readonly events: EventBus;
  readonly provider?: Provider;
  readonly queue?: Queue;
  /** Namespace used to list functions for gateway_service_count. */
  readonly namespace?: string;
  readonly isProcessMetrics?: boolean;
  /**
   * Count each queued call's attempts in gateway_function_invocation_total / _started and
   * gateway_functions_seconds, as the OpenFaaS gateway counts a queue-worker's invocations (made
   * through the gateway, or reported to /system/async-report). Only where the worker calls the
   * function itself (`faasq up`): a `faasq worker` calls through a gateway, which counts them.
   */
  readonly isCountingWorkerAttempts?: boolean;
}

/** Rejections whose function name is not a deployed function. */
const UNNAMED_CODES = new Set(['E_FUNCTION_NOT_FOUND', 'E_INVALID_FUNCTION_NAME']);

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const WAIT_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  if (deps.isProcessMetrics !== false) collectDefaultMetrics({ register: registry });
  const reg = [registry];

  const invocationTotal = new SeriesCounter('gateway_function_invocation_total', 'Function invocations by status code', registry);
  const functionSeconds = new SeriesHistogram('gateway_functions_seconds', 'Function invocation time taken', DURATION_BUCKETS, registry);
  const invocationStarted = new SeriesCounter('gateway_function_invocation_started', 'Function invocations started', registry);
  const serviceCount = new Gauge({
    name: 'gateway_service_count', help: 'Current replica count per function', labelNames: ['function_name'], registers: reg,
    async collect() {
      if (!deps.provider) return;
      this.reset();
      for (const fn of await deps.provider.list(deps.namespace ?? 'openfaas-fn')) this.set({ function_name: `${fn.name}.${fn.namespace}` }, fn.replicas);
    },
  });
  void serviceCount;

  // Updated for every accepted and every drained call: pre-resolved series (series-metrics.ts).
  const submittedMetric = new SeriesCounter('queue_worker_messages_submitted_total', 'Async calls accepted into a queue', registry);
  const submitted = keyed((queue, fn) => submittedMetric.of(`${queue} ${fn}`, { queue_name: queue, function_name: fn }));
  const processedMetric = new SeriesCounter('queue_worker_messages_processed_total', 'Async calls finished (succeeded, failed or dead-lettered)', registry);
  const processed = keyed((queue, fn, outcome) => processedMetric.of(`${queue} ${fn} ${outcome}`, { queue_name: queue, function_name: fn, outcome }));
  const inflightMetric = new SeriesGauge('queue_worker_function_invocation_inflight', 'Async invocations running now', registry);
  const inflight = keyed((queue, fn) => inflightMetric.of(`${queue} ${fn}`, { queue_name: queue, function_name: fn }));
  const retries = new Counter({ name: 'faasq_call_retries_total', help: 'Async call attempts scheduled for retry', labelNames: ['queue_name', 'function_name'], registers: reg });
  const attemptsFailed = new Counter({ name: 'faasq_call_attempts_failed_total', help: 'Async call attempts that failed', labelNames: ['queue_name', 'function_name'], registers: reg });
  const deadLettered = new Counter({ name: 'faasq_dead_letters_total', help: 'Async calls moved to the dead-letter store', labelNames: ['queue_name', 'function_name', 'reason'], registers: reg });
  const cancelled = new Counter({ name: 'faasq_calls_cancelled_total', help: 'Async calls cancelled', labelNames: ['queue_name', 'function_name'], registers: reg });
  const callbacks = new Counter({ name: 'faasq_callbacks_total', help: 'Callback delivery attempts by outcome (delivered; retried: failed, will try again; failed: gave up)', labelNames: ['queue_name', 'function_name', 'outcome'], registers: reg });
  const handoffs = new Counter({ name: 'faasq_express_lane_handoffs_total', help: 'Connections the express lane gave to the full sync path, by reason', labelNames: ['reason'], registers: reg });
  const oomKills = new Counter({ name: 'faasq_function_oom_kills_total', help: 'Replica processes the kernel killed at the function\'s limits.memory', labelNames: ['function_name'], registers: reg });
  const anomalies = new Counter({ name: 'faasq_function_connection_anomalies_total', help: 'Connections to functions destroyed because the function broke HTTP framing, by sync path and reason', labelNames: ['function_name', 'path', 'reason'], registers: reg });
  const rejected = new Counter({ name: 'faasq_calls_rejected_total', help: 'Async calls refused at intake by error code', labelNames: ['function_name', 'code'], registers: reg });
  const acceptMetric = new SeriesHistogram('faasq_accept_seconds', 'Time to durably accept an async call', [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1], registry);
  const acceptSeconds = keyed((queue) => acceptMetric.of(queue, { queue_name: queue }));
  const queueWaitMetric = new SeriesHistogram('faasq_queue_wait_seconds', 'Time from acceptance to the start of an attempt', WAIT_BUCKETS, registry);
  const queueWait = keyed((queue) => queueWaitMetric.of(queue, { queue_name: queue }));
  const callMetric = new SeriesHistogram('faasq_call_duration_seconds', 'Async attempt duration, one observation per attempt (outcome succeeded or attempt_failed)', DURATION_BUCKETS, registry);
  const callSeconds = keyed((queue, fn, outcome) => callMetric.of(`${queue} ${fn} ${outcome}`, { queue_name: queue, function_name: fn, outcome }));

  const stateGauges = queueGauges(registry, deps.queue);
  void stateGauges;

  // The sync path emits two events per request: its series are resolved once per function (and
  // status) and counted without a label hash (series-metrics.ts).
  const startedOf = keyed((fn) => invocationStarted.of(fn, { function_name: fn }));
  const completedOf = keyed((fn, code) => {
    const labels = { function_name: fn, code };
    const key = `${fn} ${code}`;
    return { total: invocationTotal.of(key, labels), seconds: functionSeconds.of(key, labels) };
  });

  const ev = deps.events;
  // function_name is `name.namespace` everywhere, as the OpenFaaS gateway labels it.
  const fq = (e: { fn: string; namespace?: string }): string => (e.namespace ? `${e.fn}.${e.namespace}` : e.fn);
  const offs = [
    ev.on('invocation.started', (e) => startedOf(`${e.fn}.${e.namespace}`).inc()),
    ev.on('invocation.completed', (e) => {
      const series = completedOf(`${e.fn}.${e.namespace}`, String(e.status));
      series.total.inc();
      series.seconds.observe(e.durationMs / 1000);
    }),
    ev.on('gateway.handoff', (e) => handoffs.inc({ reason: e.reason })),
    ev.on('function.oom_killed', (e) => oomKills.inc({ function_name: fq(e) })),
    ev.on('upstream.anomaly', (e) => anomalies.inc({ function_name: e.fn, path: e.path, reason: e.reason })),
    ev.on('call.accepted', (e) => {
      if (!e.isDuplicate) submitted(e.queue, fq(e)).inc();
      acceptSeconds(e.queue).observe(e.acceptMs / 1000);
    }),
    // A name that is not deployed gets no series of its own: random URLs must not grow the label set.
    ev.on('call.rejected', (e) => rejected.inc({ function_name: UNNAMED_CODES.has(e.code) ? '' : fq(e), code: e.code })),
    ev.on('call.started', (e) => queueWait(e.queue).observe(e.queuedMs / 1000)),
    ev.on('call.attempt_failed', (e) => {
      attemptsFailed.inc({ queue_name: e.queue, function_name: fq(e) });
      callSeconds(e.queue, fq(e), 'attempt_failed').observe(e.durationMs / 1000);
    }),
    ev.on('call.retried', (e) => retries.inc({ queue_name: e.queue, function_name: fq(e) })),
    ev.on('call.succeeded', (e) => {
      const fn = fq(e);
      processed(e.queue, fn, 'succeeded').inc();
      callSeconds(e.queue, fn, 'succeeded').observe(e.durationMs / 1000);
    }),
    // Its attempt was already observed as attempt_failed: one duration observation per attempt.
    ev.on('call.failed', (e) => processed(e.queue, fq(e), 'failed').inc()),
    ev.on('call.dead_lettered', (e) => {
      processed(e.queue, fq(e), 'dead').inc();
      deadLettered.inc({ queue_name: e.queue, function_name: fq(e), reason: e.reason });
    }),
    // Counted where the cancel was requested; the worker's "stopped" event would count it twice.
    ev.on('call.cancelled', (e) => { if (e.by === 'request') cancelled.inc({ queue_name: e.queue, function_name: fq(e) }); }),
    ev.on('callback.delivered', (e) => callbacks.inc({ queue_name: e.queue, function_name: fq(e), outcome: 'delivered' })),
    ev.on('callback.failed', (e) => callbacks.inc({ queue_name: e.queue, function_name: fq(e), outcome: e.isFinal ? 'failed' : 'retried' })),
    ev.on('worker.inflight', (e) => inflight(e.queue, fq(e)).add(e.delta)),
  ];
  if (deps.isCountingWorkerAttempts) {
    // One invocation per attempt, under the function's status; the 202 of the accept is not one
    // (the OpenFaaS gateway counts /async-function/ with its logging notifier only).
    const completed = (e: { fn: string; namespace: string; durationMs: number }, status: number): void => {
      const series = completedOf(fq(e), String(status));
      series.total.inc();
      series.seconds.observe(e.durationMs / 1000);
    };
    offs.push(
      ev.on('call.started', (e) => startedOf(fq(e)).inc()),
      ev.on('call.succeeded', (e) => completed(e, e.status)),
      ev.on('call.attempt_failed', (e) => completed(e, e.reportedStatus)),
    );
  }

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    close: () => {
      for (const off of offs) off();
      registry.clear();
    },
  };
}

/** Queue state read at scrape time: one stats() call feeds every queue gauge. */
function queueGauges(registry: Registry, queue: Queue | undefined): void {
  if (!queue) return;
  // prom-client calls collect() per metric; one stats() read, shared by every gauge of a scrape.
  let pendingRead: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    pendingRead ??= (async () => {
      try {
        const stats = queue.isHealthy() ? await queue.stats() : [];
        for (const g of [pending, delayed, inflight, oldest, dead, byPriority]) g.reset();
        for (const s of stats) {
          const l = { queue_name: s.name };
          pending.set(l, s.depth);
          delayed.set(l, s.delayed);
          inflight.set(l, s.inflight);
          oldest.set(l, s.oldestAgeMs / 1000);
          dead.set(l, s.deadLetters);
          for (const [p, n] of Object.entries(s.depthByPriority)) byPriority.set({ queue_name: s.name, priority: p }, n);
        }
      } finally {
        setImmediate(() => { pendingRead = undefined; });
      }
    })();
    return pendingRead;
  };
  const gauge = (name: string, help: string, labelNames: string[] = ['queue_name']): Gauge =>
    new Gauge({ name, help, labelNames, registers: [registry], collect: refresh });
  const pending = gauge('queue_worker_pending_messages', 'Async calls waiting or running per queue');
  const delayed = gauge('faasq_queue_delayed', 'Async calls waiting for their not-before time');
  const inflight = gauge('faasq_queue_inflight', 'Async calls leased to a worker');
  const oldest = gauge('faasq_queue_oldest_age_seconds', 'Age of the oldest call waiting to start');
  const dead = gauge('faasq_queue_dead_letters', 'Calls in the dead-letter store');
  const byPriority = gauge('faasq_queue_depth', 'Unfinished async calls per queue and priority', ['queue_name', 'priority']);
}

/**
 * A label combination's series, made on first use and then found by its (up to three) label values:
 * no label object and no rest-argument array per update, on paths counted per request or call.
 */
function keyed<T>(make: (a: string, b: string, c: string) => T): (a: string, b?: string, c?: string) => T {
  const cache = new Map<string, T>();
  return (a, b = '', c = '') => {
    const key = `${a}\u0000${b}\u0000${c}`;
    let series = cache.get(key);
    if (series === undefined) cache.set(key, (series = make(a, b, c)));
    return series;
  };
}
