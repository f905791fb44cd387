// Ingestion and processing rates per queue, from the best source available, and always labelled
// with where they came from: rates the server reports; else deltas of submitted/processed
// counters (queue JSON or Prometheus /metrics); else an estimate from depth changes, which only
// sees the net flow (a queue taking and draining at the same speed shows 0 for both).

export const RATE_SOURCES = {
  server: 'Rates as reported by the gateway.',
  counters: 'Rates computed in the browser from submitted / processed counters.',
  metrics: "Rates computed in the browser from this gateway's /metrics counters (queue_worker_messages_submitted_total / _processed_total).",
  depth: 'Rates estimated from changes in depth between polls: net flow only, so both are lower bounds.',
};

const SUBMITTED_METRIC = 'queue_worker_messages_submitted_total';
const PROCESSED_METRIC = 'queue_worker_messages_processed_total';

function firstNumber(obj, keys) {
  for (const k of keys) if (typeof obj?.[k] === 'number' && Number.isFinite(obj[k])) return obj[k];
  return undefined;
}

/** Counters from a /system/queues entry, when the gateway includes them. */
export function countersFromQueue(q) {
  const submitted = firstNumber(q, ['submitted', 'submittedTotal', 'messagesSubmitted', 'enqueued']);
  const processed = firstNumber(q, ['processed', 'processedTotal', 'messagesProcessed', 'completed']);
  return submitted === undefined || processed === undefined ? undefined : { submitted, processed };
}

/**
 * Per-queue submitted / processed totals from Prometheus text. Series without a queue label are
 * summed under '' (only usable when there is a single queue). A queue shows up only when both
 * counters are there: a gateway whose workers run in other processes has no processed series, and
 * reading that as "nothing processed" would be a lie.
 */
export function countersFromMetrics(text) {
  const out = new Map();
  if (!text) return out;
  const seen = new Map();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || (m[1] !== SUBMITTED_METRIC && m[1] !== PROCESSED_METRIC)) continue;
    const value = Number(m[4]);
    if (!Number.isFinite(value)) continue;
    const labels = m[3] ?? '';
    const queue = /(?:^|,)\s*queue(?:_name)?="((?:[^"\\]|\\.)*)"/.exec(labels)?.[1] ?? '';
    const entry = seen.get(queue) ?? { submitted: 0, processed: 0, hasSubmitted: false, hasProcessed: false };
    if (m[1] === SUBMITTED_METRIC) { entry.submitted += value; entry.hasSubmitted = true; } else { entry.processed += value; entry.hasProcessed = true; }
    seen.set(queue, entry);
  }
  for (const [queue, e] of seen) if (e.hasSubmitted && e.hasProcessed) out.set(queue, { submitted: e.submitted, processed: e.processed });
  return out;
}

function counterRate(prev, cur, dtSec) {
  // A counter that went down means the gateway restarted: no honest rate for this interval.
  if (cur < prev) return null;
  return (cur - prev) / dtSec;
}

/**
 * Rates between two samples of one queue. A sample: { t, depth, ingestRate?, processRate?,
 * counters?: { submitted, processed } }. Answers { ingest, process, source } (values may be null).
 */
export function computeRates(prev, cur) {
  if (typeof cur.ingestRate === 'number' || typeof cur.processRate === 'number') {
    return { ingest: cur.ingestRate ?? null, process: cur.processRate ?? null, source: 'server' };
  }
  if (!prev) return { ingest: null, process: null, source: cur.counters ? cur.countersSource : 'depth' };
  const dtSec = (cur.t - prev.t) / 1000;
  if (!(dtSec > 0)) return { ingest: null, process: null, source: 'depth' };
  if (cur.counters && prev.counters && cur.countersSource === prev.countersSource) {
    return {
      ingest: counterRate(prev.counters.submitted, cur.counters.submitted, dtSec),
      process: counterRate(prev.counters.processed, cur.counters.processed, dtSec),
      source: cur.countersSource,
    };
  }
  const delta = cur.depth - prev.depth;
  return { ingest: Math.max(0, delta) / dtSec, process: Math.max(0, -delta) / dtSec, source: 'depth' };
}
