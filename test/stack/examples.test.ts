import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStackFile } from '../../src/stack/index.js';
import { bodyOf, readAll, request, startTestProvider } from '../support/provider-fixtures.js';

const STACK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'stack.yml');

test('stack - the example stack file deploys and every example answers', async () => {
  const specs = loadStackFile(STACK, { FLAKY_PERCENT: '0' });
  assert.deepEqual(specs.map((s) => s.name), ['echo', 'env', 'upper', 'hello', 'slow', 'flaky']);
  const { provider, close } = await startTestProvider();
  try {
    // `node` from the stack file is this test's node, so the examples run wherever the tests do.
    for (const spec of specs) await provider.deploy({ ...spec, fprocess: spec.fprocess.replace(/^node /, `${process.execPath} `) });
    const call = async (fn: string, overrides = {}) => {
      const res = await provider.invoke(fn, 'openfaas-fn', request(overrides));
      return { status: res.status, text: await readAll(res) };
    };
    assert.deepEqual(await call('echo', { body: bodyOf('e') }), { status: 200, text: 'e' });
    assert.match((await call('env', { body: bodyOf('') })).text, /Http_Method=POST/);
    assert.deepEqual(await call('upper', { body: bodyOf('up') }), { status: 200, text: 'UP' });
    assert.deepEqual(await call('hello', { body: bodyOf('you') }), { status: 200, text: 'Hello, you!\n' });
    assert.deepEqual(await call('slow', { method: 'GET', query: 'ms=10' }), { status: 200, text: 'slept 10ms\n' });
    assert.deepEqual(await call('flaky', { method: 'GET' }), { status: 200, text: 'flaky: ok\n' });
    assert.equal((await call('flaky', { method: 'GET', headers: { 'x-fail': '1' } })).status, 500);
  } finally {
    await close();
  }
});
