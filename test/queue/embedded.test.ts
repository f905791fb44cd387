// The embedded (LMDB) backend against the Queue contract, plus what only a disk can promise:
// calls survive a restart and a kill -9, and a bad data dir fails fast with E_DATA_DIR.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmbeddedQueue, createQueue, type Delivery, type QueueOptions } from '../../src/queue/index.js';
import { loadConfig } from '../../src/config/index.js';
import { isFaasqError, silentLogger } from '../../src/shared/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { CONTRACT_OPTIONS, makeMessage, runQueueContract } from './contract.js';

const here = path.dirname(fileURLToPath(import.meta.url));

runQueueContract('embedded', async (options) => {
  const { dir, cleanup } = await makeTempDir('faasq-queue-');
  return { queue: createEmbeddedQueue(path.join(dir, 'queue'), options, silentLogger()), cleanup };
});

function drain(queue: ReturnType<typeof createEmbeddedQueue>, name: string, ack = true): { got: Delivery[]; close(): Promise<void> } {
  const got: Delivery[] = [];
  const consumer = queue.consume({ queue: name, maxInflight: 50 }, (d) => {
    got.push(d);
    if (ack) void d.ack();
  });
  return { got, close: () => consumer.close() };
}

/**
 * Runs a queue fixture (test/fixtures/<fixture>) in a child process, `kill -9`s it once it has
 * printed `lines` whole lines, and returns what it printed.
 */
async function killedAfterLines(t: TestContext, fixture: string, args: readonly string[], lines: number, what: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, '../fixtures', fixture), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (out += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitFor(() => out.split('\n').length > lines, { timeoutMs: 30_000, message: what });
  child.kill('SIGKILL');
  await exited;
  return out;
}

test('embedded queue - close and reopen delivers every unacked call and keeps records, dead letters and results', async (t) => {
  const { dir, cleanup } = await makeTempDir('faasq-queue-');
  t.after(cleanup);
  const qdir = path.join(dir, 'queue');
  const options: QueueOptions = { ...CONTRACT_OPTIONS, leaseMs: 60_000 };
  const first = createEmbeddedQueue(qdir, options, silentLogger());
  await first.start();
  const messages = Array.from({ length: 20 }, (_, i) => makeMessage('persist', { priority: i % 3 }));
  for (const m of messages) await first.enqueue(m);
  const held = drain(first, 'persist', false);
  await waitFor(() => held.got.length === 20, { message: 'all delivered' });
  // 5 acked, 1 dead-lettered, 1 retried far ahead, the rest left leased when the process goes away.
  for (const d of held.got.slice(0, 5)) await d.ack();
  await held.got[5].deadLetter({ status: 500, error: 'boom' });
  await held.got[6].retry(60_000);
  await first.putResult(messages[0].callId, { status: 200, headers: {}, body: Buffer.from('ok'), isTruncated: false });
  await held.close();
  await first.close();
  assert.equal(first.isHealthy(), false);

  const second = createEmbeddedQueue(qdir, options, silentLogger());
  t.after(() => second.close());
  await second.start();
  const stats = (await second.stats()).find((s) => s.name === 'persist');
  assert.equal(stats?.depth, 14);
  assert.equal(stats?.delayed, 1);
  assert.equal(stats?.deadLetters, 1);
  const again = drain(second, 'persist');
  t.after(() => again.close());
  await waitFor(() => again.got.length === 13, { message: 'the 13 leased calls delivered again' });
  const expected = held.got.slice(7).map((d) => d.message.callId).sort();
  assert.deepEqual(again.got.map((d) => d.message.callId).sort(), expected);
  assert.equal((await second.getRecord(messages[3].callId))?.state, 'queued');
  assert.equal((await second.getResult(messages[0].callId))?.body.toString(), 'ok');
  assert.equal((await second.getDeadLetter(held.got[5].message.callId))?.lastError, 'boom');
  const dup = await second.enqueue(messages[0], { hasCallerId: true });
  assert.equal(dup.isDuplicate, true);
});

test('embedded queue - kill -9 while enqueueing loses no call whose enqueue resolved', async (t) => {
  const { dir, cleanup } = await makeTempDir('faasq-queue-');
  t.after(cleanup);
  const qdir = path.join(dir, 'queue');
  const out = await killedAfterLines(t, 'queue-enqueue-child.ts', [qdir, '1000000'], 1500, 'child enqueued 1500 calls');
  // Only complete lines: an id is printed after its enqueue resolved.
  const acked = out.slice(0, out.lastIndexOf('\n')).split('\n').filter(Boolean);
  assert.ok(acked.length >= 1500);

  const queue = createEmbeddedQueue(qdir, { ...CONTRACT_OPTIONS, leaseMs: 60_000 }, silentLogger());
  t.after(() => queue.close());
  await queue.start();
  const missing: string[] = [];
  for (const id of acked) if ((await queue.getRecord(id))?.state !== 'queued') missing.push(id);
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${acked.length} acked calls lost`);
  const depth = (await queue.stats()).find((s) => s.name === 'kill-test')?.depth ?? 0;
  assert.ok(depth >= acked.length, `depth ${depth} < ${acked.length}`);
  const got = new Set<string>();
  const consumer = queue.consume({ queue: 'kill-test', maxInflight: 200 }, (d) => {
    got.add(d.message.callId);
    void d.ack();
  });
  t.after(() => consumer.close());
  await waitFor(() => acked.every((id) => got.has(id)), { timeoutMs: 30_000, message: 'every acked call delivered' });
});

test('embedded queue - kill -9 mid-lease: a delivery whose count was kept is counted by the next delivery', async (t) => {
  const { dir, cleanup } = await makeTempDir('faasq-queue-');
  t.after(cleanup);
  const qdir = path.join(dir, 'queue');
  const out = await killedAfterLines(t, 'queue-lease-child.ts', [qdir, '10'], 10, 'child took 10 calls and kept their counts');
  const first = new Map(out.trim().split('\n').map((line) => line.split(' ') as [string, string]));
  assert.deepEqual([...new Set(first.values())], ['1']);

  const queue = createEmbeddedQueue(qdir, CONTRACT_OPTIONS, silentLogger());
  t.after(() => queue.close());
  await queue.start();
  const again = drain(queue, 'lease-test');
  t.after(() => again.close());
  await waitFor(() => again.got.length === 10, { message: 'the 10 leased calls delivered again' });
  for (const d of again.got) assert.equal(d.deliveryCount, 2, `${d.message.callId}: the delivery the kill cut short is counted`);
  assert.deepEqual(again.got.map((d) => d.message.callId).sort(), [...first.keys()].sort());
});

test('embedded queue - an unusable data dir fails start with E_DATA_DIR', async (t) => {
  const { dir, cleanup } = await makeTempDir('faasq-queue-');
  t.after(cleanup);
  // A path under a regular file: mkdir fails even for root, who ignores permission bits.
  await writeFile(path.join(dir, 'file'), 'not a directory');
  const queue = createEmbeddedQueue(path.join(dir, 'file', 'queue'), CONTRACT_OPTIONS, silentLogger());
  await assert.rejects(queue.start(), (err: unknown) => {
    assert.ok(isFaasqError(err, 'E_DATA_DIR'), `got ${String(err)}`);
    assert.match(err.message, /file/);
    return true;
  });
  assert.equal(queue.isHealthy(), false);
  await queue.close();
});

test('embedded queue - a second queue on a directory in use fails with E_DATA_DIR; a closed one frees it', async (t) => {
  const { dir, cleanup } = await makeTempDir('faasq-queue-');
  t.after(cleanup);
  const qdir = path.join(dir, 'queue');
  const first = createEmbeddedQueue(qdir, CONTRACT_OPTIONS, silentLogger());
  t.after(() => first.close());
  await first.start();
  const second = createEmbeddedQueue(qdir, CONTRACT_OPTIONS, silentLogger());
  await assert.rejects(second.start(), (err: unknown) => isFaasqError(err, 'E_DATA_DIR'));
  await second.close();
  await first.close();
  const third = createEmbeddedQueue(qdir, CONTRACT_OPTIONS, silentLogger());
  t.after(() => third.close());
  await third.start();
  assert.ok(third.isHealthy());
});

test('embedded queue - finished calls expire after the retention, unfinished ones never', async (t) => {
  const { dir, cleanup } = await makeTempDir('faasq-queue-');
  t.after(cleanup);
  const queue = createEmbeddedQueue(path.join(dir, 'queue'), { ...CONTRACT_OPTIONS, retentionMs: 1000, dedupeWindowMs: 500 }, silentLogger());
  t.after(() => queue.close());
  await queue.start();
  const done = makeMessage('ret');
  const open = makeMessage('ret', { notBefore: Date.now() + 60_000 });
  await queue.enqueue(done);
  await queue.enqueue(open);
  await queue.putResult(done.callId, { status: 200, headers: {}, body: Buffer.from('x'), isTruncated: false });
  await queue.updateRecord(done.callId, { state: 'succeeded', finishedAt: new Date().toISOString() });
  assert.equal(await queue.sweep(Date.now()), 0);
  assert.equal(await queue.sweep(Date.now() + 2000), 1);
  assert.equal(await queue.getRecord(done.callId), undefined);
  assert.equal(await queue.getResult(done.callId), undefined);
  assert.equal((await queue.getRecord(open.callId))?.state, 'queued');
});

test('embedded queue - createQueue picks the backend from config.queue.url', async (t) => {
  const { dir, cleanup } = await makeTempDir('faasq-queue-');
  t.after(cleanup);
  const embedded = createQueue({ config: loadConfig({ env: {}, flags: { dataDir: dir, 'queue.url': 'embedded' } }), logger: silentLogger() });
  t.after(() => embedded.close());
  assert.equal(embedded.backend, 'embedded');
  await embedded.start();
  assert.ok(embedded.isHealthy());
  const memory = createQueue({ config: loadConfig({ env: {}, flags: { dataDir: dir, 'queue.url': 'memory' } }), logger: silentLogger() });
  assert.equal(memory.backend, 'memory');
  const nats = createQueue({ config: loadConfig({ env: {}, flags: { dataDir: dir, 'queue.url': 'nats://127.0.0.1:4222' } }), logger: silentLogger() });
  assert.equal(nats.backend, 'jetstream');
  assert.equal(nats.isHealthy(), false);
});
