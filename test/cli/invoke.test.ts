// `faasq invoke` (sync and async) and `faasq call` against a fake gateway.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeGateway, type FakeGateway } from './support/fake-gateway.js';
import { runCli } from './support/run-cli.js';

describe('cli invoke and call', () => {
  let gw: FakeGateway;
  const cli = (args: string[], input?: string) =>
    runCli(['-g', gw.url, ...args], { input, env: { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'pw', FAASQ_CONFIG_DIR: '/nonexistent-faasq-test' } });

  before(async () => {
    gw = await startFakeGateway();
  });
  after(() => gw.close());

  test('cli - invoke sends stdin, headers, query and method, prints the body, and never sends credentials', async () => {
    gw.on('POST', '/function/echo', (req) => ({ status: 200, body: `got:${req.body}` }));
    gw.on('PUT', '/function/echo/sub', { status: 201, body: 'put-ok' });
    const run = await cli(['invoke', 'echo', '-H', 'X-Trace: abc', '-H', 'legacy=1', '--query', 'a=1', '--query', 'b=two words'], 'hello stdin');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'got:hello stdin');
    const req = gw.sent('POST', '/function/echo')[0];
    assert.equal(req.body, 'hello stdin');
    assert.equal(req.headers['x-trace'], 'abc');
    assert.equal(req.headers.legacy, '1');
    assert.equal(req.headers['content-type'], 'text/plain');
    assert.equal(req.query.get('a'), '1');
    assert.equal(req.query.get('b'), 'two words');
    assert.equal(req.headers.authorization, undefined);

    const put = await cli(['invoke', 'echo/sub', '--method', 'PUT', '--data', '{"x":1}', '--content-type', 'application/json']);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(put.stdout, 'put-ok');
    const putReq = gw.sent('PUT', '/function/echo/sub')[0];
    assert.equal(putReq.body, '{"x":1}');
    assert.equal(putReq.headers['content-type'], 'application/json');
  });

  test('cli - invoke prints the body of a non-2xx answer and exits 1', async () => {
    gw.on('POST', '/function/boom', { status: 500, body: 'it broke\n' });
    const run = await cli(['invoke', 'boom', '--data', 'x']);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, 'it broke\n');
    assert.match(run.stderr, /function returned 500/);
  });

  test('cli - invoke --auth sends credentials; the gateway challenge without it exits 4, a function 401 exits 1', async () => {
    gw.on('POST', '/function/guarded', (req) => (req.headers.authorization
      ? { status: 200, body: 'in' }
      : { status: 401, headers: { 'www-authenticate': 'Basic realm="Restricted"' }, body: 'invalid credentials' }));
    gw.on('POST', '/function/picky', { status: 401, body: 'no token' });
    const withAuth = await cli(['invoke', 'guarded', '--auth', '--data', 'x']);
    assert.equal(withAuth.code, 0, withAuth.stderr);
    assert.equal(withAuth.stdout, 'in');
    const without = await cli(['invoke', 'guarded', '--data', 'x']);
    assert.equal(without.code, 4);
    assert.match(without.stderr, /--auth/);
    const fnSaysNo = await cli(['invoke', 'picky', '--data', 'x']);
    assert.equal(fnSaysNo.code, 1);
    assert.equal(fnSaysNo.stdout, 'no token');
  });

  test('cli - invoke --async sends the async headers and prints the call id', async () => {
    gw.on('POST', '/async-function/echo', (req) => ({ status: 202, headers: { 'x-call-id': String(req.headers['x-call-id'] ?? 'generated-1'), location: '/async-function/x' } }));
    const run = await cli(['invoke', 'echo', '--async', '--callback-url', 'http://127.0.0.1:9/cb', '--priority', '7', '--delay', '30s', '--call-id', 'my-id-1'], 'payload');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'my-id-1\n');
    const req = gw.sent('POST', '/async-function/echo')[0];
    assert.equal(req.body, 'payload');
    assert.equal(req.headers['x-callback-url'], 'http://127.0.0.1:9/cb');
    assert.equal(req.headers['x-priority'], '7');
    assert.equal(req.headers['x-delay'], '30s');
    assert.equal(req.headers['x-call-id'], 'my-id-1');

    const asJson = await cli(['invoke', 'echo', '-a', '--json', '--data', 'x']);
    assert.equal(asJson.code, 0, asJson.stderr);
    assert.deepEqual(JSON.parse(asJson.stdout), { callId: 'generated-1', location: '/async-function/x', isDuplicate: false });

    const badDelay = await cli(['invoke', 'echo', '--delay', 'soon', '--data', 'x']);
    assert.equal(badDelay.code, 2);
    assert.match(badDelay.stderr, /--delay/);

    gw.on('POST', '/async-function/missing', { status: 404, body: 'function missing not found' });
    const missing = await cli(['invoke', 'missing', '-a', '--data', 'x']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /404: function missing not found/);
  });

  test('cli - invoke --async --wait polls until final, prints the result, and exits by state', async () => {
    let polls = 0;
    gw.on('POST', '/async-function/slow', { status: 202, headers: { 'x-call-id': 'call-ok' } });
    gw.on('GET', '/async-function/call-ok', () => ({ json: { callId: 'call-ok', function: 'slow', state: ++polls < 3 ? 'running' : 'succeeded', hasResult: true } }));
    gw.on('GET', '/async-function/call-ok/result', { status: 200, headers: { 'x-function-status': '200', 'x-call-id': 'call-ok' }, body: 'the result' });
    const run = await cli(['invoke', 'slow', '--async', '--wait', '--timeout', '10s', '--data', 'x']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'the result');
    assert.match(run.stderr, /call-ok/);
    assert.equal(polls, 3);

    gw.on('POST', '/async-function/bad', { status: 202, headers: { 'x-call-id': 'call-bad' } });
    gw.on('GET', '/async-function/call-bad', { json: { callId: 'call-bad', function: 'bad', state: 'failed', lastStatus: 422, hasResult: true } });
    gw.on('GET', '/async-function/call-bad/result', { status: 422, headers: { 'x-function-status': '422' }, body: 'bad input' });
    const failed = await cli(['invoke', 'bad', '--wait', '--data', 'x']);
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout, 'bad input');
    assert.match(failed.stderr, /call call-bad failed \(last status 422\)/);

    gw.on('POST', '/async-function/stuck', { status: 202, headers: { 'x-call-id': 'call-stuck' } });
    gw.on('GET', '/async-function/call-stuck', { json: { callId: 'call-stuck', function: 'stuck', state: 'queued' } });
    const stuck = await cli(['invoke', 'stuck', '--wait', '--timeout', '300ms', '--data', 'x']);
    assert.equal(stuck.code, 1);
    assert.match(stuck.stderr, /timed out .* call-stuck \(state queued\)/);
  });

  test('cli - call get, result and cancel', async () => {
    const record = { callId: 'c1', function: 'echo', namespace: 'openfaas-fn', queue: 'faas-request', state: 'dead', attempts: 3, maxAttempts: 3, lastStatus: 503, lastError: 'upstream 503', hasResult: false };
    gw.on('GET', '/async-function/c1', { json: record });
    const readable = await cli(['call', 'get', 'c1']);
    assert.equal(readable.code, 0, readable.stderr);
    assert.match(readable.stdout, /State:\s+dead/);
    assert.match(readable.stdout, /Attempts:\s+3\/3/);
    assert.match(readable.stdout, /Last status:\s+503/);
    assert.equal(gw.sent('GET', '/async-function/c1')[0].headers.authorization, 'Basic ' + Buffer.from('admin:pw').toString('base64'));
    const json = await cli(['call', 'get', 'c1', '--json']);
    assert.deepEqual(JSON.parse(json.stdout), record);

    gw.on('GET', '/async-function/c2/result', { status: 404, json: { error: 'E_RESULT_NOT_READY', message: 'call c2 is running', state: 'running' } });
    const notReady = await cli(['call', 'result', 'c2']);
    assert.equal(notReady.code, 1);
    assert.match(notReady.stderr, /call c2 is running/);

    gw.on('DELETE', '/async-function/c3', { status: 202, json: { callId: 'c3', function: 'echo', state: 'cancelled' } });
    const cancelled = await cli(['call', 'cancel', 'c3']);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /Cancelled c3 \(cancelled\)/);
    gw.on('DELETE', '/async-function/c4', { status: 409, json: { error: 'E_CALL_FINISHED', message: 'call c4 already finished' } });
    const finished = await cli(['call', 'cancel', 'c4']);
    assert.equal(finished.code, 1);
    assert.match(finished.stderr, /409: call c4 already finished/);
  });
});
