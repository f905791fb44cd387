// Node's protections against slow, oversized and malformed callers hold on both sync paths: the
// express lane serves only what it fully understands and gives the rest to Node's server, so the
// same limits answer (431 for a large head, 408 for a slow head or body, keep-alive timeout,
// 400 at once for a bare-LF head), and a valid request pipelined before a malformed one is
// answered before the 400 and the close.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { withClient } from './support/raw-client.js';
import { startTestGateway, type TestGateway } from './support/start-gateway.js';

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 1500;
const KEEP_ALIVE_TIMEOUT_MS = 1000;
/** How long a request may take to arrive before the lane hands it to Node (express-lane.ts), plus its sweep. */
const LANE_ASSEMBLY_MS = 2000 + 1000;
const SLACK_MS = 1500;

/** Malformed second requests of a pipelined pair: every one is a 400 from llhttp. */
const MALFORMED: readonly [string, string][] = [
  ['bare-LF line ends', 'GET /function/echo HTTP/1.1\nHost: h\n\n'],
  ['two Content-Length fields', 'POST /function/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
  ['Content-Length with chunked', 'POST /function/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['obs-fold', 'GET /function/echo HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n'],
  ['space in a field name', 'GET /function/echo HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n'],
  ['NUL in a value', 'GET /function/echo HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n'],
  ['not a request line', 'HELLO\r\n\r\n'],
  ['Content-Length: +1', 'POST /function/echo HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\na'],
];

for (const isExpressLane of [true, false]) {
  const name = isExpressLane ? 'express lane' : 'full path';
  describe(`client limits (${name})`, () => {
    let t: TestGateway;
    let host: string;
    before(async () => {
      t = await startTestGateway({
        flags: { 'gateway.maxHeaderBytes': 8192, 'gateway.isExpressLane': isExpressLane },
        beforeStart: (gateway) => {
          const { server } = gateway;
          server.headersTimeout = HEADERS_TIMEOUT_MS;
          server.requestTimeout = REQUEST_TIMEOUT_MS;
          server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
          // How often Node checks the two timeouts above (read when the server starts listening).
          (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = 100;
        },
      });
      host = new URL(t.url).host;
    });
    after(async () => {
      await t.close();
    });

    for (const [label, bytes] of MALFORMED) {
      test(`client limits - ${name}: a valid request pipelined before one with ${label} is answered, then 400 and close`, async () => {
        await withClient(t.url, async (client) => {
          client.write(`GET /function/echo/first HTTP/1.1\r\nHost: ${host}\r\n\r\n${bytes}`);
          const first = await client.readReply();
          assert.equal(first.status, 200, 'the valid request is answered');
          const second = await client.readReply();
          assert.equal(second.status, 400);
          assert.equal(second.headers.get('connection')?.[0], 'close');
          await client.waitEnd();
        });
      });
    }

    test(`client limits - ${name}: a bare-LF request head is refused with 400 at once`, async () => {
      const started = Date.now();
      await withClient(t.url, async (client) => {
        client.write(`GET /function/echo HTTP/1.1\nHost: ${host}\nX-A: b\n`);
        const reply = await client.readReply({ timeoutMs: 1000 });
        assert.equal(reply.status, 400);
        await client.waitEnd();
      });
      assert.ok(Date.now() - started < 1000, 'refused without waiting for a timer');
    });

    test(`client limits - ${name}: a head over gateway.maxHeaderBytes is a 431 and a close`, async () => {
      await withClient(t.url, async (client) => {
        client.write(`GET /function/echo HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`);
        const reply = await client.readReply();
        assert.equal(reply.status, 431);
        await client.waitEnd();
      });
    });

    test(`client limits - ${name}: 150 header fields reach the function as on the other path`, async () => {
      const fields = Array.from({ length: 150 }, (_, i) => `X-F${i}: ${i}\r\n`).join('');
      await withClient(t.url, async (client) => {
        client.write(`GET /function/echo/meta HTTP/1.1\r\nHost: ${host}\r\n${fields}\r\n`);
        const reply = await client.readReply();
        assert.equal(reply.status, 200);
        const seen = JSON.parse(reply.body.toString()) as { headers: Record<string, string> };
        assert.equal(seen.headers['x-f149'], '149');
      });
    });

    test(`client limits - ${name}: a head that trickles in too slowly is a 408 (Node's headersTimeout)`, async () => {
      const started = Date.now();
      await withClient(t.url, async (client) => {
        client.write(`GET /function/echo HTTP/1.1\r\nHost: ${host}\r\n`);
        const reply = await client.readReply({ timeoutMs: HEADERS_TIMEOUT_MS + LANE_ASSEMBLY_MS + SLACK_MS });
        assert.equal(reply.status, 408);
        await client.waitEnd();
      });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= HEADERS_TIMEOUT_MS - 100, `not before the timeout (${elapsed} ms)`);
    });

    test(`client limits - ${name}: a body that never finishes is a 408 (Node's requestTimeout)`, async () => {
      await withClient(t.url, async (client) => {
        client.write(`POST /function/echo HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 10\r\n\r\nabc`);
        const reply = await client.readReply({ timeoutMs: REQUEST_TIMEOUT_MS + LANE_ASSEMBLY_MS + SLACK_MS });
        assert.equal(reply.status, 408);
        await client.waitEnd();
      });
    });

    test(`client limits - ${name}: an idle keep-alive connection is closed after the keep-alive timeout`, async () => {
      await withClient(t.url, async (client) => {
        client.write(`GET /function/echo HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
        assert.equal((await client.readReply()).status, 200);
        const idleFrom = Date.now();
        // The lane sweeps idle connections once a second.
        await client.waitEnd(KEEP_ALIVE_TIMEOUT_MS + 1000 + SLACK_MS);
        assert.ok(Date.now() - idleFrom >= KEEP_ALIVE_TIMEOUT_MS - 100, 'not before the timeout');
      });
    });
  });
}
