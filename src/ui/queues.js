// The Queues section: a table of the latest stats and, per queue, live charts of pending calls and
// of ingestion / processing rates over the last two minutes, fed by the app's polling loop.
import { createLineChart, formatNumber } from './chart.js';
import { computeRates, countersFromMetrics, countersFromQueue, RATE_SOURCES } from './rates.js';
import { clear, h } from './dom.js';

export const HISTORY_MS = 120_000;
const MAX_SAMPLES = 400;

export function formatAge(ms) {
  if (!(ms > 0)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function formatRate(v) {
  return typeof v === 'number' ? formatNumber(v) : '–';
}

function byPriority(q) {
  const entries = Object.entries(q.depthByPriority ?? {}).filter(([, n]) => n > 0);
  if (entries.length === 0) return '–';
  return entries.sort((a, b) => Number(b[0]) - Number(a[0])).map(([p, n]) => `p${p}: ${n}`).join(', ');
}

export function createQueuesView({ api, root }) {
  const body = root.querySelector('[data-testid="queues-body"]');
  const chartsRoot = root.querySelector('[data-testid="queue-charts"]');
  const sourceLabel = root.querySelector('[data-testid="rate-source"]');
  /** queue name → { samples, pendingChart, rateChart, panel } */
  const perQueue = new Map();
  // False once /metrics answers with an error (not served): then stop asking every poll.
  let hasMetrics = true;

  function panelFor(name) {
    let entry = perQueue.get(name);
    if (entry) return entry;
    const panel = h('article', { class: 'queue-panel', 'data-testid': `queue-panel-${name}`, 'aria-label': `Queue ${name}` }, h('h3', {}, name));
    chartsRoot.append(panel);
    entry = {
      samples: [],
      panel,
      pendingChart: createLineChart(panel, { title: 'Pending', series: [{ key: 'depth', label: 'pending' }, { key: 'inflight', label: 'in flight' }], windowMs: HISTORY_MS, testId: `chart-pending-${name}` }),
      rateChart: createLineChart(panel, { title: 'Rates (calls/s)', series: [{ key: 'ingest', label: 'ingestion' }, { key: 'process', label: 'processing' }], windowMs: HISTORY_MS, testId: `chart-rates-${name}` }),
    };
    perQueue.set(name, entry);
    return entry;
  }

  async function metricsCounters(queues) {
    if (!hasMetrics || queues.every((q) => countersFromQueue(q) || typeof q.ingestRate === 'number')) return new Map();
    const text = await api.metricsText().catch(() => null);
    if (text === null) hasMetrics = false;
    return countersFromMetrics(text);
  }

  function renderTable(rows, emptyText) {
    clear(body);
    if (rows.length === 0) {
      body.append(h('tr', { class: 'empty' }, h('td', { colspan: 9 }, emptyText)));
      return;
    }
    for (const { q, rates } of rows) {
      body.append(h('tr', { 'data-testid': `queue-row-${q.name}`, 'data-depth': q.depth },
        h('th', { scope: 'row' }, q.name),
        h('td', { class: 'num', 'data-testid': 'queue-depth' }, String(q.depth ?? 0)),
        h('td', { class: 'num', 'data-testid': 'queue-inflight' }, String(q.inflight ?? 0)),
        h('td', { class: 'num' }, String(q.delayed ?? 0)),
        h('td', { class: 'num' }, formatAge(q.oldestAgeMs)),
        h('td', { class: 'num', 'data-testid': 'queue-dead-letters' }, String(q.deadLetters ?? 0)),
        h('td', { class: 'num', 'data-testid': 'queue-ingest-rate' }, formatRate(rates.ingest)),
        h('td', { class: 'num', 'data-testid': 'queue-process-rate' }, formatRate(rates.process)),
        h('td', {}, byPriority(q))));
    }
  }

  return {
    /** Polls once; answers the queue list so the dead-letter view can follow it. */
    async refresh() {
      let queues;
      let emptyText = 'No queues yet.';
      try {
        queues = (await api.listQueues()) ?? [];
      } catch (err) {
        // A gateway without a queue has no /system/queues: that is a setup, not a failure.
        if (err.status !== 404) throw err;
        queues = [];
        emptyText = 'This gateway serves no queues (async invocation is not enabled).';
      }
      const metrics = await metricsCounters(queues);
      const now = Date.now();
      const rows = [];
      const sources = new Set();
      for (const q of queues) {
        const entry = panelFor(q.name);
        const jsonCounters = countersFromQueue(q);
        const metricCounters = metrics.get(q.name) ?? (queues.length === 1 ? metrics.get('') : undefined);
        const sample = {
          t: now,
          depth: q.depth ?? 0,
          inflight: q.inflight ?? 0,
          ingestRate: q.ingestRate,
          processRate: q.processRate,
          counters: jsonCounters ?? metricCounters,
          countersSource: jsonCounters ? 'counters' : 'metrics',
        };
        const rates = computeRates(entry.samples.at(-1), sample);
        sources.add(rates.source);
        sample.values = { depth: sample.depth, inflight: sample.inflight, ingest: rates.ingest, process: rates.process };
        entry.samples.push(sample);
        while (entry.samples.length > MAX_SAMPLES || (entry.samples.length > 0 && entry.samples[0].t < now - HISTORY_MS)) entry.samples.shift();
        entry.pendingChart.update(entry.samples, now);
        entry.rateChart.update(entry.samples, now);
        rows.push({ q, rates });
      }
      for (const [name, entry] of perQueue) {
        if (!queues.some((q) => q.name === name)) {
          entry.panel.remove();
          perQueue.delete(name);
        }
      }
      renderTable(rows, emptyText);
      sourceLabel.textContent = [...sources].map((s) => RATE_SOURCES[s]).join(' ');
      sourceLabel.dataset.source = [...sources].join(',');
      return queues;
    },
  };
}
