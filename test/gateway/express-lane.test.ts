// The express lane at the socket level: what goes over the wire to the function and back, how
// keep-alive, pipelining and the hand-over to Node's server behave on one connection, how each
// reply framing a function may use comes through, and that failures and bad input stay contained.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { ANNOTATIONS } from '../../src/shared/annotations.js';
import type { EventBus } from '../../src/shared/events.js';
import { waitFor } from '../support/wait-for.js';
import { RawClient, withClient, type RawReply } from './support/raw-client.js';
import { startRawFunction, type RawFunction, type RawRequest } from './support/raw-function.js';
import { startTestGateway, type TestGateway } from './support/start-gateway.js';

interface Meta {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
}

/** 0..255 then 0xff repeated: every byte value, and a long run of the one latin1/UTF-8 trip hazard. */
const ALL_BYTES = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.alloc(4096, 0xff)]);

/** Reply bytes for /allbytes?n=N from the raw function: byte i is i % 251 (a prime, so runs do not line up with chunk sizes). */
function patternBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i += 1) out[i] = i % 251;
  return out;
}

/**
 * Which path served a call, told from what the function received: the lane writes no Connection
 * header to the function (HTTP/1.1 keeps alive by default), the Node path's http.Agent sends
 * `Connection: keep-alive`.
 */
function wasLane(seen: http.IncomingHttpHeaders | undefined): boolean {
  assert.ok(seen, 'the function saw the request');
  return seen.connection === undefined;
}

/** Runs `body` with the reasons of every hand-over the gateway reports meanwhile. */
async function withHandoffs<T>(events: EventBus, body: (reasons: string[]) => Promise<T>): Promise<T> {
  const reasons: string[] = [];
  const off = events.on('gateway.handoff', (e) => reasons.push(e.reason));
  try {
    return await body(reasons);
  } finally {
    off();
  }
}

function get(path: string, host: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`;
}

function one(reply: RawReply, name: string): string | undefined {
  return reply.headers.get(name)?.[0];
}

/** Answers by path; HEAD requests get the head only. */
function rawReplies(req: RawRequest, socket: net.Socket): void {
  const [path, query = ''] = req.target.split('?');
  const isHead = req.method === 'HEAD';
  switch (path) {
    case '/cl':
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n${isHead ? '' : 'hello'}`);
      return;
    case '/chunked':
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n');
      return;
    case '/close':
      socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nread until the close');
      return;
    case '/no-content':
      socket.write('HTTP/1.1 204 No Content\r\nX-Kind: none\r\n\r\n');
      return;
    case '/early':
      socket.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      return;
    case '/garbage':
      socket.write('hello\r\n\r\n');
      return;
    case '/hangup':
      socket.destroy();
      return;
    case '/allbytes': {
      const body = patternBytes(Number(new URLSearchParams(query).get('n') ?? '0'));
      socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'), body]));
      return;
    }
    default:
      socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  }
}

describe('express lane', () => {
  let t: TestGateway;
  let raw: RawFunction;
  let host: string;
  before(async () => {
    t = await startTestGateway();
    host = new URL(t.url).host;
    raw = await startRawFunction(rawReplies);
    t.provider.add('raw', raw.url);
  });
  after(async () => {
    await t.close();
    await raw.close();
  });

  test('express lane - each connection it gives to the full path is reported once, with why', async () => {
    await withHandoffs(t.events, async (reasons) => {
      const big = 'x'.repeat(70 * 1024);
      const cases: [string, string][] = [
        ['route', get('/system/info', host)],
        ['route', get('/function/nope', host)],
        // More fields than the lane's parser takes (100), fine for Node's.
        ['unparsed', get('/function/echo/meta', host, Array.from({ length: 101 }, (_, i) => `X-N${i}: ${i}\r\n`).join(''))],
        ['fields', `POST /function/echo/echo HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n`],
        ['fields', get('/function/echo/meta', host, 'X-Invoke-Mode: async\r\n')],
        ['body', `POST /function/echo/echo HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${big.length}\r\n\r\n${big}`],
      ];
      for (const [reason, bytes] of cases) {
        await withClient(t.url, async (client) => {
          client.write(bytes);
          const first = await client.readReply();
          assert.ok(first.status > 0, `${reason}: replied ${first.status}`);
          // The full path keeps the connection: a second request on it is not counted again.
          client.write(get('/function/echo/meta', host));
          assert.equal((await client.readReply()).status, 200, `${reason}: ${bytes.slice(0, 40)}`);
        });
        assert.deepEqual(reasons, [reason], bytes.slice(0, 60));
        reasons.length = 0;
      }
      await withClient(t.url, async (client) => {
        client.write(get('/function/echo/meta', host));
        assert.equal((await client.readReply()).status, 200);
      });
      assert.deepEqual(reasons, [], 'a call the lane serves is no hand-off');
    });
  });

  test('express lane - a request split over several reads (as over a real network) is put together and served on the lane', async () => {
    await withHandoffs(t.events, async (reasons) => {
      const body = 'b'.repeat(20_000);
      const bytes = `POST /function/echo/echo HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      // Three pieces: inside the head, inside the body, the rest. The pause makes them separate reads.
      const cuts = [20, 10_000, bytes.length];
      await withClient(t.url, async (client) => {
        let from = 0;
        for (const cut of cuts) {
          client.write(bytes.slice(from, cut));
          from = cut;
          if (cut < bytes.length) await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const reply = await client.readReply();
        assert.equal(reply.status, 200);
        assert.equal(reply.body.toString(), body);
        assert.equal(wasLane(t.fn.seen.at(-1)?.headers), true, 'served on the lane');
      });
      assert.deepEqual(reasons, [], 'no hand-over');
    });
  });

  test('express lane - a request that stalls half-sent goes to Node\'s server, which serves it when the rest comes', async () => {
    await withHandoffs(t.events, async (reasons) => {
      await withClient(t.url, async (client) => {
        client.write(`GET /function/echo/meta HTTP/1.1\r\nHost: ${host}\r\n`);
        await waitFor(() => reasons.length > 0, { timeoutMs: 5000, message: 'the stalled request handed over' });
        assert.deepEqual(reasons, ['incomplete']);
        client.write('X-Late: yes\r\n\r\n');
        const reply = await client.readReply();
        assert.equal(reply.status, 200);
        assert.equal(wasLane(t.fn.seen.at(-1)?.headers), false, 'served by the full path');
        assert.equal(t.fn.seen.at(-1)?.headers['x-late'], 'yes');
      });
    });
  });

  test('express lane - reply and function get the call headers, hop-by-hop fields stay behind', async () => {
    await withClient(t.url, async (client) => {
      client.write(get('/function/echo/meta', host, 'Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\nX-Kept: yes\r\n'));
      const reply = await client.readReply();
      assert.equal(reply.status, 200);
      const callId = one(reply, 'x-call-id');
      assert.match(callId ?? '', /^[0-9a-f-]{36}$/);
      assert.match(one(reply, 'x-start-time') ?? '', /^\d{19}$/);
      assert.match(one(reply, 'x-duration-seconds') ?? '', /^\d+\.\d+$/);
      assert.ok(one(reply, 'date'), 'Date header');
      const seen = JSON.parse(reply.body.toString('utf8')) as Meta;
      assert.ok(wasLane(t.fn.seen.at(-1)?.headers), 'served on the lane');
      assert.equal(seen.headers.host, new URL(t.fn.url).host);
      assert.equal(seen.headers['x-call-id'], callId);
      assert.equal(seen.headers['x-start-time'], one(reply, 'x-start-time'));
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen.headers['x-forwarded-host'], host);
      assert.equal(seen.headers['x-kept'], 'yes');
      for (const name of ['connection', 'keep-alive', 'te', 'proxy-authorization']) assert.equal(seen.headers[name], undefined, name);

      // The caller's own call id is kept, on the reply and at the function.
      client.write(get('/function/echo/meta', host, 'X-Call-Id: caller-chosen-1\r\n'));
      const kept = await client.readReply();
      assert.equal(one(kept, 'x-call-id'), 'caller-chosen-1');
      assert.equal((JSON.parse(kept.body.toString('utf8')) as Meta).headers['x-call-id'], 'caller-chosen-1');
    });
  });

  test('express lane - a header named in Connection is dropped on the lane and on the Node path alike', async () => {
    // `Connection: close, x-secret` names a field, so the lane hands the request to Node.
    await withClient(t.url, async (viaNode) => {
      viaNode.write(get('/function/echo/meta', host, 'Connection: close, x-secret\r\nX-Secret: s3cret\r\nX-Kept: yes\r\n'));
      const reply = await viaNode.readReply();
      assert.equal(reply.status, 200);
      assert.equal(wasLane(t.fn.seen.at(-1)?.headers), false, 'served by Node');
      const seen = JSON.parse(reply.body.toString('utf8')) as Meta;
      assert.equal(seen.headers['x-secret'], undefined);
      assert.equal(seen.headers['x-kept'], 'yes');
      await viaNode.waitEnd();
    });
    // Connection fields naming only close/keep-alive stay on the lane (which cannot see a named field
    // at all): the Connection fields themselves are not forwarded, an unnamed X-Secret is.
    await withClient(t.url, async (viaLane) => {
      viaLane.write(get('/function/echo/meta', host, 'Connection: close\r\nConnection: keep-alive\r\nX-Secret: s3cret\r\nX-Kept: yes\r\n'));
      const reply = await viaLane.readReply();
      assert.equal(reply.status, 200);
      assert.ok(wasLane(t.fn.seen.at(-1)?.headers), 'served on the lane');
      const seen = JSON.parse(reply.body.toString('utf8')) as Meta;
      assert.equal(seen.headers['x-kept'], 'yes');
      assert.equal(seen.headers['x-secret'], 's3cret');
      assert.equal(seen.headers.connection, undefined);
      assert.equal(one(reply, 'connection'), 'close');
      await viaLane.waitEnd();
    });
  });

  test('express lane - every byte value round-trips through /echo, and reply bytes arrive as sent', async () => {
    await withClient(t.url, async (client) => {
      client.write(Buffer.concat([
        Buffer.from(`POST /function/echo/echo HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${ALL_BYTES.length}\r\n\r\n`, 'latin1'),
        ALL_BYTES,
      ]));
      const echoed = await client.readReply();
      assert.equal(echoed.status, 200);
      assert.ok(wasLane(t.fn.seen.at(-1)?.headers), 'served on the lane');
      assert.ok(echoed.body.equals(ALL_BYTES), 'echoed body unchanged');

      client.write(get('/function/echo/bytes?n=65536', host));
      const bytes = await client.readReply();
      assert.equal(bytes.status, 200);
      assert.ok(bytes.body.equals(Buffer.alloc(65536, 'x')), '/bytes body unchanged');

      // Reply bodies with every byte value, small (sent with the head) and large (sent apart).
      for (const n of [1000, 200_000]) {
        client.write(get(`/function/raw/allbytes?n=${n}`, host));
        const reply = await client.readReply();
        assert.equal(reply.status, 200);
        assert.ok(reply.body.equals(patternBytes(n)), `raw reply of ${n} bytes unchanged`);
      }
    });
  });

  test('express lane - pipelined requests are answered in order, then a chunked one is handed to Node', async () => {
    await withClient(t.url, async (client) => {
      const before = t.fn.seen.length;
      client.write([1, 2, 3].map((i) => get(`/function/echo/meta?i=${i}`, host)).join(''));
      for (const i of [1, 2, 3]) {
        const reply = await client.readReply();
        assert.equal(reply.status, 200);
        assert.equal((JSON.parse(reply.body.toString('utf8')) as Meta).query, `i=${i}`);
      }
      assert.ok(t.fn.seen.slice(before).every((s) => wasLane(s.headers)), 'the three went on the lane');

      client.write(`POST /function/echo/echo HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n`);
      const chunked = await client.readReply();
      assert.equal(chunked.status, 200);
      assert.equal(chunked.body.toString('latin1'), 'abcdefg');
      assert.equal(wasLane(t.fn.seen.at(-1)?.headers), false, 'the chunked one went to Node');

      client.write(get('/function/echo/meta?i=5', host));
      const fifth = await client.readReply();
      assert.equal(fifth.status, 200);
      assert.equal((JSON.parse(fifth.body.toString('utf8')) as Meta).query, 'i=5');
      assert.equal(client.hasEnded, false);
    });
  });

  test('express lane - a hand-over in the middle of one pipelined write keeps every request', async () => {
    await withClient(t.url, async (client) => {
      client.write(
        get('/function/echo/meta?i=1', host)
        + `POST /function/echo/echo HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n`
        + get('/function/echo/meta?i=3', host)
        + get('/system/info', host),
      );
      const first = await client.readReply();
      assert.equal((JSON.parse(first.body.toString('utf8')) as Meta).query, 'i=1');
      const second = await client.readReply();
      assert.equal(second.body.toString('latin1'), 'xy');
      const third = await client.readReply();
      assert.equal((JSON.parse(third.body.toString('utf8')) as Meta).query, 'i=3');
      const fourth = await client.readReply();
      assert.notEqual(fourth.status, 0);
      assert.equal(client.unread.length, 0, 'no stray bytes after the fourth reply');
    });
  });

  test('express lane - Content-Length, chunked with trailer, 204, HEAD and 103 replies keep the connection usable', async () => {
    await withClient(t.url, async (client) => {
      client.write(get('/function/raw/cl', host));
      const cl = await client.readReply();
      assert.equal(cl.status, 200);
      assert.equal(cl.body.toString(), 'hello');
      assert.ok(one(cl, 'x-call-id'));

      client.write(get('/function/raw/chunked', host));
      const chunked = await client.readReply();
      assert.equal(chunked.status, 200);
      assert.equal(chunked.body.toString(), 'hello world');
      assert.deepEqual(chunked.trailers.get('x-sum'), ['42']);

      client.write(get('/function/raw/no-content', host));
      const empty = await client.readReply();
      assert.equal(empty.status, 204);
      assert.equal(one(empty, 'x-kind'), 'none');

      client.write(`HEAD /function/raw/cl HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      const head = await client.readReply({ isHeadRequest: true });
      assert.equal(head.status, 200);
      assert.equal(one(head, 'content-length'), '5');

      client.write(get('/function/raw/early', host));
      const early = await client.readReply();
      assert.equal(early.status, 200);
      assert.deepEqual(early.interim, [], 'the 103 is not forwarded');
      assert.equal(early.body.toString(), 'ok');

      client.write(get('/function/raw/cl', host));
      const last = await client.readReply();
      assert.equal(last.body.toString(), 'hello');
      assert.equal(client.unread.length, 0, 'nothing after the last reply');
      assert.equal(client.hasEnded, false);
      assert.ok(raw.requests.every((r) => r.headers.connection === undefined), 'all served on the lane');
    });
  });

  test('express lane - a close-delimited reply reaches the caller whole, with Connection: close', async () => {
    await withClient(t.url, async (client) => {
      client.write(get('/function/raw/close', host));
      const reply = await client.readReply();
      assert.equal(reply.status, 200);
      assert.equal(one(reply, 'connection'), 'close');
      assert.equal(reply.body.toString(), 'read until the close');
      await client.waitEnd();
    });
  });

  test('express lane - garbage or a hang-up from the function is a 502 and the connection stays usable', async () => {
    await withClient(t.url, async (client) => {
      client.write(get('/function/raw/garbage', host));
      const garbage = await client.readReply();
      assert.equal(garbage.status, 502);
      assert.ok(one(garbage, 'x-call-id'));

      client.write(get('/function/raw/hangup', host));
      const hangup = await client.readReply();
      assert.equal(hangup.status, 502);
      assert.ok(one(hangup, 'x-call-id'));

      client.write(get('/function/raw/cl', host));
      const next = await client.readReply();
      assert.equal(next.status, 200);
      assert.equal(next.body.toString(), 'hello');
    });
  });

  /** Sends a slow call on the lane, lets the client leave with `leave`, and expects the function's request to end early. */
  async function leaveMidCall(leave: (client: RawClient) => void): Promise<void> {
    const client = await RawClient.connect(t.url);
    try {
      client.write(get('/function/echo/slow?ms=3000', host));
      await waitFor(() => t.fn.inflight() === 1, { message: 'the slow call to start' });
      assert.ok(wasLane(t.fn.seen.at(-1)?.headers), 'served on the lane');
      leave(client);
      // Well before the function would finish on its own (the Node path takes ~20 ms here).
      await waitFor(() => t.fn.inflight() === 0, { timeoutMs: 1500, message: 'the function connection to close' });
    } finally {
      client.close();
      // A failed run leaves the slow call running: wait it out so the next test starts clean.
      await waitFor(() => t.fn.inflight() === 0, { timeoutMs: 4000, message: 'the slow call to end' });
    }
    const res = await request(`${t.url}/function/echo/meta`);
    assert.equal(res.statusCode, 200);
    await res.body.dump();
  }

  test('express lane - a client resetting its connection mid-call closes the call to the function', async () => {
    await leaveMidCall((client) => client.socket.resetAndDestroy());
  });

  test('express lane - a client closing its connection mid-call closes the call to the function', async () => {
    await leaveMidCall((client) => client.socket.destroy());
  });

  test('express lane - a 16 MiB reply read slowly arrives complete and unchanged, and the lane holds little of it', async () => {
    const total = 16 * 1024 * 1024;
    const stepBytes = 1024 * 1024;
    // The gateway's side of the caller connection: its write buffer shows what the lane holds back.
    const accepted: net.Socket[] = [];
    const onConnection = (socket: net.Socket): void => void accepted.push(socket);
    t.gateway.server.on('connection', onConnection);
    const client = net.connect(Number(new URL(t.url).port), '127.0.0.1');
    client.pause();
    const hash = createHash('sha256');
    let head = '';
    let bodyBytes = 0;
    let stepLeft = 0;
    client.on('data', (chunk: Buffer) => {
      let body = chunk;
      if (!head.endsWith('\r\n\r\n')) {
        // Heads are small: the whole head is in the first chunk.
        const at = chunk.indexOf('\r\n\r\n');
        assert.notEqual(at, -1, 'the reply head arrives in one piece');
        head = chunk.toString('latin1', 0, at + 4);
        body = chunk.subarray(at + 4);
      }
      hash.update(body);
      bodyBytes += body.length;
      stepLeft -= chunk.length;
      if (stepLeft <= 0) client.pause();
    });
    try {
      await waitFor(() => accepted.length === 1, { message: 'the gateway to accept' });
      t.gateway.server.off('connection', onConnection);
      const gatewaySide = accepted[0];
      client.write(get(`/function/echo/bytes?n=${total}`, host));
      let steps = 0;
      let maxHeld = 0;
      while (bodyBytes < total) {
        if (++steps > total / stepBytes + 10) throw new Error(`too many steps (${bodyBytes} of ${total} bytes)`);
        // The reader is the slow one: wait until the gateway has bytes it cannot send (or has sent them all).
        await waitFor(() => gatewaySide.writableLength > 0 || gatewaySide.bytesWritten >= total, { message: 'the gateway to wait on the reader' });
        maxHeld = Math.max(maxHeld, gatewaySide.writableLength);
        const before = bodyBytes;
        stepLeft = stepBytes;
        client.resume();
        await waitFor(() => bodyBytes >= Math.min(total, before + 1) && (client.isPaused() || bodyBytes >= total), { message: 'a step of reading' });
      }
      assert.match(head, /^HTTP\/1\.1 200 /);
      assert.match(head, /\r\ncontent-length: 16777216\r\n/i);
      assert.equal(bodyBytes, total);
      assert.equal(hash.digest('hex'), createHash('sha256').update(Buffer.alloc(total, 'x')).digest('hex'));
      assert.ok(steps >= 4, `read in ${steps} steps`);
      assert.ok(maxHeld < 2 * 1024 * 1024, `the gateway held at most ${maxHeld} bytes for the slow reader`);
    } finally {
      t.gateway.server.off('connection', onConnection);
      client.destroy();
    }
  });

  test('express lane - a concurrency limit of 1 makes a second call wait on the lane for the slot', async () => {
    t.provider.add('limited', t.fn.url, { [ANNOTATIONS.concurrency.name]: '1' });
    const before = t.fn.seen.length;
    await withHandoffs(t.events, async (reasons) => {
      const startedAt = performance.now();
      const call = async (): Promise<number> => {
        const res = await request(`${t.url}/function/limited/slow?ms=300`);
        await res.body.dump();
        return res.statusCode;
      };
      const statuses = await Promise.all([call(), call()]);
      const elapsedMs = performance.now() - startedAt;
      assert.deepEqual(statuses, [200, 200]);
      assert.ok(elapsedMs >= 580, `one ran after the other (${Math.round(elapsedMs)} ms)`);
      const paths = t.fn.seen.slice(before).map((s) => (wasLane(s.headers) ? 'lane' : 'node'));
      assert.deepEqual(paths, ['lane', 'lane']);
      assert.deepEqual(reasons, [], 'no connection left the lane');
    });
  });

  test('express lane - a caller that leaves while waiting for the slot gives up its place, and the next call gets the slot', async () => {
    t.provider.add('single', t.fn.url, { [ANNOTATIONS.concurrency.name]: '1' });
    const limiterOf = (): { active: number; waiting: number } | undefined => t.gateway.admissionStats().find((a) => a.fn === 'single');
    const running = request(`${t.url}/function/single/slow?ms=400`);
    await waitFor(() => limiterOf()?.active === 1, { message: 'the first call holds the slot' });
    const leaver = await RawClient.connect(t.url);
    leaver.write(get('/function/single/meta', host));
    await waitFor(() => limiterOf()?.waiting === 1, { message: 'the second call waits for the slot' });
    leaver.socket.destroy();
    await waitFor(() => limiterOf()?.waiting === 0, { message: 'the leaver gave up its place' });
    const first = await running;
    assert.equal(first.statusCode, 200);
    await first.body.dump();
    await waitFor(() => limiterOf()?.active === 0, { message: 'the slot is free' });
    const next = await request(`${t.url}/function/single/meta`);
    assert.equal(next.statusCode, 200);
    await next.body.dump();
    assert.equal(limiterOf()?.active, 0);
  });

  test('express lane - bad input gets Node\'s 400 and never reaches the function', async () => {
    const cases = {
      'two Content-Length fields': `POST /function/echo/meta HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab`,
      'Content-Length with Transfer-Encoding': `POST /function/echo/meta HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      'a bare LF line ending': `GET /function/echo/meta HTTP/1.1\r\nHost: ${host}\nX-A: 1\r\n\r\n`,
      'an obs-fold field': `GET /function/echo/meta HTTP/1.1\r\nHost: ${host}\r\nX-A: 1\r\n  continued\r\n\r\n`,
      'no Host field': 'GET /function/echo/meta HTTP/1.1\r\nX-A: 1\r\n\r\n',
    };
    for (const [what, bytes] of Object.entries(cases)) {
      const before = t.fn.seen.length;
      await withClient(t.url, async (client) => {
        client.write(bytes);
        const reply = await client.readReply();
        assert.equal(reply.status, 400, what);
        assert.equal(one(reply, 'x-call-id'), undefined, `${what}: the gateway's own parser answered, not a function`);
        await client.waitEnd();
        assert.equal(t.fn.seen.length, before, `${what}: nothing reached the function`);
      });
    }
  });
});

/** gateway.upstreamQuietMs for the function-connection tests: long enough that a loaded machine still makes the next call inside it. */
const QUIET_MS = 200;

/** Lets a released function connection rest past the quiet period, so the next call reuses it. */
function restPastQuiet(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, QUIET_MS * 1.5));
}

describe('express lane - function connections', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({ flags: { 'gateway.upstreamQuietMs': `${QUIET_MS}ms` } });
  });
  after(async () => {
    await t.close();
  });

  test('express lane - a function that closes its idle connection after a reply is called on a new one', async () => {
    const fn = await startRawFunction((req, socket) => {
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nconn ${String(req.connection).padStart(3, '0')}`);
    });
    t.provider.add('closer', fn.url);
    try {
      await withClient(t.url, async (client) => {
        const host = new URL(t.url).host;
        client.write(get('/function/closer', host));
        assert.equal((await client.readReply()).body.toString(), 'conn 001');
        client.write(get('/function/closer', host));
        const second = await client.readReply();
        assert.equal(second.status, 200);
        assert.equal(second.body.toString(), 'conn 002');
      });
    } finally {
      await fn.close();
    }
  });

  test('express lane - a function connection rests gateway.upstreamQuietMs before another call may take it', async () => {
    const fn = await startRawFunction((req, socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nconn ${String(req.connection).padStart(3, '0')}`);
    });
    t.provider.add('rester', fn.url);
    try {
      await withClient(t.url, async (client) => {
        const host = new URL(t.url).host;
        client.write(get('/function/rester', host));
        assert.equal((await client.readReply()).body.toString(), 'conn 001');
        client.write(get('/function/rester', host));
        assert.equal((await client.readReply()).body.toString(), 'conn 002', 'released just now: a new connection');
        await restPastQuiet();
        client.write(get('/function/rester', host));
        assert.equal((await client.readReply()).body.toString(), 'conn 001', 'rested: the oldest released one');
      });
    } finally {
      await fn.close();
    }
  });

  test('express lane - an idle connection that dies as a GET takes it is retried once, a POST is not', async () => {
    // Serves one request per connection; a second one on the same connection finds it closed.
    const fn = await startRawFunction((req, socket) => {
      if (req.indexOnConnection > 1) return void socket.destroy();
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nconn ${String(req.connection).padStart(3, '0')}`);
    });
    t.provider.add('racer', fn.url);
    try {
      await withClient(t.url, async (client) => {
        const host = new URL(t.url).host;
        client.write(get('/function/racer', host));
        assert.equal((await client.readReply()).body.toString(), 'conn 001');
        // A connection is reused only once it has rested REUSE_QUIET_MS: the time itself is the condition.
        await restPastQuiet();
        client.write(get('/function/racer', host));
        const retried = await client.readReply();
        assert.equal(retried.status, 200);
        assert.equal(retried.body.toString(), 'conn 002');
        await restPastQuiet();
        client.write(`POST /function/racer HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1\r\n\r\nx`);
        const post = await client.readReply();
        assert.equal(post.status, 502);
        assert.equal(fn.requests.filter((r) => r.method === 'POST').length, 1, 'the POST was sent once');
      });
    } finally {
      await fn.close();
    }
  });
});

describe('express lane - gateway settings', () => {
  test('express lane - a function slower than gateway.upstreamTimeoutMs gets a quick 504, the connection stays usable', async () => {
    const t = await startTestGateway({ flags: { 'gateway.upstreamTimeoutMs': '300ms' } });
    const client = await RawClient.connect(t.url);
    try {
      const host = new URL(t.url).host;
      const startedAt = performance.now();
      client.write(get('/function/echo/slow?ms=2000', host));
      const reply = await client.readReply();
      const elapsedMs = performance.now() - startedAt;
      assert.equal(reply.status, 504);
      assert.ok(one(reply, 'x-call-id'));
      assert.ok(elapsedMs < 1500, `504 after ${Math.round(elapsedMs)} ms`);
      assert.ok(wasLane(t.fn.seen.at(-1)?.headers), 'served on the lane');
      client.write(get('/function/echo/meta', host));
      const next = await client.readReply();
      assert.equal(next.status, 200);
    } finally {
      client.close();
      await t.close();
    }
  });

  test('express lane - draining lets a running call finish with Connection: close', async () => {
    const t = await startTestGateway();
    const client = await RawClient.connect(t.url);
    try {
      client.write(get('/function/echo/slow?ms=500', new URL(t.url).host));
      await waitFor(() => t.fn.inflight() === 1, { message: 'the slow call to start' });
      assert.ok(wasLane(t.fn.seen.at(-1)?.headers), 'served on the lane');
      const closing = t.gateway.close();
      const reply = await client.readReply();
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), 'done');
      assert.equal(one(reply, 'connection'), 'close');
      await client.waitEnd();
      await closing;
    } finally {
      client.close();
      await t.close();
    }
  });

  test('express lane - a full concurrency limit with no room to wait is a 429 answered on the lane', async () => {
    const t = await startTestGateway({ flags: { 'gateway.maxWaiting': 0 } });
    try {
      await withHandoffs(t.events, async (reasons) => {
        t.provider.add('one', t.fn.url, { [ANNOTATIONS.concurrency.name]: '1' });
        const running = request(`${t.url}/function/one/slow?ms=300`);
        await waitFor(() => t.gateway.admissionStats().find((a) => a.fn === 'one')?.active === 1, { message: 'the slot taken' });
        await withClient(t.url, async (client) => {
          client.write(get('/function/one/meta', new URL(t.url).host));
          const reply = await client.readReply();
          assert.equal(reply.status, 429);
          assert.ok(one(reply, 'retry-after'), 'Retry-After');
          assert.ok(one(reply, 'x-call-id'), 'X-Call-Id');
        });
        assert.deepEqual(reasons, [], 'answered on the lane');
        const first = await running;
        assert.equal(first.statusCode, 200);
        await first.body.dump();
      });
    } finally {
      await t.close();
    }
  });

  test('express lane - with gateway.isExpressLane off a call goes the Node path with the same call headers', async () => {
    const t = await startTestGateway({ flags: { 'gateway.isExpressLane': false } });
    try {
      const res = await request(`${t.url}/function/echo/meta`, { headers: { 'x-kept': 'yes' } });
      assert.equal(res.statusCode, 200);
      const seen = (await res.body.json()) as Meta;
      assert.equal(wasLane(t.fn.seen.at(-1)?.headers), false, 'served by Node');
      assert.match(String(res.headers['x-call-id']), /^[0-9a-f-]{36}$/);
      assert.match(String(res.headers['x-start-time']), /^\d{19}$/);
      assert.ok(res.headers.date);
      assert.equal(seen.headers['x-call-id'], res.headers['x-call-id']);
      assert.equal(seen.headers['x-kept'], 'yes');
      assert.equal(seen.headers['x-forwarded-host'], new URL(t.url).host);
    } finally {
      await t.close();
    }
  });

  test('express lane - with invoke auth on, the lane serves calls with the right credentials and leaves the rest to the 401', async () => {
    const t = await startTestGateway({ flags: { 'auth.isInvokeAuth': true } });
    try {
      const host = new URL(t.url).host;
      const wrong = 'Basic ' + Buffer.from('admin:wrong').toString('base64');
      for (const [what, extra] of [['no credentials', ''], ['a wrong password', `Authorization: ${wrong}\r\n`]]) {
        await withClient(t.url, async (client) => {
          client.write(get('/function/echo/meta', host, extra));
          const reply = await client.readReply();
          assert.equal(reply.status, 401, what);
          assert.equal(one(reply, 'www-authenticate'), 'Basic realm="Restricted"', what);
        });
      }
      assert.equal(t.fn.seen.length, 0, 'nothing reached the function');
      await withClient(t.url, async (client) => {
        client.write(get('/function/echo/meta', host, `Authorization: ${t.auth}\r\n`));
        const reply = await client.readReply();
        assert.equal(reply.status, 200);
        assert.equal(wasLane(t.fn.seen.at(-1)?.headers), true, 'served on the lane');
        assert.equal(t.fn.seen.at(-1)?.headers.authorization, undefined, 'faasq\'s credentials stop at the gateway, as on the full path');
      });
    } finally {
      await t.close();
    }
  });
});
