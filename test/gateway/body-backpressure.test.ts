// A large sync body travels at the pace of the function reading it: the gateway holds a bounded
// amount of it whatever the caller sends (issue 20, bounded memory). Measured from outside, by the
// bytes a raw caller manages to hand to its socket while nothing reads the body: kernel buffers
// and the streams' high-water marks allow a few MiB; a gateway that reads on regardless takes all
// of it. On the express lane this covers the connection's hand-off to Node's server with body
// bytes already read: a resume() queued behind the server's pause used to restart reading, so a
// call waiting for a concurrency slot had its whole body read into memory.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { createLocalProvider, UPSTREAM_ANNOTATION, type Provider } from '../../src/provider/index.js';
import { ANNOTATIONS } from '../../src/shared/annotations.js';
import { EventBus } from '../../src/shared/events.js';
import { silentLogger } from '../../src/shared/logger.js';
import { fixtureSpec } from '../support/provider-fixtures.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

const MiB = 1024 * 1024;
const BODY_BYTES = 256 * MiB;
/** Far above what the buffers between caller and function hold, far below the body. */
const MAX_TAKEN_BYTES = 64 * MiB;
/** The caller is stalled once its socket took nothing for this long. */
const STALL_MS = 1000;

/** A raw caller sending a BODY_BYTES body as fast as its socket takes it; `taken()` counts what went out. */
function sendLargeBody(port: number, fn: string): { taken(): number; idleMs(): number; close(): void } {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let taken = 0;
  let lastProgressAt = Date.now();
  const chunk = Buffer.alloc(MiB);
  let left = BODY_BYTES;
  const written = (): void => {
    taken += chunk.length;
    lastProgressAt = Date.now();
  };
  const pump = (): void => {
    while (left > 0 && !socket.destroyed) {
      left -= chunk.length;
      if (!socket.write(chunk, written)) return void socket.once('drain', pump);
    }
  };
  socket.once('connect', () => {
    // The head and the first MiB in one write: the lane reads body bytes before it hands off.
    const head = Buffer.from(`POST /function/${fn} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`, 'latin1');
    left -= chunk.length;
    if (socket.write(Buffer.concat([head, chunk]), written)) pump();
    else socket.once('drain', pump);
  });
  return { taken: () => taken, idleMs: () => Date.now() - lastProgressAt, close: () => socket.destroy() };
}

describe('sync body backpressure', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let provider: Provider;
  let fnServer: http.Server;
  /** Requests the function has received; it never reads or answers one. */
  const held: http.ServerResponse[] = [];
  const gateways: Gateway[] = [];
  const ports = { express: 0, full: 0 };

  before(async () => {
    tmp = await makeTempDir('faasq-backpressure-');
    fnServer = http.createServer((req, res) => {
      req.pause();
      held.push(res);
    });
    await new Promise<void>((resolve) => fnServer.listen(0, '127.0.0.1', resolve));
    const upstream = `http://127.0.0.1:${(fnServer.address() as net.AddressInfo).port}`;
    const flags = { host: '127.0.0.1', port: 0, dataDir: tmp.dir, 'gateway.maxBodyBytes': '1GiB' };
    const events = new EventBus();
    // The local provider's own path to the function (undici), as `faasq up` runs it.
    provider = createLocalProvider({ config: loadConfig({ env: {}, flags }), logger: silentLogger(), events, env: {} });
    await provider.start();
    const spec = { fprocess: '', environment: {} };
    await provider.deploy(fixtureSpec('sink', { ...spec, annotations: { [UPSTREAM_ANNOTATION]: upstream } }));
    // One call at a time: a second waits for the slot with its body unread.
    for (const lane of ['express', 'full'] as const) {
      await provider.deploy(fixtureSpec(`one-${lane}`, { ...spec, annotations: { [UPSTREAM_ANNOTATION]: upstream, [ANNOTATIONS.concurrency.name]: '1', [ANNOTATIONS.maxWait.name]: '60s' } }));
    }
    for (const lane of ['express', 'full'] as const) {
      const config = loadConfig({ env: {}, flags: { ...flags, 'gateway.isExpressLane': lane === 'express' } });
      const gateway = createGateway({ config, provider, events, logger: silentLogger(), credentials: { user: 'admin', password: 'pw' } });
      gateways.push(gateway);
      ports[lane] = (await gateway.start()).port;
    }
  });
  after(async () => {
    for (const res of held) res.destroy();
    for (const g of gateways) await g.close();
    await provider?.close();
    fnServer?.closeAllConnections();
    await new Promise((resolve) => fnServer?.close(resolve));
    await tmp.cleanup();
  });

  /** Waits until the caller stalls (or passes the bound), then checks how much the gateway took. */
  async function assertBounded(caller: ReturnType<typeof sendLargeBody>): Promise<void> {
    await waitFor(() => caller.taken() > MAX_TAKEN_BYTES || (caller.taken() > 0 && caller.idleMs() > STALL_MS), { timeoutMs: 60_000, intervalMs: 50, message: 'the caller stalled or passed the bound' });
    assert.ok(caller.taken() <= MAX_TAKEN_BYTES, `the gateway took ${Math.round(caller.taken() / MiB)} MiB of a body nothing reads (bound ${MAX_TAKEN_BYTES / MiB} MiB)`);
  }

  for (const lane of ['express', 'full'] as const) {
    test(`body backpressure - ${lane}: a body the function does not read is taken only as far as the buffers on the way hold`, async () => {
      const before = held.length;
      const caller = sendLargeBody(ports[lane], 'sink');
      try {
        await waitFor(() => held.length > before, { timeoutMs: 10_000, message: 'the function received the request' });
        await assertBounded(caller);
      } finally {
        caller.close();
      }
    });

    test(`body backpressure - ${lane}: a body waiting for a concurrency slot is not read ahead`, async () => {
      const before = held.length;
      const first = http.request({ host: '127.0.0.1', port: ports[lane], method: 'POST', path: `/function/one-${lane}`, agent: false });
      first.on('error', () => undefined);
      first.end('x');
      const caller = sendLargeBody(ports[lane], `one-${lane}`);
      try {
        await waitFor(() => held.length > before, { timeoutMs: 10_000, message: 'the first call holds the slot' });
        await assertBounded(caller);
        assert.equal(held.length, before + 1, 'the second call is still waiting');
      } finally {
        caller.close();
        first.destroy();
      }
    });
  }
});
