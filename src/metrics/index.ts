// Public door of the metrics feature.
export { createMetrics } from './metrics.js';
export type { Metrics, MetricsDeps } from './metrics.js';
