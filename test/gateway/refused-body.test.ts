// A body refused with 413 while the caller is still sending it: the caller must read its answer,
// with `Connection: close` too (the gateway half-closes and reads on instead of closing with unread
// bytes, which makes the kernel send a reset), on the express lane's and Node's connections, for
// sync and async calls, declared and chunked; keep-alive connections stay usable; and the reading
// on is bounded (LINGER_MAX_BYTES, LINGER_MS) so a stranger cannot hold the socket.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { LINGER_MAX_BYTES, LINGER_MS } from '../../src/gateway/linger-after-refusal.js';
import { createMemoryQueue, queueOptionsFrom, type Queue } from '../../src/queue/index.js';
import { silentLogger } from '../../src/shared/logger.js';
import { RawClient } from './support/raw-client.js';
import { startTestGateway, type TestGateway } from './support/start-gateway.js';

const MAX_BODY = 64 * 1024;
const DECLARED = 200 * 1024 * 1024;
/** What the caller sends before it reads anything: far more than the socket buffers, well under LINGER_MAX_BYTES. */
const SENT_BEFORE_READING = 8 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 97);

type Framing = 'length' | 'chunked';

function requestHead(path: string, framing: Framing, isClose: boolean): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n`
    + (framing === 'length' ? `Content-Length: ${DECLARED}\r\n` : 'Transfer-Encoding: chunked\r\n')
    + (isClose ? 'Connection: close\r\n' : '') + '\r\n';
}

function bodyChunk(framing: Framing): Buffer {
  return framing === 'length' ? CHUNK : Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')]);
}

/** A caller that streams a body it never finishes, up to `maxBytes`; it stops early when the socket fails or `isStopped` says so. */
class Uploader {
  sent = 0;
  error: NodeJS.ErrnoException | undefined;
  isClosed = false;
  readonly socket: net.Socket;
  private wake: (() => void) | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.error ??= err;
      this.wake?.();
    });
    socket.on('close', () => {
      this.isClosed = true;
      this.wake?.();
    });
    socket.on('drain', () => this.wake?.());
  }

  static connect(url: string): Promise<Uploader> {
    const { port } = new URL(url);
    return new Promise((resolve, reject) => {
      // Half-open allowed: the gateway's FIN does not end the caller's side, only the caller does.
      const socket = net.connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true }, () => {
        socket.off('error', reject);
        resolve(new Uploader(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Writes `chunk` until `maxBytes` are sent (with backpressure), the socket fails, or `isStopped()`. */
  async stream(chunk: Buffer, maxBytes: number, isStopped: () => boolean = () => false): Promise<void> {
    while (this.sent < maxBytes && !this.error && !this.isClosed && !isStopped()) {
      this.sent += chunk.length;
      if (!this.socket.write(chunk)) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
      }
    }
  }

  /** A busy caller: sends the head and SENT_BEFORE_READING bytes of body before it reads anything; the upload must not fail. */
  async sendBeforeReading(head: string, chunk: Buffer): Promise<void> {
    this.socket.pause();
    this.socket.write(head);
    await this.stream(chunk, SENT_BEFORE_READING);
    assert.equal(this.error, undefined, `the upload failed after ${this.sent} bytes: ${this.error?.code}`);
  }

  /** Having read its answer, the caller stops and ends; the gateway must close its side cleanly, without a reset. */
  async endAndCloseCleanly(): Promise<void> {
    this.socket.end();
    this.socket.resume();
    await this.closed(LINGER_MS + 3000);
    assert.equal(this.error, undefined, `the connection was reset: ${String(this.error?.code)}`);
  }

  /** Resolves once the socket has closed (or failed). */
  async closed(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isClosed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the connection did not close within ${timeoutMs}ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}

/** Reads one reply head + Content-Length body from bytes already buffered on `socket` and arriving. */
async function readReply(socket: net.Socket, timeoutMs: number): Promise<{ status: number; head: string; body: string }> {
  const deadline = Date.now() + timeoutMs;
  let buf = Buffer.alloc(0);
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n');
    if (headEnd !== -1) {
      const head = buf.toString('latin1', 0, headEnd);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 'NaN');
      if (buf.length >= headEnd + 4 + length) return { status: Number(head.slice(9, 12)), head, body: buf.toString('utf8', headEnd + 4, headEnd + 4 + length) };
    }
    const chunk = socket.read() as Buffer | null;
    if (chunk) {
      buf = Buffer.concat([buf, chunk]);
      continue;
    }
    if (socket.destroyed) throw new Error(`the connection failed before a whole reply arrived (got ${JSON.stringify(buf.toString('latin1', 0, 40))})`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('no whole reply in time');
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        socket.off('readable', done);
        socket.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, left);
      socket.once('readable', done);
      socket.once('close', done);
    });
  }
}

describe('refused bodies', () => {
  let queue: Queue;
  const gateways: Record<'express' | 'full', TestGateway | undefined> = { express: undefined, full: undefined };

  before(async () => {
    queue = createMemoryQueue(queueOptionsFrom(loadConfig({ env: {}, flags: { 'queue.url': 'memory' } })), silentLogger());
    await queue.start();
    for (const lane of ['express', 'full'] as const) {
      gateways[lane] = await startTestGateway({ queue, flags: { 'gateway.isExpressLane': lane === 'express', 'gateway.maxBodyBytes': String(MAX_BODY), 'gateway.maxAsyncBodyBytes': String(MAX_BODY) } });
    }
  });
  after(async () => {
    for (const g of Object.values(gateways)) await g?.close();
    await queue?.close();
  });

  // The sync function answers only after 5 s, so a chunked body's 413 comes before any reply of its.
  const paths = { sync: '/function/echo/slow?ms=5000', async: '/async-function/echo' };
  for (const lane of ['express', 'full'] as const) {
    for (const kind of ['sync', 'async'] as const) {
      for (const framing of ['length', 'chunked'] as const) {
        test(`refused bodies - ${lane} ${kind} ${framing}: with Connection: close the caller reads its 413 and the connection ends without a reset`, async () => {
          const up = await Uploader.connect(gateways[lane]!.url);
          try {
            // A caller that is busy sending reads its answer only later, as many HTTP clients do.
            await up.sendBeforeReading(requestHead(paths[kind], framing, true), bodyChunk(framing));
            const reply = await readReply(up.socket, 5000);
            assert.equal(reply.status, 413);
            assert.match(reply.head, /\r\nconnection: close/i);
            assert.equal((JSON.parse(reply.body) as { error: string }).error, 'E_BODY_TOO_LARGE');
            await up.endAndCloseCleanly();
          } finally {
            up.socket.destroy();
          }
        });
      }

      for (const framing of ['length', 'chunked'] as const) {
        test(`refused bodies - ${lane} ${kind} ${framing}: on a keep-alive connection a refused body that ends in time leaves the connection usable`, async () => {
          const client = await RawClient.connect(gateways[lane]!.url);
          try {
            const chunks = 32; // 2 MiB
            client.write(`POST ${kind === 'sync' ? '/function/echo/slow?ms=5000' : paths.async} HTTP/1.1\r\nHost: 127.0.0.1\r\n`
              + (framing === 'length' ? `Content-Length: ${chunks * CHUNK.length}` : 'Transfer-Encoding: chunked') + '\r\n\r\n');
            for (let i = 0; i < chunks; i += 1) client.write(bodyChunk(framing));
            if (framing === 'chunked') client.write('0\r\n\r\n');
            const refused = await client.readReply();
            assert.equal(refused.status, 413);
            assert.equal(refused.headers.get('connection')?.[0]?.toLowerCase(), 'keep-alive');
            client.write('POST /function/echo/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello');
            const next = await client.readReply();
            assert.equal(next.status, 200);
            assert.equal(next.body.toString(), 'hello');
          } finally {
            client.close();
          }
        });
      }
    }
  }

  for (const [what, path, status] of [['an unknown function', '/function/nope', 404], ['an async call to an unknown function', '/async-function/nope', 404]] as const) {
    test(`refused bodies - any refusal before the body is read (${what}, ${status}) closes without a reset too`, async () => {
      const up = await Uploader.connect(gateways.full!.url);
      try {
        // Chunked: a declared length over FAASQ_MAX_BODY would be refused with 413 first.
        await up.sendBeforeReading(requestHead(path, 'chunked', true), bodyChunk('chunked'));
        assert.equal((await readReply(up.socket, 5000)).status, status);
        await up.endAndCloseCleanly();
      } finally {
        up.socket.destroy();
      }
    });
  }

  test(`refused bodies - a caller that never stops sending is cut after LINGER_MAX_BYTES (${LINGER_MAX_BYTES} bytes), with or without Connection: close`, async () => {
    for (const isClose of [true, false]) {
      const up = await Uploader.connect(gateways.full!.url);
      try {
        up.socket.resume();
        up.socket.write(requestHead(paths.async, 'length', isClose));
        await up.stream(CHUNK, DECLARED);
        await up.closed(5000);
        // What the caller got into the socket buffers on both sides comes on top of the bound.
        assert.ok(up.sent < LINGER_MAX_BYTES + 16 * 1024 * 1024, `cut after ${up.sent} bytes (isClose ${isClose})`);
      } finally {
        up.socket.destroy();
      }
    }
  });

  test(`refused bodies - a caller that sends slowly and never finishes is cut after LINGER_MS (${LINGER_MS} ms)`, async () => {
    const up = await Uploader.connect(gateways.full!.url);
    try {
      up.socket.resume();
      up.socket.write(requestHead(paths.async, 'length', true));
      const t0 = Date.now();
      // 4 KiB every 50 ms: far under LINGER_MAX_BYTES in the time allowed.
      const pacer = setInterval(() => {
        if (!up.isClosed) up.socket.write(Buffer.alloc(4096, 98));
      }, 50);
      try {
        await up.closed(LINGER_MS + 5000);
      } finally {
        clearInterval(pacer);
      }
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= LINGER_MS - 100, `cut after ${elapsed} ms, before LINGER_MS`);
    } finally {
      up.socket.destroy();
    }
  });
});
