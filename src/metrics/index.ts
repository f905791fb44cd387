// Public door of the metrics feature: the Prometheus registry fed by events, and the per-queue
// rate window behind GET /system/queues.
export { createMetrics } from './metrics.js';
export type { Metrics, MetricsDeps } from './metrics.js';
export { createQueueRates } from './queue-rates.js';
export type { QueueRates, QueueRateSnapshot, QueueRatesOptions } from './queue-rates.js';
