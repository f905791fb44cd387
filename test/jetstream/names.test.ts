// Names and tokens: any queue name or call id maps to a legal NATS subject token / KV key and back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNames, decodeToken, encodeToken, isSupportedServerVersion } from '../../src/queue/jetstream/index.js';

test('jetstream names - tokens round-trip and use only subject-safe characters', () => {
  for (const value of ['faas-request', 'a.b.c', 'with space', 'x>y*z', 'under_score', 'ünï©ødé', '', '0123-abc']) {
    const token = encodeToken(value);
    assert.match(token, /^[A-Za-z0-9_-]*$/);
    assert.equal(decodeToken(token), value);
  }
  assert.notEqual(encodeToken('a_b'), encodeToken('a.b'));
});

test('jetstream names - one prefix names everything; queues come back from stream names', () => {
  const names = createNames('faasq');
  assert.equal(names.queueStream('faas-request'), 'FAASQ_Q_faas-request');
  assert.equal(names.queueOfStream(names.queueStream('my.queue')), 'my.queue');
  assert.equal(names.queueOfStream('KV_FAASQ_records'), undefined);
  assert.equal(names.prioritySubject('q', 7, 'id-1'), 'faasq.q.q.p7.id-1');
  assert.equal(names.priorityOfDelayedSubject(names.delayedSubject('q', 3, 'id')), 3);
  assert.equal(names.deadLetterFilter(undefined), 'faasq.dlq.*.*');
  assert.equal(names.queueSubjects('q').length, 11);
  assert.throws(() => createNames('bad prefix'));
});

test('jetstream names - servers before 2.10 are refused', () => {
  for (const v of ['2.10.0', '2.10.27', 'v2.15.1', '2.11.0-beta.1', '3.0.0']) assert.equal(isSupportedServerVersion(v), true, v);
  for (const v of ['2.9.10', '2.9.25', '1.4.1', '', undefined]) assert.equal(isSupportedServerVersion(v), false, String(v));
});
