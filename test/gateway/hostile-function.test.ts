// A hostile function against both sync paths (express lane, and Node's server with undici): an
// upstream function on a bare TCP socket answers in malformed or out-of-step shapes while honest
// callers share its keep-alive connections. Every honest caller must get exactly its own answer,
// a malformed reply must be a 502 (or a cut connection once its head went out), and the gateway
// must count what it saw in the upstream.anomaly event.
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import type { Gateway } from '../../src/gateway/index.js';
import { UPSTREAM_ANNOTATION, type Provider } from '../../src/provider/index.js';
import { EventBus } from '../../src/shared/events.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { RawClient } from './support/raw-client.js';
import { startRawFunction, type RawFunction, type RawRequest } from './support/raw-function.js';
import { request } from 'undici';
import { startLocalGateway } from './support/local-gateway.js';

/** A malformed reply shape: the bytes the function writes, and what the caller must get. */
interface Shape {
  readonly name: string;
  readonly bytes: string;
  /** 502 for a reply refused before its head went out; 200 when the reply itself is fine. */
  readonly status: 502 | 200;
  /** undici reports it as a plain socket error, so the full path cannot tell it from a reset (not counted there). */
  readonly isUncountedOnFullPath?: boolean;
}

const OK = 'HTTP/1.1 200 OK\r\n';
/** Malformed replies both llhttp and the lane refuse (502, connection dropped). */
const SHAPES: readonly Shape[] = [
  { name: 'conflicting Content-Length', bytes: `${OK}Content-Length: 2\r\nContent-Length: 3\r\n\r\nokk`, status: 502 },
  { name: 'Content-Length and chunked', bytes: `${OK}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`, status: 502 },
  { name: 'Content-Length and Transfer-Encoding identity', bytes: `${OK}Transfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nok`, status: 502 },
  { name: 'Content-Length: +2', bytes: `${OK}Content-Length: +2\r\n\r\nok`, status: 502 },
  { name: 'Content-Length: -1', bytes: `${OK}Content-Length: -1\r\n\r\nok`, status: 502 },
  { name: 'Content-Length: 1 1', bytes: `${OK}Content-Length: 1 1\r\n\r\nok`, status: 502 },
  { name: 'Content-Length in hex', bytes: `${OK}Content-Length: 0x2\r\n\r\nok`, status: 502 },
  { name: 'obs-fold', bytes: `${OK}X-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\nok`, status: 502 },
  { name: 'bare-LF head', bytes: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok', status: 502 },
  { name: 'space before the colon', bytes: `${OK}Content-Length : 2\r\n\r\nok`, status: 502 },
  { name: 'NUL in a value', bytes: `${OK}X-Nul: a\0b\r\nContent-Length: 2\r\n\r\nok`, status: 502 },
  { name: 'four-digit status', bytes: 'HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok', status: 502 },
  { name: 'not HTTP at all', bytes: 'hello there\r\n\r\n', status: 502 },
  { name: 'HTTP/2 status line', bytes: 'HTTP/2 200\r\nContent-Length: 2\r\n\r\nok', status: 502 },
  { name: '101 Switching Protocols', bytes: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: evil\r\nConnection: upgrade\r\n\r\nstray', status: 502, isUncountedOnFullPath: true },
  { name: 'bytes past the declared body', bytes: `${OK}Content-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nSTRAY`, status: 200 },
];

/** Honest replies carry the caller's call id, so each caller can tell its answer from anyone else's. */
function honest(req: RawRequest, socket: net.Socket): void {
  const body = `for ${req.headers['x-call-id']}`;
  socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
}

const STRAY = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nSTRAY';
/** Connections that owe a late second reply, sent when the test says (once the gateway released them). */
const owingStray: net.Socket[] = [];

function hostile(req: RawRequest, socket: net.Socket): void {
  const path = req.target.split('?')[0];
  if (path === '/honest') return honest(req, socket);
  if (path === '/late-second') {
    honest(req, socket);
    owingStray.push(socket);
    return;
  }
  if (path === '/after-timeout') {
    // undici's header timer is coarse (about a second), the lane's exact: well past both.
    setTimeout(() => socket.writable && honest(req, socket), 2500);
    return;
  }
  if (path === '/mid-body') {
    socket.write(`${OK}Content-Length: 10\r\n\r\nhalf`);
    setTimeout(() => socket.destroy(), 5);
    return;
  }
  if (path === '/continue') {
    // Interim replies alone, then split across writes, then the final one.
    socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 1');
    setTimeout(() => socket.writable && socket.write(`02 Processing\r\n\r\nHTTP/1.1 100\r\n\r\n${OK}Content-Length: 2\r\n\r\nok`), 2);
    return;
  }
  const shape = SHAPES[Number(path.slice('/shape/'.length))];
  socket.write(shape ? shape.bytes : 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
}

/**
 * A function that answers each request as soon as its head is in, then reads and discards the
 * body (Content-Length) before the next request: its reply comes while the body is still arriving.
 */
async function startEarlyReplier(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let skip = 0;
    socket.on('data', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          skip -= n;
          buf = buf.subarray(n);
          if (skip > 0) return;
        }
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.toString('latin1', 0, end);
        skip = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? '0');
        buf = buf.subarray(end + 4);
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

interface Outcome {
  readonly status: number;
  readonly body: string;
}

/** One caller on its own keep-alive connection; a cut connection is outcome -1 and a new connection. */
class Caller {
  private client: RawClient | undefined;
  constructor(private readonly url: string, private readonly host: string) {}

  async call(path: string, callId: string): Promise<Outcome> {
    this.client ??= await RawClient.connect(this.url);
    const client = this.client;
    client.write(`GET /function/${path} HTTP/1.1\r\nHost: ${this.host}\r\nX-Call-Id: ${callId}\r\n\r\n`);
    try {
      const reply = await client.readReply({ timeoutMs: 5000 });
      if (reply.headers.get('connection')?.includes('close')) this.drop();
      return { status: reply.status, body: reply.body.toString('latin1') };
    } catch {
      this.drop();
      return { status: -1, body: '' };
    }
  }

  drop(): void {
    this.client?.close();
    this.client = undefined;
  }
}

/**
 * Runs `rounds` rounds of two honest callers plus one calling `hostilePath`, all at once, and
 * `afterRound` between rounds; returns the hostile outcomes.
 */
async function mixed(side: Side, hostilePath: string, rounds: number, afterRound?: () => Promise<void>): Promise<Outcome[]> {
  const host = new URL(side.url).host;
  const honestCallers = [new Caller(side.url, host), new Caller(side.url, host)];
  const bad = new Caller(side.url, host);
  const outcomes: Outcome[] = [];
  try {
    for (let round = 0; round < rounds; round += 1) {
      const ids = honestCallers.map((_, i) => `h${i}-${round}-${Math.random().toString(36).slice(2)}`);
      const [a, b, h] = await Promise.all([
        honestCallers[0].call('hostile/honest', ids[0]),
        honestCallers[1].call('hostile/honest', ids[1]),
        bad.call(`hostile${hostilePath}`, `bad-${round}`),
      ]);
      for (const [i, o] of [a, b].entries()) {
        assert.equal(o.status, 200, `${hostilePath} round ${round}: honest caller ${i} status (${o.body})`);
        assert.equal(o.body, `for ${ids[i]}`, `${hostilePath} round ${round}: honest caller ${i} got someone else's bytes`);
      }
      outcomes.push(h);
      await afterRound?.();
    }
  } finally {
    for (const c of [...honestCallers, bad]) c.drop();
  }
  return outcomes;
}

interface Side {
  readonly url: string;
  readonly events: EventBus;
  readonly fn: RawFunction;
}

for (const isExpressLane of [true, false]) {
  const pathName = isExpressLane ? 'express lane' : 'full path';
  describe(`hostile function (${pathName})`, () => {
    let tmp: { dir: string; cleanup: () => Promise<void> };
    let provider: Provider;
    let gateway: Gateway;
    let side: Side;
    const anomalies: { fn: string; path: string; reason: string }[] = [];

    before(async () => {
      tmp = await makeTempDir('faasq-hostile-');
      const fn = await startRawFunction(hostile);
      const config = loadConfig({ env: {}, flags: { host: '127.0.0.1', port: 0, dataDir: tmp.dir, 'gateway.isExpressLane': isExpressLane } });
      const events = new EventBus();
      events.on('upstream.anomaly', (e) => anomalies.push(e));
      let url: string;
      ({ provider, gateway, url } = await startLocalGateway(config, events));
      const auth = 'Basic ' + Buffer.from('admin:pw').toString('base64');
      const deploy = await request(`${url}/system/functions`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ service: 'hostile', image: 'none', annotations: { [UPSTREAM_ANNOTATION]: fn.url }, envVars: { exec_timeout: '200ms' } }),
      });
      assert.equal(deploy.statusCode, 202);
      await deploy.body.dump();
      side = { url, events, fn };
    });
    after(async () => {
      await gateway.close();
      await provider.close();
      await side.fn.close();
      await tmp.cleanup();
    });

    for (const [index, shape] of SHAPES.entries()) {
      test(`hostile function - ${pathName}: ${shape.name} is a ${shape.status}, honest callers beside it get only their own replies`, async () => {
        const before = anomalies.length;
        const outcomes = await mixed(side, `/shape/${index}`, 12);
        for (const o of outcomes) {
          assert.equal(o.status, shape.status, `${shape.name}: ${o.body}`);
          if (o.status === 200) assert.equal(o.body, 'ok');
        }
        const seen = anomalies.slice(before).filter((e) => e.fn === 'hostile.openfaas-fn');
        if (!isExpressLane && shape.isUncountedOnFullPath) return;
        assert.ok(seen.length > 0, `${shape.name}: an anomaly was counted`);
        assert.ok(seen.every((e) => e.path === (isExpressLane ? 'express' : 'full')), `${shape.name}: counted on this path: ${JSON.stringify(seen)}`);
      });
    }

    test(`hostile function - ${pathName}: a late second reply on a released connection reaches no caller, and the connection is dropped as idle_bytes`, async () => {
      const before = anomalies.length;
      const idleBytes = (): number => anomalies.slice(before).filter((e) => e.reason === 'idle_bytes').length;
      // The second reply goes out once the first is delivered (so the gateway has released the
      // connection), and the next round waits until the gateway has dropped it: the bytes come
      // while no request is outstanding, which the gateway must catch every time.
      const outcomes = await mixed(side, '/late-second', 20, async () => {
        const sockets = owingStray.splice(0);
        const expected = idleBytes() + sockets.filter((socket) => socket.writable).length;
        for (const socket of sockets) if (socket.writable) socket.write(STRAY);
        await waitFor(() => idleBytes() >= expected, { message: 'the gateway to drop each connection that sent a late reply' });
      });
      for (const o of outcomes) {
        assert.equal(o.status, 200);
        assert.match(o.body, /^for bad-\d+$/, 'the hostile caller got its own first reply');
      }
      assert.ok(idleBytes() >= 20, 'each late reply was counted as idle_bytes');
    });

    test(`hostile function - ${pathName}: a reply after the exec timeout is a 504, and its bytes reach no one`, async () => {
      const outcomes = await mixed(side, '/after-timeout', 2);
      for (const o of outcomes) assert.equal(o.status, 504, o.body);
    });

    test(`hostile function - ${pathName}: a reply sent before the request body is in reaches its caller, and later calls still work`, async () => {
      const early = await startEarlyReplier();
      const auth = 'Basic ' + Buffer.from('admin:pw').toString('base64');
      try {
        const deploy = await request(`${side.url}/system/functions`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({ service: 'early', image: 'none', annotations: { [UPSTREAM_ANNOTATION]: early.url } }),
        });
        assert.equal(deploy.statusCode, 202);
        await deploy.body.dump();
        // 32 KiB stays on the lane; 1 MiB goes the full path (streamed) on both gateways.
        for (const size of [32 * 1024, 1024 * 1024]) {
          const calls = await Promise.all(Array.from({ length: 6 }, async () => {
            const res = await request(`${side.url}/function/early`, { method: 'POST', body: Buffer.alloc(size, 0x61) });
            return `${res.statusCode} ${await res.body.text()}`;
          }));
          assert.deepEqual(calls, Array<string>(6).fill('200 early'), `${size} byte bodies`);
        }
      } finally {
        await early.close();
      }
    });

    test(`hostile function - ${pathName}: a function closing mid-body cuts the caller's connection`, async () => {
      const before = anomalies.length;
      const outcomes = await mixed(side, '/mid-body', 6);
      for (const o of outcomes) assert.equal(o.status, -1, `the caller must not get a complete reply: ${o.body}`);
      assert.ok(anomalies.slice(before).some((e) => e.reason === 'truncated'), 'counted as truncated');
    });

    test(`hostile function - ${pathName}: interim 1xx replies (an unasked 100 Continue, 103, 102) are skipped and the final reply delivered`, async () => {
      const outcomes = await mixed(side, '/continue', 4);
      for (const o of outcomes) assert.deepEqual(o, { status: 200, body: 'ok' });
    });
  });
}
