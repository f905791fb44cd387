import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Provider } from '../../src/provider/index.js';
import { isFaasqError } from '../../src/shared/index.js';
import { waitFor } from '../support/wait-for.js';
import { bodyOf, fixtureSpec, nodeFixture, readAll, request, startTestProvider } from '../support/provider-fixtures.js';

describe('provider fork mode', () => {
  let provider: Provider;
  let close: () => Promise<void>;
  const fork = (name: string, environment: Record<string, string> = {}) =>
    fixtureSpec(name, { fprocess: nodeFixture('fork.mjs'), environment: { GREETING: 'hi', ...environment } });

  before(async () => {
    ({ provider, close } = await startTestProvider({}, { ...process.env, FAASQ_PASSWORD: 'gateway-only' }));
    await provider.deploy(fork('fork'));
  });

  after(() => close());

  test('provider - fork mode pipes the body to stdin and stdout to the response', async () => {
    const res = await provider.invoke('fork', 'openfaas-fn', request({ body: bodyOf('ping'), headers: { 'content-type': 'text/x-test' } }));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/x-test');
    assert.match(String(res.headers['x-duration-seconds']), /^\d+\.\d+$/);
    assert.equal(await readAll(res), 'ping');
  });

  test('provider - fork mode sets Http_* variables and the function environment', async () => {
    const res = await provider.invoke('fork', 'openfaas-fn', request({
      method: 'PATCH', path: '/p/q', query: 'env=1',
      headers: { 'x-call-id': 'call-1', 'content-type': 'application/json', 'content-length': '0' },
      body: Buffer.alloc(0),
    }));
    const env = JSON.parse(await readAll(res)) as Record<string, string>;
    assert.equal(env.Http_Method, 'PATCH');
    assert.equal(env.Http_Path, '/p/q');
    assert.equal(env.Http_Query, 'env=1');
    assert.equal(env.Http_X_Call_Id, 'call-1');
    assert.equal(env.Http_Content_Type, 'application/json');
    assert.equal(env.Http_ContentLength, '0');
    assert.equal(env.GREETING, 'hi');
  });

  test('provider - fork mode does not pass faasq settings (FAASQ_*) to functions', async () => {
    await provider.deploy(fixtureSpec('printenv', { fprocess: 'env', environment: {} }));
    const text = await readAll(await provider.invoke('printenv', 'openfaas-fn', request({ body: Buffer.alloc(0) })));
    assert.match(text, /Http_Method=POST/);
    assert.doesNotMatch(text, /FAASQ_PASSWORD|gateway-only/);
  });

  test('provider - fork mode uses the content_type variable when set', async () => {
    await provider.deploy(fork('typed', { content_type: 'application/x-fixed' }));
    const res = await provider.invoke('typed', 'openfaas-fn', request({ body: bodyOf('x'), headers: { 'content-type': 'text/plain' } }));
    assert.equal(res.headers['content-type'], 'application/x-fixed');
    await readAll(res);
  });

  test('provider - fork mode answers 500 with output and exit status on a non-zero exit', async () => {
    const res = await provider.invoke('fork', 'openfaas-fn', request({ query: 'code=3', body: bodyOf('partial') }));
    assert.equal(res.status, 500);
    const text = await readAll(res);
    assert.match(text, /^partial/);
    assert.match(text, /exit status 3/);
  });

  test('provider - fork mode sends stderr to the function log, not the body', async () => {
    const res = await provider.invoke('fork', 'openfaas-fn', request({ query: 'stderr=1', body: bodyOf('body') }));
    assert.equal(await readAll(res), 'body');
    const entries = await waitFor(async () => {
      const out = [];
      for await (const entry of provider.logs({ name: 'fork', namespace: 'openfaas-fn' })) out.push(entry);
      return out.some((e) => /to stderr from/.test(e.text)) ? out : undefined;
    });
    assert.equal(entries.find((e) => /to stderr/.test(e.text))?.name, 'fork');
  });

  test('provider - fork mode kills the process on exec timeout with E_FUNCTION_TIMEOUT', async () => {
    await provider.deploy(fork('sleepy', { exec_timeout: '300ms' }));
    const started = Date.now();
    await assert.rejects(
      provider.invoke('sleepy', 'openfaas-fn', request({ query: 'sleep=20000', body: bodyOf('') })),
      (err) => isFaasqError(err, 'E_FUNCTION_TIMEOUT') && err.status === 504,
    );
    assert.ok(Date.now() - started < 5000);
  });

  test('provider - fork mode deploy of a missing command fails with E_DEPLOY_FAILED', async () => {
    await assert.rejects(
      provider.deploy(fixtureSpec('nope', { fprocess: 'definitely-not-a-command-faasq', environment: {} })),
      (err) => isFaasqError(err, 'E_DEPLOY_FAILED') && /command not found: definitely-not-a-command-faasq/.test(err.message),
    );
    await assert.rejects(
      provider.deploy(fixtureSpec('nope2', { fprocess: './missing.sh', environment: {} })),
      (err) => isFaasqError(err, 'E_DEPLOY_FAILED') && /command not found: \.\/missing\.sh/.test(err.message),
    );
  });

  test('provider - fork mode runs plain commands from PATH (tr)', async () => {
    await provider.deploy(fixtureSpec('upper', { fprocess: 'tr a-z A-Z', environment: {} }));
    const res = await provider.invoke('upper', 'openfaas-fn', request({ body: bodyOf('shout') }));
    assert.equal(await readAll(res), 'SHOUT');
  });
});
