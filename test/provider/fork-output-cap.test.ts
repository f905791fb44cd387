// Fork mode buffers stdout; provider.maxForkOutputBytes caps it: a call writing more is killed and
// fails E_FUNCTION_OUTPUT_TOO_LARGE (502) without waiting for its exec timeout.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Provider } from '../../src/provider/index.js';
import { isFaasqError } from '../../src/shared/index.js';
import { bodyOf, fixtureSpec, readAll, request, startTestProvider } from '../support/provider-fixtures.js';

const CAP_BYTES = 4096;

describe('provider fork output cap', () => {
  let provider: Provider;
  let close: () => Promise<void>;

  before(async () => {
    ({ provider, close } = await startTestProvider({ 'provider.maxForkOutputBytes': CAP_BYTES }));
  });

  after(() => close());

  test('fork mode - output up to the cap is answered in full', async () => {
    await provider.deploy(fixtureSpec('at-cap', { fprocess: `head -c ${CAP_BYTES} /dev/zero`, environment: {} }));
    const res = await provider.invoke('at-cap', 'openfaas-fn', request({ body: bodyOf('') }));
    assert.equal(res.status, 200);
    assert.equal((await readAll(res)).length, CAP_BYTES);
  });

  test('fork mode - output over the cap kills the process and fails 502', async () => {
    await provider.deploy(fixtureSpec('over-cap', { fprocess: `head -c ${CAP_BYTES + 1} /dev/zero`, environment: {} }));
    await assert.rejects(
      provider.invoke('over-cap', 'openfaas-fn', request({ body: bodyOf('') })),
      (err) => isFaasqError(err, 'E_FUNCTION_OUTPUT_TOO_LARGE') && err.status === 502 && err.detail.maxBytes === CAP_BYTES,
    );
  });

  test('fork mode - endless output (also from a grandchild behind sh -c) is cut at the cap, not at the exec timeout', async () => {
    // `yes` under sh keeps the stdout pipe open after sh itself is killed.
    await provider.deploy(fixtureSpec('endless', { fprocess: 'sh -c "yes; true"', environment: {} }));
    const started = Date.now();
    await assert.rejects(
      provider.invoke('endless', 'openfaas-fn', request({ body: bodyOf('') })),
      (err) => isFaasqError(err, 'E_FUNCTION_OUTPUT_TOO_LARGE'),
    );
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started}ms (exec timeout is 5s)`);
  });
});
