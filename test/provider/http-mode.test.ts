import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { Provider } from '../../src/provider/index.js';
import { isFaasqError } from '../../src/shared/index.js';
import { waitFor } from '../support/wait-for.js';
import { fixtureSpec, nodeFixture, readAll, request, startTestProvider, bodyOf, isAlive } from '../support/provider-fixtures.js';

describe('provider http mode', () => {
  let provider: Provider;
  let close: () => Promise<void>;

  before(async () => {
    ({ provider, close } = await startTestProvider({ 'provider.execTimeoutMs': '1s' }));
  });

  after(() => close());

  test('provider - http mode proxies method, path, query, headers and body', async () => {
    await provider.deploy(fixtureSpec('echo'));
    const res = await provider.invoke('echo', 'openfaas-fn', request({
      method: 'PUT', path: '/a/b', query: 'x=1&y=2',
      headers: { 'content-type': 'text/plain', 'x-call-id': 'abc', expect: '100-continue' },
      body: bodyOf('hello'),
    }));
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-method'], 'PUT');
    assert.equal(res.headers['x-path'], '/a/b');
    assert.equal(res.headers['x-query'], 'x=1&y=2');
    assert.match(String(res.headers['x-seen-headers']), /x-call-id/);
    assert.doesNotMatch(String(res.headers['x-seen-headers']), /expect/);
    assert.match(String(res.headers['x-duration-seconds']), /^\d+\.\d+$/);
    assert.equal(res.headers['transfer-encoding'], undefined);
    assert.equal(res.headers.connection, undefined);
    assert.equal(await readAll(res), 'hello');
    const status = await provider.get('echo', 'openfaas-fn');
    assert.equal(status.availableReplicas, 1);
    assert.equal(status.invocationCount, 1);
  });

  test('provider - http mode streams a 100 MB body both ways without buffering it', async () => {
    await provider.deploy(fixtureSpec('stream'));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const total = 100 * 1024 * 1024;
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent >= total) return void this.push(null);
        sent += chunk.length;
        this.push(chunk);
      },
    });
    // The bytes the source has handed over but the caller has not yet received: what sits in
    // buffers along the way (sockets both ways, streams). Buffering either direction whole would
    // let it reach 100 MB; streaming keeps it to a few MB. Counted, not read off RSS, which moves
    // with the garbage collector on a loaded machine.
    let maxInFlight = 0;
    const res = await provider.invoke('stream', 'openfaas-fn', request({ body, headers: { 'content-type': 'application/octet-stream' } }));
    let received = 0;
    for await (const part of res.body) {
      received += (part as Buffer).length;
      maxInFlight = Math.max(maxInFlight, sent - received);
    }
    assert.equal(received, total);
    assert.ok(maxInFlight < 32 * 1024 * 1024, `${Math.round(maxInFlight / 1048576)} MB in flight at most`);
  });

  test('provider - http mode answers E_FUNCTION_TIMEOUT (504) when the function never answers', async () => {
    await provider.deploy(fixtureSpec('never', { fprocess: nodeFixture('never-answers.mjs') }));
    await waitFor(async () => (await provider.get('never', 'openfaas-fn')).availableReplicas === 1);
    await assert.rejects(provider.invoke('never', 'openfaas-fn', request()), (err) => isFaasqError(err, 'E_FUNCTION_TIMEOUT') && err.status === 504);
  });

  test('provider - http mode maps a process dying mid-request to E_FUNCTION_UNREACHABLE and restarts it', async () => {
    await provider.deploy(fixtureSpec('crash', { fprocess: nodeFixture('crash.mjs') }));
    const first = Number(await readAll(await provider.invoke('crash', 'openfaas-fn', request({ method: 'GET' }))));
    assert.ok(isAlive(first));
    await assert.rejects(provider.invoke('crash', 'openfaas-fn', request({ path: '/crash' })), (err) => isFaasqError(err, 'E_FUNCTION_UNREACHABLE') && err.status === 502);
    const second = await waitFor(async () => {
      const pid = Number(await readAll(await provider.invoke('crash', 'openfaas-fn', request({ method: 'GET' }))));
      return pid !== first ? pid : 0;
    }, { timeoutMs: 5000 });
    assert.ok(isAlive(second));
    assert.ok(!isAlive(first));
  });

  test('provider - http mode deploy of a missing command fails with E_DEPLOY_FAILED', async () => {
    await assert.rejects(
      provider.deploy(fixtureSpec('missing', { fprocess: 'no-such-command-faasq --flag' })),
      (err) => isFaasqError(err, 'E_DEPLOY_FAILED') && /command not found: no-such-command-faasq/.test(err.message),
    );
    await assert.rejects(provider.get('missing', 'openfaas-fn'), (err) => isFaasqError(err, 'E_FUNCTION_NOT_FOUND'));
  });
});

describe('provider http mode, X-Timeout', () => {
  let provider: Provider;
  let close: () => Promise<void>;

  before(async () => {
    ({ provider, close } = await startTestProvider({ 'provider.execTimeoutMs': '2s' }));
    await provider.deploy(fixtureSpec('never', { fprocess: nodeFixture('never-answers.mjs') }));
    await waitFor(async () => (await provider.get('never', 'openfaas-fn')).availableReplicas === 1);
  });

  after(() => close());

  /** How long a call to the never-answering function took to fail with E_FUNCTION_TIMEOUT. */
  const timed = async (headers: Record<string, string>): Promise<number> => {
    const t0 = performance.now();
    await assert.rejects(provider.invoke('never', 'openfaas-fn', request({ headers })), (err) => isFaasqError(err, 'E_FUNCTION_TIMEOUT'));
    return performance.now() - t0;
  };

  // The pool keeps the exec timeout on its own clock (quiet-pool.ts), so a short X-Timeout ends on time.
  test('provider - http mode: an X-Timeout header shortens the exec timeout (2 s) for that request', async () => {
    const ms = await timed({ 'x-timeout': '200ms' });
    assert.ok(ms >= 195 && ms < 500, `X-Timeout 200ms took ${Math.round(ms)} ms`);
  });

  test('provider - http mode: an X-Timeout longer than the exec timeout, or one that does not parse, changes nothing', async () => {
    const [longer, unparsable] = await Promise.all([timed({ 'x-timeout': '1m' }), timed({ 'x-timeout': 'soon' })]);
    assert.ok(longer >= 1900 && longer < 10_000, `X-Timeout 1m took ${Math.round(longer)} ms`);
    assert.ok(unparsable >= 1900 && unparsable < 10_000, `X-Timeout "soon" took ${Math.round(unparsable)} ms`);
  });
});
