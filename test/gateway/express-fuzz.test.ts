// Differential fuzzing of the express lane's HTTP/1.1 parsing with fast-check: generated function
// replies go through the lane and, as the oracle, through Node's own client (llhttp); generated
// requests go to a gateway with the lane and to one without it (Node's server). Each pair must make
// the same accept/refuse decision and deliver the same bytes. Seeds are fixed, so a run is
// repeatable; FAASQ_FUZZ_RUNS raises the number of cases for a longer local run, and
// FAASQ_FUZZ_SEED picks another seed. A disagreement found is kept as a fixed case below.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { withClient } from './support/raw-client.js';
import { startRawFunction, type RawFunction } from './support/raw-function.js';
import { startRecordingFunction, type RecordingFunction } from './support/recording-function.js';
import { startTestGateway, type TestGateway } from './support/start-gateway.js';
import { waitFor } from '../support/wait-for.js';

const RUNS = Number(process.env.FAASQ_FUZZ_RUNS ?? '400');
const SEED = Number(process.env.FAASQ_FUZZ_SEED ?? '0x5eed13');

/** What a caller made of a reply: refused (an error or the gateway's 502), or a status and the body bytes. */
type Verdict = { readonly isRefused: true } | { readonly isRefused: false; readonly status: number; readonly body: string };

function show(v: Verdict): string {
  return v.isRefused ? 'refused' : `${v.status} ${JSON.stringify(v.body)}`;
}

/** GETs `url` with Node's client on a fresh connection; `isGateway` maps the gateway's own 502 to a refusal. */
function fetchVerdict(url: string, isGateway: boolean): Promise<Verdict> {
  return new Promise((resolve) => {
    let isDone = false;
    const done = (v: Verdict): void => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      resolve(v);
    };
    const timer = setTimeout(() => {
      req.destroy();
      done({ isRefused: false, status: -1, body: 'no reply within 3 s' });
    }, 3000);
    let response: http.IncomingMessage | undefined;
    // Bytes after a complete reply make Node's client fail the connection, not the reply it read.
    const fail = (): void => {
      if (!response?.complete) done({ isRefused: true });
    };
    const req = http.get(url, { agent: false }, (res) => {
      response = res;
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('error', fail);
      res.on('aborted', fail);
      res.on('end', () => {
        if (!res.complete) return done({ isRefused: true });
        if (isGateway && res.statusCode === 502 && res.headers['x-duration-seconds'] === undefined) return done({ isRefused: true });
        done({ isRefused: false, status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('latin1') });
      });
    });
    req.on('error', fail);
    // A 101 to a request that asked for no upgrade: the gateway cannot pass it on.
    req.on('upgrade', (_res, socket: net.Socket) => {
      socket.destroy();
      done({ isRefused: true });
    });
  });
}

// --- generated function replies ---

const CRLF = '\r\n';
/** Status lines, valid and not (502 is left out: it is the gateway's own refusal). */
const STATUS_LINES = ['HTTP/1.1 200 OK', 'HTTP/1.1 201 Created', 'HTTP/1.0 200 OK', 'HTTP/1.1 204 No Content', 'HTTP/1.1 304 Not Modified', 'HTTP/1.1 404 ', 'HTTP/1.1 500 Oops',
  'HTTP/1.1 299 x', 'HTTP/1.1 2000 OK', 'HTTP/2 200', 'HTTP/1.1 200OK', 'http/1.1 200 OK', 'HTTP/1.1  200 OK', 'HTTP/1.2 200 OK', 'HTTP/1.1 099 Low', 'ICY 200 OK'];
const INTERIM = ['', '', '', 'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n', 'HTTP/1.1 102 Processing\r\n\r\n'];
const CL_VALUES = ['0', '2', '5', '007', '+2', '-1', ' 3', '3 ', '1 1', '0x2', '99999999999999999999', '', '2,2', '5, 5'];
const TE_VALUES = ['chunked', 'Chunked', 'identity', 'gzip', 'gzip, chunked', 'chunked, gzip', 'chunked, chunked', ' chunked', 'chunked;q=1', 'x'];
const FIELD_LINES = ['X-A: 1', 'X-B:  spaced  ', 'X-Empty:', 'X-Tab:\tv', 'X-Obs: caf\xe9', 'Content-Type: text/plain', 'Connection: close', 'Connection: keep-alive',
  'Keep-Alive: timeout=5', 'Bad Name: x', 'X-Nul: a\0b', ' X-Lead: 1', 'X-Fold: a\r\n b', ': empty-name', 'X-Colon : v', 'X-Ctl: a\x01b', 'X-Del: a\x7fb', 'NoColon'];

const chunk = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }).map((s) => `${Buffer.byteLength(s, 'latin1').toString(16)}\r\n${s}\r\n`),
  fc.constantFrom('3\r\nabc\r\n', '3;ext=1\r\nabc\r\n', '3 ;e\r\nabc\r\n', '03\r\nabc\r\n', 'zz\r\nab\r\n', '3\r\nabcd\r\n', '3\r\nabc', '3\nabc\n', '-3\r\nabc\r\n', '3;\x01\r\nabc\r\n', '0x3\r\nabc\r\n', '3\r\nabc\r\r\n', '00000000000003\r\nabc\r\n'),
);
const lastChunk = fc.constantFrom('0\r\n\r\n', '0\r\n\r\n', '0;e=1\r\n\r\n', '0\r\nX-T: 1\r\n\r\n', '0\r\nX-T: 1\r\nX-U: 2\r\n\r\n', '0\r\nBad T: 1\r\n\r\n', '0\r\n', '0\n\n', '', '0\r\nX-T:\x01\r\n\r\n', '000\r\n\r\n');

const replyArb = fc.record({
  interim: fc.constantFrom(...INTERIM),
  status: fc.constantFrom(...STATUS_LINES, ...Array<string>(12).fill('HTTP/1.1 200 OK')),
  lengths: fc.array(fc.constantFrom(...CL_VALUES), { maxLength: 2 }),
  encodings: fc.array(fc.constantFrom(...TE_VALUES), { maxLength: 2 }),
  fields: fc.array(fc.constantFrom(...FIELD_LINES), { maxLength: 4 }),
  isBareLf: fc.constantFrom(false, false, false, false, true),
  chunks: fc.array(chunk, { maxLength: 3 }),
  last: lastChunk,
  raw: fc.string({ maxLength: 12 }),
  extra: fc.constantFrom('', '', '', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nSTRAY'),
}).map((r) => {
  const fields = [...r.fields, ...r.lengths.map((v) => `Content-Length: ${v}`), ...r.encodings.map((v) => `Transfer-Encoding: ${v}`)];
  const eol = r.isBareLf ? '\n' : CRLF;
  const head = [r.status, ...fields].join(eol) + eol + eol;
  const isChunkedBody = r.encodings.length > 0 && /chunked\s*$/i.test(r.encodings.at(-1) ?? '');
  const body = isChunkedBody ? r.chunks.join('') + r.last : r.raw;
  return r.interim + head + body + r.extra;
});

/**
 * Replies where the lane knowingly differs from llhttp, each with why. llhttp takes any three
 * digits as a status; the lane refuses 000-099 (no such HTTP status; Node's server would not
 * write one either, so the full path fails it too).
 */
const KNOWN_DIFFERENCES: readonly ((reply: string) => boolean)[] = [(reply) => /^HTTP\/1\.[01] 0\d\d/.test(reply.replace(/^HTTP\/1\.1 1\d\d[^]*?\r\n\r\n/, ''))];

/** Disagreements fuzzing found, kept as fixed cases (the reply bytes). */
const FOUND: readonly string[] = [
  'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n',
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\nHTTP/1.1 200 OK\r\n\r\n',
  // Seed 2: the lane counted leading zeros of a chunk size against its 12-digit limit.
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00000000000003\r\nabc\r\n0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n000000000000000000000\r\n\r\n',
];

describe('express fuzz - function replies: the lane against Node\'s client (llhttp)', () => {
  let t: TestGateway;
  let fn: RawFunction;
  let oracle: net.Server;
  let oracleUrl: string;
  const replies = new Map<string, string>();
  let next = 0;

  before(async () => {
    t = await startTestGateway({ flags: { 'gateway.isExpressLane': true } });
    fn = await startRawFunction((req, socket) => socket.end(Buffer.from(replies.get(req.target.split('/').pop() ?? '') ?? '', 'latin1')));
    t.provider.add('fuzz', fn.url);
    // The oracle serves the same bytes to Node's http client, which parses them with llhttp.
    oracle = net.createServer((socket) => {
      socket.on('error', () => undefined);
      let seen = '';
      socket.on('data', (data: Buffer) => {
        seen += data.toString('latin1');
        const match = /^GET \/case\/(\d+) /.exec(seen);
        if (match && seen.includes('\r\n\r\n')) socket.end(Buffer.from(replies.get(match[1]) ?? '', 'latin1'));
      });
    });
    await new Promise<void>((resolve) => oracle.listen(0, '127.0.0.1', resolve));
    oracleUrl = `http://127.0.0.1:${(oracle.address() as AddressInfo).port}`;
  });
  after(async () => {
    await t.close();
    await fn.close();
    await new Promise<void>((resolve) => oracle.close(() => resolve()));
  });

  async function compare(reply: string): Promise<void> {
    const id = String(next++);
    replies.set(id, reply);
    const [lane, node] = await Promise.all([fetchVerdict(`${t.url}/function/fuzz/case/${id}`, true), fetchVerdict(`${oracleUrl}/case/${id}`, false)]);
    replies.delete(id);
    if (KNOWN_DIFFERENCES.some((isKnown) => isKnown(reply))) return;
    assert.equal(show(lane), show(node), `reply ${JSON.stringify(reply)}: lane ${show(lane)}, llhttp ${show(node)}`);
  }

  test('express fuzz - replies found to disagree once stay in agreement', async () => {
    for (const reply of FOUND) await compare(reply);
  });

  test('express fuzz - a reply head well under 16 KiB is delivered and one well over is refused, by both', async () => {
    for (const size of [8 * 1024, 24 * 1024, 70 * 1024]) await compare(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(size)}\r\nContent-Length: 2\r\n\r\nok`);
  });

  test('express fuzz - generated replies: the lane refuses what llhttp refuses and delivers the same status and body', async () => {
    await fc.assert(fc.asyncProperty(replyArb, compare), { seed: SEED, numRuns: RUNS, includeErrorInReport: true });
  });
});

// --- generated requests ---

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'G@T', 'get', ''];
const TARGETS = ['/function/echo/meta', '/function/echo/meta?a=1', '/function/echo/echo', '/function/echo/%zz', '/function/echo/a b', '/function/echo/\x01', 'function/echo', '*', 'http://x/function/echo'];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.10', 'http/1.1', 'HTTP/1.1 '];
const REQUEST_FIELDS = ['Host: h', 'Host: h', 'Host: h', 'X-A: 1', 'X-B:  v  ', 'Content-Type: text/plain', 'Connection: close', 'Connection: x-a', 'Bad Name: x', 'X-Nul: a\0b', 'X-Fold: a\r\n b',
  ' X-Lead: 1', 'X-Colon : v', 'X-Call-Id: given', 'X-Ctl: a\x01b', 'Expect: 100-continue', 'Upgrade: h2c', 'Host: h2'];

const requestArb = fc.record({
  method: fc.constantFrom(...METHODS, 'GET', 'POST'),
  target: fc.constantFrom(...TARGETS),
  version: fc.constantFrom(...VERSIONS),
  fields: fc.array(fc.constantFrom(...REQUEST_FIELDS), { maxLength: 4 }),
  lengths: fc.array(fc.constantFrom('0', '3', '+3', '-1', '3 3', '0x3', '03', ''), { maxLength: 2 }),
  encodings: fc.array(fc.constantFrom('chunked', 'gzip', 'chunked, gzip', 'identity'), { maxLength: 1 }),
  isBareLf: fc.constantFrom(false, false, false, false, true),
  body: fc.constantFrom('', 'abc', '3\r\nabc\r\n0\r\n\r\n', 'zz\r\n'),
}).map((r) => {
  const eol = r.isBareLf ? '\n' : CRLF;
  const fields = [...r.fields, ...r.lengths.map((v) => `Content-Length: ${v}`), ...r.encodings.map((v) => `Transfer-Encoding: ${v}`)];
  return { isHead: r.method === 'HEAD', bytes: [`${r.method} ${r.target} ${r.version}`, ...fields].join(eol) + eol + eol + r.body };
});

/** What a gateway did with one request: the reply's status (-1: none) and what the function received. */
async function outcome(gw: TestGateway, fnRec: RecordingFunction, bytes: string, isHead: boolean): Promise<string> {
  const before = fnRec.requests.length;
  let status = -1;
  let body = '';
  await withClient(gw.url, async (client) => {
    client.write(bytes);
    try {
      const reply = await client.readReply({ isHeadRequest: isHead, timeoutMs: 4000 });
      status = reply.status;
      if (status !== 200) body = '';
      else body = reply.body.length > 0 ? 'body' : 'empty';
    } catch {
      status = -1;
    }
  });
  await waitFor(() => fnRec.requests.slice(before).every((r) => r.isComplete), { timeoutMs: 4000, message: 'function request complete' });
  const seen = fnRec.requests.slice(before).map((r) => `${r.method} ${r.url} ${r.body.toString('latin1')}`);
  return `${status} ${body} fn=${JSON.stringify(seen)}`;
}

describe('express fuzz - requests: the lane against Node\'s server', () => {
  let lane: TestGateway;
  let full: TestGateway;
  let laneFn: RecordingFunction;
  let fullFn: RecordingFunction;

  before(async () => {
    lane = await startTestGateway({ flags: { 'gateway.isExpressLane': true } });
    full = await startTestGateway({ flags: { 'gateway.isExpressLane': false } });
    laneFn = await startRecordingFunction();
    fullFn = await startRecordingFunction();
    lane.provider.add('echo', laneFn.url);
    full.provider.add('echo', fullFn.url);
  });
  after(async () => {
    await lane.close();
    await full.close();
    await laneFn.close();
    await fullFn.close();
  });

  test('express fuzz - generated requests get the same status on both paths, and reach the function alike', async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, async ({ bytes, isHead }) => {
        const [a, b] = await Promise.all([outcome(lane, laneFn, bytes, isHead), outcome(full, fullFn, bytes, isHead)]);
        assert.equal(a, b, `request ${JSON.stringify(bytes)}: lane ${a}, full path ${b}`);
      }),
      { seed: SEED, numRuns: Math.ceil(RUNS / 2), includeErrorInReport: true },
    );
  });
});
