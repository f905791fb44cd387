// The call lifecycle in the logs of a real `faasq up`: one structured line per step (accepted,
// started, attempt failed, retried, succeeded, failed, dead-lettered, callback delivered/failed,
// cancelled) with the stable fields callId, function, queue, attempt, status, durationMs; no
// secrets or bodies anywhere in the output; the console format is readable text.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ADMIN_AUTH, PASSWORD, startObservedFaasq } from '../metrics/support/observed-faasq.js';
import { runTraffic } from '../metrics/support/traffic.js';
import { waitFor } from '../support/wait-for.js';

type Line = Record<string, unknown>;

describe('call lifecycle log', () => {
  test('logs - each lifecycle step is one JSON line with the stable fields', { timeout: 60_000 }, async () => {
    const f = await startObservedFaasq();
    try {
      const { ids } = await runTraffic(f);
      const lines = f.json();
      const of = (callId: string, msg: string): Line[] => lines.filter((l) => l.callId === callId && l.msg === msg);
      const one = (callId: string, msg: string): Line => {
        const found = of(callId, msg);
        assert.equal(found.length, 1, `one "${msg}" line for ${callId}, got ${found.length}`);
        const line = found[0];
        assert.equal(line.level, 30, `"${msg}" at info`);
        assert.equal(line.queue, 'faas-request', `"${msg}" names the queue`);
        assert.equal(typeof line.function, 'string', `"${msg}" names the function`);
        return line;
      };
      const isDuration = (v: unknown): boolean => typeof v === 'number' && v >= 0;

      for (const [fn, id] of Object.entries(ids)) {
        const accepted = one(id, 'call accepted');
        assert.equal(accepted.function, fn === 'delayed' ? 'ok' : fn);
        assert.equal(accepted.status, 202);
        assert.ok(isDuration(accepted.durationMs), 'accept durationMs');
        assert.equal(accepted.component, 'gateway');
      }

      const started = one(ids.ok, 'call started');
      assert.equal(started.attempt, 1);
      assert.equal(started.component, 'worker');
      const ok = one(ids.ok, 'call succeeded');
      assert.equal(ok.status, 200);
      assert.equal(ok.attempt, 1);
      assert.ok(isDuration(ok.durationMs));

      const failedAttempt = one(ids.flaky, 'call attempt failed');
      assert.deepEqual([failedAttempt.attempt, failedAttempt.status, isDuration(failedAttempt.durationMs)], [1, 503, true]);
      const retried = one(ids.flaky, 'call retried');
      assert.equal(retried.attempt, 1);
      assert.equal(retried.status, 503);
      assert.equal(typeof retried.delayMs, 'number');
      assert.equal(of(ids.flaky, 'call started').length, 2, 'one started line per attempt');
      assert.equal(one(ids.flaky, 'call succeeded').attempt, 2);

      assert.equal(of(ids.down, 'call attempt failed').length, 2);
      const dead = lines.filter((l) => l.callId === ids.down && l.msg === 'call dead-lettered');
      assert.equal(dead.length, 1);
      assert.deepEqual([dead[0].level, dead[0].attempt, dead[0].status, dead[0].reason], [40, 2, 500, 'attempts']);
      assert.ok(isDuration(dead[0].durationMs));

      const failed = one(ids.bad, 'call failed');
      assert.deepEqual([failed.status, failed.attempt, isDuration(failed.durationMs)], [400, 1, true]);

      const delivered = one(ids.ok, 'callback delivered');
      assert.deepEqual([delivered.status, delivered.attempt], [200, 1]);
      const cbFailed = lines.filter((l) => l.callId === ids.down && l.msg === 'callback failed');
      assert.deepEqual(cbFailed.map((l) => [l.status, l.attempt, l.isFinal]), [[500, 1, false], [500, 2, true]]);

      const cancelled = one(ids.delayed, 'call cancelled');
      assert.equal(cancelled.function, 'ok');
      assert.equal(cancelled.previousState, 'queued');
    } finally {
      await f.close();
    }
  });

  test('logs - Authorization, Cookie, callback signatures, bodies and the password never appear', { timeout: 60_000 }, async () => {
    const f = await startObservedFaasq({ logLevel: 'trace' });
    try {
      const secrets = {
        authorization: 'Bearer sync-bearer-secret-91c2',
        cookie: 'session=cookie-secret-5d1e',
        'proxy-authorization': 'Basic proxy-secret-a4b0',
      };
      const sync = await fetch(`${f.url}/function/ok`, { method: 'POST', body: 'sync-request-body-marker', headers: secrets });
      assert.equal(await sync.text(), 'sync-request-body-marker');
      const callId = await f.submit('ok', { body: 'async-request-body-marker', headers: { ...secrets, 'x-callback-url': `${f.hookUrl}/ok?token=callback-token-secret` } });
      await f.waitForState(callId, ['succeeded']);
      const hook = await waitFor(() => f.hooks.find((h) => h.headers['x-call-id'] === callId), { message: 'callback received' });
      const signature = String(hook.headers['x-faasq-signature']);
      assert.match(signature, /^sha256=[0-9a-f]{64}$/);
      assert.equal(hook.body, 'async-request-body-marker', 'the callback carried the response body');
      const result = await fetch(`${f.url}/async-function/${callId}/result`);
      assert.equal(await result.text(), 'async-request-body-marker');
      const queues = await fetch(`${f.url}/system/queues`, { headers: { authorization: ADMIN_AUTH } });
      assert.equal(queues.status, 200);
      await queues.arrayBuffer();
      const denied = await fetch(`${f.url}/system/queues`, { headers: { authorization: 'Basic d3Jvbmc6d3Jvbmctc2VjcmV0LWI3' } });
      assert.equal(denied.status, 401);
      await denied.arrayBuffer();
      await waitFor(() => f.lines.some((l) => l.includes('"callback delivered"')), { message: 'callback logged' });

      const all = f.lines.join('\n');
      assert.ok(f.lines.length > 5, 'something was logged');
      const mustNotAppear = [
        ...Object.values(secrets), 'sync-bearer-secret', 'cookie-secret', 'proxy-secret',
        'sync-request-body-marker', 'async-request-body-marker', 'callback-token-secret',
        signature, signature.slice('sha256='.length), 'callback-hmac-secret-never-logged',
        PASSWORD, ADMIN_AUTH, ADMIN_AUTH.slice('Basic '.length), 'd3Jvbmc6d3Jvbmctc2VjcmV0LWI3', 'wrong-secret-b7',
      ];
      for (const s of mustNotAppear) assert.ok(!all.includes(s), `log output contains ${JSON.stringify(s)}`);
    } finally {
      await f.close();
    }
  });

  test('logs - the console format writes readable lines, not JSON', { timeout: 30_000 }, async () => {
    const f = await startObservedFaasq({ logFormat: 'console' });
    try {
      const callId = await f.submit('ok', { body: 'x' });
      await f.waitForState(callId, ['succeeded']);
      await waitFor(() => f.lines.some((l) => l.includes('call succeeded')), { message: 'succeeded line' });
      const accepted = f.lines.find((l) => l.includes('call accepted'));
      assert.ok(accepted, 'an accepted line');
      assert.match(accepted, /INFO/);
      assert.throws(() => JSON.parse(accepted), 'not JSON');
      assert.ok(f.lines.some((l) => l.includes(callId)), 'fields are printed');
    } finally {
      await f.close();
    }
  });
});
