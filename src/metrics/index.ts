// Public door of the metrics feature: the Prometheus registry fed by events, the per-queue
// rate window behind GET /system/queues, and the worker's own /metrics listener.
export { createMetrics } from './metrics.js';
export type { Metrics, MetricsDeps } from './metrics.js';
export { createQueueRates } from './queue-rates.js';
export type { QueueRates, QueueRateSnapshot, QueueRatesOptions } from './queue-rates.js';
export { createMetricsServer } from './metrics-server.js';
export type { MetricsServer, MetricsServerOptions } from './metrics-server.js';
export { healthAnswer, metricsAnswer } from './ops-answers.js';
export type { HealthReport, OpsAnswer } from './ops-answers.js';
