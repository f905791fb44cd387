// X-Forwarded-For / -Host / -Proto as a proxy sets them (issue 20 item 8), the same on the express
// lane and the full path: the caller's address appended to any chain it brought (repeats joined
// first), the Host and scheme kept when a proxy in front named them, else the request's own.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { startTestGateway } from './support/start-gateway.js';

/** Sends one raw request and waits for the complete reply (Connection: close). */
async function roundTrip(url: string, head: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(head));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => { data += chunk; });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error('no reply'));
    });
  });
}

describe('forwarded headers', () => {
  for (const isLane of [true, false]) {
    test(`forwarded headers - on the ${isLane ? 'express lane' : 'full path'} the caller's address is appended, Host and scheme kept or set`, async () => {
      const t = await startTestGateway({ flags: { 'gateway.isExpressLane': isLane } });
      try {
        const cases: Array<[string[], Record<string, string>]> = [
          [[], { 'x-forwarded-for': '127.0.0.1', 'x-forwarded-host': 'gw.example:8080', 'x-forwarded-proto': 'http' }],
          [['X-Forwarded-For: 10.0.0.1'], { 'x-forwarded-for': '10.0.0.1, 127.0.0.1' }],
          [['X-Forwarded-For: 10.0.0.1', 'X-Forwarded-For: 10.0.0.2, 10.0.0.3'], { 'x-forwarded-for': '10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1' }],
          [['X-Forwarded-Host: public.example', 'X-Forwarded-Proto: https'], { 'x-forwarded-host': 'public.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '127.0.0.1' }],
        ];
        for (const [extra, expected] of cases) {
          const head = ['GET /function/echo/meta HTTP/1.1', 'Host: gw.example:8080', ...extra, 'Connection: close', '', ''].join('\r\n');
          const reply = await roundTrip(t.url, head);
          assert.match(reply, /^HTTP\/1\.1 200 /, reply.slice(0, 200));
          const seen = t.fn.seen.at(-1)!.headers;
          for (const [name, value] of Object.entries(expected)) assert.equal(seen[name], value, `${name} with ${JSON.stringify(extra)}`);
        }
      } finally {
        await t.close();
      }
    });
  }
});
