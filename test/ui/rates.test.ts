// The dashboard's rate and axis arithmetic, run in node: src/ui/rates.js and chart.js are plain ES
// modules whose pure parts need no DOM. Imported dynamically because they are JavaScript without
// type declarations (the page ships without a build step).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Sample { t: number; depth: number; ingestRate?: number; processRate?: number; counters?: { submitted: number; processed: number }; countersSource?: string }
interface Rates { ingest: number | null; process: number | null; source: string }
interface RatesModule {
  computeRates(prev: Sample | undefined, cur: Sample): Rates;
  countersFromMetrics(text: string | null): Map<string, { submitted: number; processed: number }>;
  countersFromQueue(q: Record<string, unknown>): { submitted: number; processed: number } | undefined;
  RATE_SOURCES: Record<string, string>;
}
interface ChartModule { niceMax(v: number): number; formatNumber(v: number): string }

const uiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/ui');
const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(uiDir, file)).href)) as T;

test('ui - rates reported by the server are shown as they are', async () => {
  const { computeRates } = await load<RatesModule>('rates.js');
  assert.deepEqual(computeRates(undefined, { t: 1000, depth: 5, ingestRate: 12, processRate: 3 }), { ingest: 12, process: 3, source: 'server' });
});

test('ui - rates come from counter deltas per second, and a counter reset gives no rate', async () => {
  const { computeRates } = await load<RatesModule>('rates.js');
  const prev = { t: 0, depth: 10, counters: { submitted: 100, processed: 50 }, countersSource: 'metrics' };
  const cur = { t: 2000, depth: 10, counters: { submitted: 120, processed: 70 }, countersSource: 'metrics' };
  assert.deepEqual(computeRates(prev, cur), { ingest: 10, process: 10, source: 'metrics' });
  const restarted = { t: 4000, depth: 10, counters: { submitted: 3, processed: 80 }, countersSource: 'metrics' };
  assert.deepEqual(computeRates(cur, restarted), { ingest: null, process: 5, source: 'metrics' });
});

test('ui - without counters, rates are the net depth change, labelled as an estimate', async () => {
  const { computeRates, RATE_SOURCES } = await load<RatesModule>('rates.js');
  assert.deepEqual(computeRates({ t: 0, depth: 20 }, { t: 4000, depth: 8 }), { ingest: 0, process: 3, source: 'depth' });
  assert.deepEqual(computeRates({ t: 0, depth: 8 }, { t: 2000, depth: 12 }), { ingest: 2, process: 0, source: 'depth' });
  assert.deepEqual(computeRates(undefined, { t: 0, depth: 8 }), { ingest: null, process: null, source: 'depth' });
  assert.match(RATE_SOURCES.depth, /estimated/);
});

test('ui - /metrics counters are summed per queue and used only when both are there', async () => {
  const { countersFromMetrics } = await load<RatesModule>('rates.js');
  const text = [
    '# HELP queue_worker_messages_submitted_total Async calls accepted into a queue',
    '# TYPE queue_worker_messages_submitted_total counter',
    'queue_worker_messages_submitted_total{queue_name="faas-request",function_name="a"} 4',
    'queue_worker_messages_submitted_total{queue_name="faas-request",function_name="b"} 6',
    'queue_worker_messages_processed_total{queue_name="faas-request",function_name="a",outcome="succeeded"} 3',
    'queue_worker_messages_processed_total{queue_name="faas-request",function_name="b",outcome="dead"} 1',
    'queue_worker_messages_submitted_total{queue_name="only-submitted",function_name="a"} 9',
    'gateway_function_invocation_total{function_name="a.openfaas-fn",code="200"} 99',
  ].join('\n');
  const counters = countersFromMetrics(text);
  assert.deepEqual(Object.fromEntries(counters), { 'faas-request': { submitted: 10, processed: 4 } });
  assert.equal(countersFromMetrics(null).size, 0);
});

test('ui - counters in the queue JSON are picked up', async () => {
  const { countersFromQueue } = await load<RatesModule>('rates.js');
  assert.deepEqual(countersFromQueue({ name: 'q', submitted: 5, processed: 2 }), { submitted: 5, processed: 2 });
  assert.equal(countersFromQueue({ name: 'q', depth: 3 }), undefined);
});

test('ui - chart axes round up to 1, 2, 5 steps and numbers stay short', async () => {
  const { niceMax, formatNumber } = await load<ChartModule>('chart.js');
  assert.deepEqual([0, 0.3, 1, 3, 7, 11, 240, 999].map(niceMax), [1, 0.5, 1, 5, 10, 20, 500, 1000]);
  assert.deepEqual([0, 3, 2.25, 14.6, 1500, 25000].map(formatNumber), ['0', '3', '2.3', '15', '1.5k', '25k']);
});
