// `faasq queue …` and `faasq logs` against a fake gateway.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeGateway, type FakeGateway } from './support/fake-gateway.js';
import { runCli } from './support/run-cli.js';

const QUEUES = [
  { name: 'faas-request', depth: 12, depthByPriority: { 0: 10, 5: 2 }, delayed: 3, inflight: 2, oldestAgeMs: 65_000, deadLetters: 1, ingestRate: 4.5, processRate: 3 },
  { name: 'slow', depth: 0, depthByPriority: {}, delayed: 0, inflight: 0, oldestAgeMs: 0, deadLetters: 2, ingestRate: 0, processRate: null },
];

describe('cli queue and logs', () => {
  let gw: FakeGateway;
  const cli = (args: string[]) => runCli(['-g', gw.url, ...args], { env: { FAASQ_CONFIG_DIR: '/nonexistent-faasq-test' } });

  before(async () => {
    gw = await startFakeGateway();
    gw.on('GET', '/system/queues', { json: QUEUES });
  });
  after(() => gw.close());

  test('cli - queue list prints depth, inflight, delayed, oldest age, dead letters and rates; --watch --count refreshes', async () => {
    const run = await cli(['queue', 'list']);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^Queue\s+Depth\s+Inflight\s+Delayed\s+Oldest\s+Dead letters\s+In\/s\s+Done\/s$/);
    assert.match(lines[1], /^faas-request\s+12\s+2\s+3\s+1m5s\s+1\s+4\.5\s+3$/);
    assert.match(lines[2], /^slow\s+0\s+0\s+0\s+0s\s+2\s+0\s+-$/);

    const before = gw.sent('GET', '/system/queues').length;
    const watch = await cli(['queue', 'list', '--watch', '--count', '2', '--interval', '50ms', '--json']);
    assert.equal(watch.code, 0, watch.stderr);
    assert.equal(watch.stdout.trimEnd().split('\n').length, 2);
    assert.equal(gw.sent('GET', '/system/queues').length - before, 2);

    gw.on('GET', '/system/queues/faas-request', { json: QUEUES[0] });
    const one = await cli(['queue', 'get', 'faas-request']);
    assert.match(one.stdout, /By priority:\s+0=10, 5=2/);
  });

  test('cli - dead-letters list covers every queue unless --queue is given', async () => {
    gw.on('GET', '/system/queues/faas-request/dead-letters', { json: [{ callId: 'd1', queue: 'faas-request', function: 'echo', deadAt: '2026-01-01T00:00:00Z', attempts: 10, lastStatus: 500, lastError: 'boom' }] });
    gw.on('GET', '/system/queues/slow/dead-letters', { json: [{ callId: 'd2', queue: 'slow', function: 'crawl', attempts: 3 }, { callId: 'd3', queue: 'slow', function: 'crawl', attempts: 3 }] });
    const all = await cli(['queue', 'dead-letters', 'list']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^d1\s+faas-request\s+echo\s+2026-01-01T00:00:00Z\s+10\s+500\s+boom$/m);
    assert.match(all.stdout, /^d3\s+slow\s+crawl/m);
    const one = await cli(['queue', 'dead-letters', 'list', '--queue', 'slow', '--json']);
    assert.deepEqual(JSON.parse(one.stdout).map((d: { callId: string }) => d.callId), ['d2', 'd3']);
  });

  test('cli - dead-letters replay and purge send the call ids to the right queue', async () => {
    gw.on('POST', '/system/queues/slow/dead-letters/replay', (req) => ({ json: { replayed: (JSON.parse(req.body).callIds ?? ['a', 'b']).length } }));
    gw.on('DELETE', '/system/queues/slow/dead-letters', (req) => ({ json: { purged: (JSON.parse(req.body).callIds ?? ['a', 'b', 'c']).length } }));
    gw.on('GET', '/system/dead-letters/d2', { json: { callId: 'd2', queue: 'slow', function: 'crawl' } });

    const byId = await cli(['queue', 'dead-letters', 'replay', 'd2']);
    assert.equal(byId.code, 0, byId.stderr);
    assert.equal(byId.stdout, 'Replayed 1 dead letter.\n');
    assert.deepEqual(JSON.parse(gw.sent('POST', '/system/queues/slow/dead-letters/replay')[0].body), { callIds: ['d2'] });

    const whole = await cli(['queue', 'dead-letters', 'replay', '--queue', 'slow']);
    assert.equal(whole.stdout, 'Replayed 2 dead letters.\n');
    assert.deepEqual(JSON.parse(gw.sent('POST', '/system/queues/slow/dead-letters/replay')[1].body), {});

    const purge = await cli(['queue', 'dead-letters', 'purge', '--queue', 'slow', 'd2', 'd3']);
    assert.equal(purge.code, 0, purge.stderr);
    assert.equal(purge.stdout, 'Purged 2 dead letters.\n');
    assert.deepEqual(JSON.parse(gw.sent('DELETE', '/system/queues/slow/dead-letters')[0].body), { callIds: ['d2', 'd3'] });

    const unnamed = await cli(['queue', 'dead-letters', 'purge']);
    assert.equal(unnamed.code, 2);
    assert.equal(gw.sent('DELETE', '/system/queues/slow/dead-letters').length, 1);
  });

  test('cli - logs turns the NDJSON stream into "timestamp instance text" lines', async () => {
    const ndjson = [
      { name: 'echo', namespace: 'openfaas-fn', instance: 'echo-1', timestamp: '2026-01-01T00:00:01Z', text: 'started\n' },
      { name: 'echo', namespace: 'openfaas-fn', instance: 'echo-2', timestamp: '2026-01-01T00:00:02Z', text: 'handled' },
    ].map((l) => JSON.stringify(l)).join('\n') + '\n';
    gw.on('GET', '/system/logs', { headers: { 'content-type': 'application/x-ndjson' }, body: ndjson });
    const run = await cli(['logs', 'echo.openfaas-fn', '--tail', '5', '--since', '10m']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '2026-01-01T00:00:01Z echo-1 started\n2026-01-01T00:00:02Z echo-2 handled\n');
    const q = gw.sent('GET', '/system/logs')[0].query;
    assert.equal(q.get('name'), 'echo');
    assert.equal(q.get('namespace'), 'openfaas-fn');
    assert.equal(q.get('tail'), '5');
    assert.equal(q.get('follow'), 'false');
    const sinceMs = Date.parse(q.get('since') ?? '');
    assert.ok(Math.abs(Date.now() - 10 * 60_000 - sinceMs) < 60_000, `since ${q.get('since')}`);

    // --follow asks the gateway to keep the stream open; the CLI prints until the stream ends.
    const follow = await cli(['logs', 'echo', '--follow', '--json']);
    assert.equal(follow.code, 0, follow.stderr);
    assert.equal(follow.stdout, ndjson);
    assert.equal(gw.sent('GET', '/system/logs')[1].query.get('follow'), 'true');
    assert.equal(gw.sent('GET', '/system/logs')[1].query.get('namespace'), null);
  });
});
