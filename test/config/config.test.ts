import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { isFaasqError } from '../../src/shared/errors.js';
import { parseDurationMs, parseBytes } from '../../src/shared/durations.js';

test('config - defaults compile to numbers and a frozen object', () => {
  const cfg = loadConfig({ env: {} });
  assert.equal(cfg.port, 8080);
  assert.equal(cfg.queue.url, 'embedded');
  assert.equal(cfg.gateway.upstreamTimeoutMs, 60_000);
  assert.equal(cfg.gateway.maxAsyncBodyBytes, 1024 * 1024);
  assert.deepEqual(cfg.worker.retry.codes, [408, 429, 500, 502, 503, 504]);
  assert.equal(cfg.worker.maxInflight, 50);
  assert.ok(path.isAbsolute(cfg.dataDir));
  assert.equal(cfg.provider.secretsDir, path.join(cfg.dataDir, 'secrets'));
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.worker.retry));
});

test('config - precedence is defaults < file < env < flags', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faasq-cfg-'));
  const file = path.join(dir, 'faasq.yaml');
  await writeFile(file, 'port: 9001\nworker:\n  maxInflight: 7\n  retry:\n    jitter: full\nqueue:\n  url: memory\n');
  const fromFile = loadConfig({ env: {}, configFile: file });
  assert.equal(fromFile.port, 9001);
  assert.equal(fromFile.worker.maxInflight, 7);
  assert.equal(fromFile.worker.retry.jitter, 'full');
  const fromEnv = loadConfig({ env: { FAASQ_PORT: '9002', FAASQ_CONFIG: file } });
  assert.equal(fromEnv.port, 9002);
  assert.equal(fromEnv.queue.url, 'memory');
  const fromFlag = loadConfig({ env: { FAASQ_PORT: '9002' }, configFile: file, flags: { port: 9003 } });
  assert.equal(fromFlag.port, 9003);
});

test('config - every bad key is named at once', () => {
  try {
    loadConfig({ env: { FAASQ_PORT: 'eighty', FAASQ_QUEUE: 'redis://x', FAASQ_ACK_WAIT: 'soon', FAASQ_RETRY_CODES: '500,abc' } });
    assert.fail('expected a config error');
  } catch (err) {
    assert.ok(isFaasqError(err, 'E_CONFIG'));
    for (const key of ['FAASQ_PORT', 'FAASQ_QUEUE', 'FAASQ_ACK_WAIT', 'FAASQ_RETRY_CODES']) assert.match(err.message, new RegExp(key));
  }
});

test('config - unknown config file key is rejected', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faasq-cfg-'));
  const file = path.join(dir, 'faasq.yaml');
  await writeFile(file, 'prot: 9001\n');
  assert.throws(() => loadConfig({ env: {}, configFile: file }), (err: unknown) => isFaasqError(err, 'E_CONFIG') && /prot/.test(err.message));
});

test('config - exponential jitter is an alias for none; nats urls accepted', () => {
  const cfg = loadConfig({ env: { FAASQ_RETRY_JITTER: 'exponential', FAASQ_QUEUE: 'nats://127.0.0.1:4222,nats://127.0.0.1:4223' } });
  assert.equal(cfg.worker.retry.jitter, 'none');
  assert.match(cfg.queue.url, /^nats:/);
});

test('durations - loose input compiles to ms; bad input throws', () => {
  assert.equal(parseDurationMs('1m30s'), 90_000);
  assert.equal(parseDurationMs('250ms'), 250);
  assert.equal(parseDurationMs('2'), 2000);
  assert.equal(parseDurationMs(1.5), 1500);
  assert.throws(() => parseDurationMs('10 parsecs'));
  assert.throws(() => parseDurationMs('-1s'));
  assert.equal(parseBytes('1MiB'), 1048576);
  assert.equal(parseBytes('512k'), 524288);
  assert.throws(() => parseBytes('lots'));
});

test('config - sandbox network: auto by default, outbound/private/host accepted, anything else named; host loopback off unless asked', () => {
  const cfg = loadConfig({ env: {} });
  assert.equal(cfg.provider.sandboxNetwork, 'auto');
  assert.equal(cfg.provider.sandboxHostLoopback, false);
  for (const value of ['outbound', 'private', 'host'] as const) assert.equal(loadConfig({ env: { FAASQ_SANDBOX_NETWORK: value } }).provider.sandboxNetwork, value);
  assert.equal(loadConfig({ env: { FAASQ_SANDBOX_HOST_LOOPBACK: 'true' } }).provider.sandboxHostLoopback, true);
  assert.throws(() => loadConfig({ env: { FAASQ_SANDBOX_NETWORK: 'slirp' } }), (err: unknown) => isFaasqError(err, 'E_CONFIG') && /FAASQ_SANDBOX_NETWORK/.test(err.message));
});
