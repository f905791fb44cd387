// The one info line per sync request: fn, status, durationMs, callId, method; never bodies or
// Authorization.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { createLogger } from '../../src/shared/logger.js';
import { waitFor } from '../support/wait-for.js';
import { startTestGateway } from './support/start-gateway.js';

// Both paths a sync call can take: the express lane and the full path (Node's server and undici,
// which also serves every call the lane hands over) must behave alike.
for (const isExpressLane of [true, false]) {
  const name = isExpressLane ? 'express lane' : 'full path';
  describe(`gateway request log (${name})`, () => {
    test('request log - one info line per invocation without bodies or credentials', async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
          done();
        },
      });
      const t = await startTestGateway({ logger: createLogger({ level: 'info', destination: sink }), flags: { 'gateway.isExpressLane': isExpressLane } });
      try {
        const res = await request(`${t.url}/function/echo/status?code=202`, {
          method: 'POST',
          headers: { authorization: 'Bearer very-secret-token', 'x-call-id': 'log-1' },
          body: 'body-that-must-not-be-logged',
        });
        await res.body.dump();
        const bad = await request(`${t.url}/function/bad$name`);
        await bad.body.dump();
        await waitFor(() => lines.some((l) => l.includes('"status":404')), { message: 'rejected request logged' });
        const invocations = lines.map((l) => JSON.parse(l)).filter((l) => l.callId === 'log-1');
        assert.equal(invocations.length, 1);
        const [line] = invocations;
        assert.equal(line.level, 30);
        assert.equal(line.function, 'echo');
        assert.equal(line.status, 202);
        assert.equal(line.method, 'POST');
        assert.equal(typeof line.durationMs, 'number');
        const all = lines.join('\n');
        assert.doesNotMatch(all, /very-secret-token/);
        assert.doesNotMatch(all, /body-that-must-not-be-logged/);
      } finally {
        await t.close();
      }
    });
  });
}
