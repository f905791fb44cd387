import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCallIdGenerator } from '../../src/shared/http.js';

test('call ids - UUIDv7: version and variant bits, time-ordered across milliseconds, unique', async () => {
  const next = createCallIdGenerator();
  const ids = new Set<string>();
  const first = next();
  for (let i = 0; i < 10_000; i++) ids.add(next());
  assert.equal(ids.size, 10_000);
  for (const id of [first, ...[...ids].slice(0, 50)]) {
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
  const t0 = Date.now();
  while (Date.now() === t0) await new Promise((r) => setImmediate(r));
  const later = next();
  assert.ok(later.slice(0, 13) > first.slice(0, 13), 'a later millisecond sorts after an earlier one');
  const msOf = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
  assert.ok(Math.abs(msOf(later) - Date.now()) < 1000, 'the leading 48 bits are Unix milliseconds');
});
