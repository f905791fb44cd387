import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { callbackHeaders, signBody, type CallbackPayload } from '../../src/callback/index.js';

const payload: CallbackPayload = {
  url: 'http://127.0.0.1/hook', callId: 'c-1', functionName: 'fn', status: 503,
  headers: { 'Content-Type': 'text/plain', connection: 'keep-alive', 'content-length': '5', 'x-fn': 'a', 'transfer-encoding': 'chunked' },
  body: Buffer.from('hello'), durationMs: 1234.5678, retry: 2, retryMax: 9,
};

describe('callback headers', () => {
  test('callback - carries the function headers minus hop-by-hop and length, plus ours', () => {
    const h = callbackHeaders(payload, 'faasq-worker/1.2.3', undefined, 0);
    assert.deepEqual(h, {
      'content-type': 'text/plain', 'x-fn': 'a',
      'x-call-id': 'c-1', 'x-function-name': 'fn', 'x-function-status': '503',
      'x-duration-seconds': '1.234568', 'x-retry': '2', 'x-retry-max': '9', 'user-agent': 'faasq-worker/1.2.3',
    });
  });

  test('callback - our headers win over the function headers of the same name', () => {
    const h = callbackHeaders({ ...payload, headers: { 'x-call-id': 'spoofed', 'X-Retry': '99' } }, 'ua', undefined, 0);
    assert.equal(h['x-call-id'], 'c-1');
    assert.equal(h['x-retry'], '2');
  });

  test('callback - signed with HMAC-SHA256 of the body and a timestamp when a secret is set', () => {
    const h = callbackHeaders(payload, 'ua', 's3cret', 1_900_000_000_123);
    assert.equal(h['x-faasq-signature'], `sha256=${createHmac('sha256', 's3cret').update('hello').digest('hex')}`);
    assert.equal(h['x-faasq-timestamp'], '1900000000');
    assert.equal(signBody('k', Buffer.alloc(0)), createHmac('sha256', 'k').digest('hex'));
  });
});
