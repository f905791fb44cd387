// How the sync path carries request bodies: small ones with a Content-Length are read whole before
// the function is called, large ones stream, and a caller that leaves mid-body never reaches it.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { waitFor } from '../support/wait-for.js';
import { startTestGateway, type TestGateway } from './support/start-gateway.js';
import { streamThrough } from './support/stream-through.js';

function patterned(size: number): Buffer {
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = i % 253;
  return body;
}

describe('gateway sync bodies', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway();
  });
  after(async () => {
    await t.close();
  });

  test('gateway - bodies with a Content-Length at, below and above the read-whole limit arrive intact', async () => {
    for (const size of [1, 64 * 1024, 64 * 1024 + 1, 300 * 1024]) {
      const body = patterned(size);
      const res = await request(`${t.url}/function/echo/echo`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
      const back = Buffer.from(await res.body.arrayBuffer());
      assert.equal(res.statusCode, 200, `status for ${size} bytes`);
      assert.equal(back.length, size);
      assert.ok(back.equals(body), `body of ${size} bytes echoed unchanged`);
      assert.equal(t.fn.seen.at(-1)?.headers['content-length'], String(size), 'the function gets the declared length');
    }
  });

  test('gateway - a large body with a Content-Length still streams', async () => {
    const total = 16 * 1024 * 1024;
    const chunk = patterned(256 * 1024);
    const echo = await streamThrough(`${t.url}/function/echo/echo`, total, chunk, { 'content-length': String(total) });
    assert.equal(echo.received, total);
    assert.equal(echo.gotSha256, echo.sentSha256);
    assert.ok(echo.receivedBeforeUploadDone > 0, 'response bytes arrived while the upload was still running');
  });

  test('gateway - a caller that leaves in the middle of a small body never reaches the function', async () => {
    const callId = `left-mid-body-${Date.now()}`;
    let isStarted = false;
    let completed: { status: number } | undefined;
    // Tests in this file run one at a time: the only call starting now is this one.
    const offStarted = t.events.on('invocation.started', () => {
      isStarted = true;
    });
    const offCompleted = t.events.on('invocation.completed', (e) => {
      if (e.callId === callId) completed = e;
    });
    try {
      const req = http.request(`${t.url}/function/echo/echo`, { method: 'POST', headers: { 'content-length': '1000', 'x-call-id': callId } });
      req.on('error', () => undefined);
      req.write('only ten b');
      await waitFor(() => isStarted, { timeoutMs: 3000, message: 'the gateway started the call' });
      req.destroy();
      const done = await waitFor(() => completed, { timeoutMs: 3000, message: 'invocation.completed for the call' });
      assert.equal(done.status, 499);
      assert.equal(t.fn.seen.some((s) => s.headers['x-call-id'] === callId), false, 'the function never saw the call');
    } finally {
      offStarted();
      offCompleted();
    }
  });
});
