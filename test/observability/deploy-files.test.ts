// deploy/: the Grafana dashboard is valid JSON whose every query names only metrics a real faasq
// exposes (checked against a live /metrics), with the panels operators look for; the Prometheus
// config parses and scrapes /metrics without credentials.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { startObservedFaasq } from '../metrics/support/observed-faasq.js';
import { parseFamilies } from '../metrics/support/prom-text.js';

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string; refId: string }>;
}

const DEPLOY = new URL('../../deploy/', import.meta.url);
const METRIC_TOKEN = /\b(?:gateway|queue_worker|faasq|process|nodejs)_[a-zA-Z0-9_]+/g;
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

test('deploy - every Grafana query names metrics that /metrics exposes; the wanted panels exist', async () => {
  const dashboard = JSON.parse(readFileSync(new URL('grafana-dashboard.json', DEPLOY), 'utf8')) as { title: string; panels: Panel[]; templating: { list: Array<{ query: { query: string } }> } };
  const f = await startObservedFaasq();
  let exposed: Map<string, string>;
  try {
    exposed = new Map(parseFamilies(await f.scrape()).map((m) => [m.name, m.type]));
  } finally {
    await f.close();
  }
  const isExposed = (name: string): boolean =>
    exposed.has(name) || HISTOGRAM_SUFFIXES.some((s) => name.endsWith(s) && exposed.get(name.slice(0, -s.length)) === 'histogram');

  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
  exprs.push(...dashboard.templating.list.map((v) => ({ panel: 'variable', expr: v.query.query })));
  assert.ok(exprs.length >= 10, 'queries present');
  const used = new Set<string>();
  for (const { panel, expr } of exprs) {
    const names = expr.match(METRIC_TOKEN) ?? [];
    assert.ok(names.length > 0, `"${panel}": ${expr} names no faasq metric`);
    for (const name of names) {
      assert.ok(isExposed(name), `"${panel}": ${name} is not exposed by /metrics`);
      used.add(name);
    }
  }
  const panelWith = (metric: string): boolean => [...used].some((n) => n === metric || n.startsWith(`${metric}_`));
  for (const m of [
    'queue_worker_pending_messages', 'queue_worker_messages_submitted_total', 'queue_worker_messages_processed_total',
    'gateway_function_invocation_total', 'gateway_functions_seconds', 'faasq_dead_letters_total', 'faasq_call_retries_total',
    'faasq_callbacks_total', 'faasq_queue_oldest_age_seconds',
  ]) assert.ok(panelWith(m), `a panel uses ${m}`);
  assert.ok(exprs.some((e) => /rate\(queue_worker_messages_submitted_total/.test(e.expr)), 'ingestion rate is rate(submitted)');
  assert.ok(exprs.some((e) => /histogram_quantile\(0\.99,.*gateway_functions_seconds_bucket/.test(e.expr)), 'p99 from gateway_functions_seconds');
  const ids = dashboard.panels.map((p) => (p as unknown as { id: number }).id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
});

test('deploy - prometheus.yml scrapes gateways and standalone workers on /metrics over http without credentials', () => {
  const doc = parse(readFileSync(new URL('prometheus.yml', DEPLOY), 'utf8')) as { scrape_configs: Array<Record<string, unknown>> };
  for (const name of ['faasq', 'faasq-worker']) {
    const job = doc.scrape_configs.find((j) => j.job_name === name);
    assert.ok(job, `a ${name} job`);
    assert.equal(job.metrics_path, '/metrics');
    assert.equal(job.basic_auth, undefined);
    assert.equal(job.authorization, undefined);
    const targets = (job.static_configs as Array<{ targets: string[] }>).flatMap((s) => s.targets);
    assert.ok(targets.length >= 1 && targets.every((t) => /^[\w.-]+:\d+$/.test(t)), `targets ${targets.join(', ')}`);
  }
});
