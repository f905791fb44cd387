// QuietPool, the full path's connections to a function: one request per connection at a time, a
// connection reused only after it rested, oldest first, and bytes no request asked for reported
// (and the connection dropped by undici).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QuietPool, type StrayReason } from '../../src/provider/local/quiet-pool.js';
import { startRawFunction, type RawFunction } from '../gateway/support/raw-function.js';
import { waitFor } from '../support/wait-for.js';

const STRAY = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nSTRAY';

/** Long enough that a loaded machine still makes the next call well inside it. */
const QUIET_MS = 300;

function rest(): Promise<void> {
  // The quiet period is the condition under test: the wait is for time itself.
  return new Promise((resolve) => setTimeout(resolve, QUIET_MS * 1.5));
}

describe('quiet pool', () => {
  let fn: RawFunction;
  const owing: import('node:net').Socket[] = [];
  before(async () => {
    fn = await startRawFunction((req, socket) => {
      const body = `conn ${req.connection}`;
      if (req.target === '/extra') return void socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}${STRAY}`);
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      if (req.target === '/late') owing.push(socket);
    });
  });
  after(async () => {
    await fn.close();
  });

  async function get(pool: QuietPool, path = '/'): Promise<string> {
    const res = await pool.request({ path, method: 'GET' });
    return res.body.text();
  }

  test('quiet pool - a connection just released is not reused; one that rested is, oldest first', async () => {
    const pool = new QuietPool(fn.url, { connections: 8, quietMs: QUIET_MS });
    try {
      const first = await get(pool);
      const second = await get(pool);
      assert.notEqual(first, second, 'the second call came within the quiet period: a new connection');
      await rest();
      assert.equal(await get(pool), first, 'after resting, the oldest released connection serves the call');
    } finally {
      await pool.destroy();
    }
  });

  test('quiet pool - at the connection cap a call waits for a connection and takes it', async () => {
    const pool = new QuietPool(fn.url, { connections: 1, quietMs: QUIET_MS });
    try {
      const replies = await Promise.all([get(pool), get(pool), get(pool)]);
      assert.equal(new Set(replies).size, 1, 'all three went over the one connection');
    } finally {
      await pool.destroy();
    }
  });

  test('quiet pool - bytes on an idle connection and bytes past a reply are reported and the connection dropped', async () => {
    const seen: StrayReason[] = [];
    const pool = new QuietPool(fn.url, { connections: 4, quietMs: QUIET_MS, onStray: (reason) => seen.push(reason) });
    try {
      const late = await get(pool, '/late');
      for (const socket of owing.splice(0)) socket.write(STRAY);
      await waitFor(() => seen.includes('idle_bytes'), { message: 'idle bytes reported' });
      await rest();
      assert.notEqual(await get(pool), late, 'the connection that sent stray bytes is not used again');

      assert.match(await get(pool, '/extra'), /^conn \d+$/, 'the reply itself is delivered');
      await waitFor(() => seen.includes('extra_bytes'), { message: 'extra bytes reported' });
    } finally {
      await pool.destroy();
    }
  });

  test('quiet pool - a function that refuses connections fails the request instead of hanging', async () => {
    const gone = await startRawFunction(() => undefined);
    const url = gone.url;
    await gone.close();
    const pool = new QuietPool(url, { connections: 2, quietMs: QUIET_MS });
    try {
      await assert.rejects(pool.request({ path: '/', method: 'GET' }), (err: Error & { code?: string }) => err.code === 'ECONNREFUSED');
    } finally {
      await pool.destroy();
    }
  });
});
