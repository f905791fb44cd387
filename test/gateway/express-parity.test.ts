// A differential test of the two sync paths: the same request bytes go to a gateway with the
// express lane and to one without it (Node's server only), and what each function received and
// what each caller got back must agree, apart from the documented transport details (Host to the
// function, framing, call id and timing values, hop-by-hop fields).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../support/wait-for.js';
import { validCorpus, INVALID, type Case } from './support/parity-corpus.js';
import { withClient, type RawReply } from './support/raw-client.js';
import { startRecordingFunction, type RecordedRequest, type RecordingFunction } from './support/recording-function.js';
import { startTestGateway, type TestGateway } from './support/start-gateway.js';

/** What one gateway did with one request. */
interface Outcome {
  /** Status of the reply, or -1 when the connection ended without one. */
  readonly status: number;
  readonly reply: RawReply | undefined;
  readonly failure: string | undefined;
  /** What the function received (none, or one request). */
  readonly seen: RecordedRequest[];
}

interface Side {
  readonly gw: TestGateway;
  readonly fn: RecordingFunction;
}

const SEED = 0x5eed_f00d;
const CASES = 150;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const START_TIME = /^\d{19}$/;
/**
 * Request fields whose values differ by design (checked apart) or that only frame the message:
 * Node's http client (the test provider's) adds `Content-Length: 0` to a PUT/POST/PATCH without
 * a body, the lane does not; a Content-Length present is checked against the body instead.
 */
const FN_IGNORED = new Set(['connection', 'host', 'x-call-id', 'x-start-time', 'x-forwarded-host', 'content-length', 'transfer-encoding']);
const REPLY_IGNORED = new Set(['date', 'connection', 'keep-alive', 'x-duration-seconds', 'x-call-id', 'x-start-time', 'transfer-encoding', 'content-length']);

/** Sends `bytes` on a fresh connection and reads one reply (or notes that none came). */
async function run(side: Side, bytes: Buffer, isHead: boolean): Promise<Outcome> {
  const before = side.fn.requests.length;
  let reply: RawReply | undefined;
  let failure: string | undefined;
  await withClient(side.gw.url, async (client) => {
    client.write(bytes);
    try {
      reply = await client.readReply({ isHeadRequest: isHead, timeoutMs: 5000 });
    } catch (err) {
      failure = (err as Error).message;
    }
  });
  // The function recorded its request before answering, but its body may still be arriving.
  await waitFor(() => side.fn.requests.slice(before).every((r) => r.isComplete), { timeoutMs: 5000, message: 'function request complete' });
  return { status: reply?.status ?? -1, reply, failure, seen: side.fn.requests.slice(before) };
}

/**
 * Field lines as name -> values, sorted: lower-cased names, repeated fields joined as RFC 9110
 * 5.3 allows (Cookie with "; ", as RFC 9113 8.2.3 and Node's parser join it).
 */
function normalised(fields: Iterable<[string, string]>, ignored: ReadonlySet<string>): Record<string, string> {
  const joined = new Map<string, string[]>();
  for (const [name, value] of fields) {
    const lower = name.toLowerCase();
    if (ignored.has(lower)) continue;
    joined.set(lower, [...(joined.get(lower) ?? []), value]);
  }
  return Object.fromEntries([...joined.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.join(k === 'cookie' ? '; ' : ', ')]));
}

function replyFields(reply: RawReply): [string, string][] {
  return [...reply.headers.entries()].flatMap(([name, values]) => values.map((v): [string, string] => [name, v]));
}

function first(fields: [string, string][], lower: string): string | undefined {
  return fields.find(([name]) => name.toLowerCase() === lower)?.[1];
}

/** The lane writes no Connection field to the function; Node's http.Agent writes keep-alive. */
function wasOnLane(outcome: Outcome): boolean {
  return outcome.seen.length === 1 && first(outcome.seen[0].fields, 'connection') === undefined;
}

function show(c: Case): string {
  const text = c.bytes.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  return `${c.label}\n  request head: ${JSON.stringify(headEnd === -1 ? text : text.slice(0, headEnd))} (+${headEnd === -1 ? 0 : c.bytes.length - headEnd - 4} body bytes)`;
}

/** Asserts that the two outcomes of `c` agree; every message names the request and the field. */
function assertSame(c: Case, lane: Outcome, full: Outcome): void {
  const where = show(c);
  assert.equal(lane.failure, full.failure, `${where}\n  reply failure`);
  assert.equal(lane.status, full.status, `${where}\n  status`);
  assert.equal(lane.seen.length, full.seen.length, `${where}\n  requests reaching the function`);
  const laneReply = lane.reply as RawReply;
  const fullReply = full.reply as RawReply;
  if (!laneReply) return;
  const laneFields = replyFields(laneReply);
  const fullFields = replyFields(fullReply);
  for (const [side, fields] of [['lane', laneFields], ['full', fullFields]] as const) {
    const callId = first(fields, 'x-call-id') ?? '';
    if (c.givenCallId) assert.equal(callId, c.givenCallId, `${where}\n  ${side} reply x-call-id`);
    else assert.match(callId, UUID, `${where}\n  ${side} reply x-call-id`);
    assert.match(first(fields, 'x-start-time') ?? '', START_TIME, `${where}\n  ${side} reply x-start-time`);
  }
  // Only a call the lane served has the header: one whose body was not all in yet went to Node.
  if (wasOnLane(lane)) assert.match(first(laneFields, 'x-duration-seconds') ?? '', /^\d+\.\d{6}$/, `${where}\n  lane reply x-duration-seconds`);
  assert.deepEqual(normalised(laneFields, REPLY_IGNORED), normalised(fullFields, REPLY_IGNORED), `${where}\n  reply headers`);
  if (lane.seen.length === 0) {
    // A gateway error: the message words the provider's own failure (the test provider names the
    // errno, the lane cannot), so the error code is what must agree, and the body's form.
    const bodies = `lane ${JSON.stringify(laneReply.body.toString('latin1'))} full ${JSON.stringify(fullReply.body.toString('latin1'))}`;
    if (c.isHead) {
      assert.ok(laneReply.body.length === 0 && fullReply.body.length === 0, `${where}\n  error replies to HEAD: ${bodies}`);
    } else if (first(laneFields, 'content-type') === 'application/json') {
      const codeOf = (body: Buffer): unknown => (JSON.parse(body.toString('utf8')) as { error?: unknown }).error;
      assert.equal(codeOf(laneReply.body), codeOf(fullReply.body), `${where}\n  error code in the reply body: ${bodies}`);
    } else {
      assert.ok(laneReply.body.length > 0 && fullReply.body.length > 0, `${where}\n  error reply bodies: ${bodies}`);
    }
    return;
  }
  const [ls, fs] = [lane.seen[0], full.seen[0]];
  assert.equal(ls.method, fs.method, `${where}\n  function method`);
  assert.equal(ls.url, fs.url, `${where}\n  function url`);
  assert.ok(ls.body.equals(fs.body), `${where}\n  function body (${ls.body.length} vs ${fs.body.length} bytes)`);
  assert.deepEqual(normalised(ls.fields, FN_IGNORED), normalised(fs.fields, FN_IGNORED), `${where}\n  function headers`);
  for (const [side, seen, fields] of [['lane', ls, laneFields], ['full', fs, fullFields]] as const) {
    const callId = first(seen.fields, 'x-call-id');
    assert.equal(callId, first(fields, 'x-call-id'), `${where}\n  ${side} function x-call-id equals the reply's`);
    assert.equal(first(seen.fields, 'x-start-time'), first(fields, 'x-start-time'), `${where}\n  ${side} function x-start-time equals the reply's`);
    assert.equal(seen.fields.filter(([n]) => n.toLowerCase() === 'host').length, 1, `${where}\n  ${side} function Host`);
    const length = first(seen.fields, 'content-length');
    if (length !== undefined) assert.equal(Number(length), seen.body.length, `${where}\n  ${side} function content-length`);
    assert.equal(first(seen.fields, 'transfer-encoding'), undefined, `${where}\n  ${side} function transfer-encoding (small bodies go whole)`);
    const forwardedHost = seen.fields.filter(([n]) => n.toLowerCase() === 'x-forwarded-host').map(([, v]) => v);
    // An empty Host names no host to forward.
    assert.deepEqual(forwardedHost, c.hasForwardedHost ? ['fwd.example'] : c.host === '' ? [] : [c.host], `${where}\n  ${side} function x-forwarded-host`);
  }
  // Framing aside, a Content-Length both replies carry must agree (it is all a HEAD reply says of its body).
  const [laneLength, fullLength] = [first(laneFields, 'content-length'), first(fullFields, 'content-length')];
  if (laneLength !== undefined && fullLength !== undefined) assert.equal(laneLength, fullLength, `${where}\n  reply content-length`);
  // The /meta reply reflects the function's own view, which differs by design (Host, call id):
  // that view was compared above; every other reply body must be byte for byte the same.
  const isMeta = !['/echo', '/status', '/redirect', '/bytes'].includes(new URL(ls.url, 'http://fn').pathname);
  if (!isMeta) assert.ok(laneReply.body.equals(fullReply.body), `${where}\n  reply body (${laneReply.body.length} vs ${fullReply.body.length} bytes)`);
}

describe('express parity', () => {
  let lane: Side;
  let full: Side;
  /** A port nothing listens on, for the function that is down. */
  let downUrl: string;

  before(async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    downUrl = `http://127.0.0.1:${(probe.address() as net.AddressInfo).port}`;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const sideOf = async (name: 'lane' | 'full'): Promise<Side> => {
      const gw = await startTestGateway(name === 'full' ? { flags: { 'gateway.isExpressLane': false } } : {});
      const fn = await startRecordingFunction();
      // Replaces the harness's function server, which records only Node's joined `headers`.
      gw.provider.add('echo', fn.url);
      gw.provider.add('down', downUrl);
      return { gw, fn };
    };
    lane = await sideOf('lane');
    full = await sideOf('full');
  });
  after(async () => {
    for (const side of [lane, full]) {
      if (!side) continue;
      await side.gw.close();
      await side.fn.close();
    }
  });

  test('express parity - a seeded corpus of valid calls reaches the function and comes back the same on both paths', async () => {
    const cases = validCorpus(SEED, CASES);
    let onLane = 0;
    for (const c of cases) {
      const laneOutcome = await run(lane, c.bytes, c.isHead);
      const fullOutcome = await run(full, c.bytes, c.isHead);
      assertSame(c, laneOutcome, fullOutcome);
      if (wasOnLane(laneOutcome)) onLane += 1;
      for (const seen of fullOutcome.seen) assert.ok(first(seen.fields, 'connection') !== undefined, `${show(c)}\n  the lane-off gateway served it on the lane`);
    }
    // Most of the corpus must really have taken the lane, or this compares the full path with itself.
    assert.ok(onLane > CASES / 2, `only ${onLane} of ${CASES} calls went on the lane`);
  });

  /**
   * Edge cases picked by hand. Each once differed between the paths, until the lane learnt the full
   * path's way (repeated single fields, a repeated X-Call-Id, an empty query, an empty Host, the
   * error format for repeated Accept fields), or the harness stopped rewriting paths.
   */
  const EDGES: readonly { label: string; head: string; body?: string; host?: string; givenCallId?: string }[] = [
    { label: 'trailing ? with an empty query', head: 'GET /function/echo/meta? HTTP/1.1\r\nHost: h\r\n' },
    { label: 'repeated User-Agent', head: 'GET /function/echo/meta HTTP/1.1\r\nHost: h\r\nUser-Agent: one\r\nUser-Agent: two\r\n' },
    { label: 'repeated Content-Type', head: 'POST /function/echo/echo HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Type: application/json\r\nContent-Length: 2\r\n', body: 'hi' },
    { label: 'repeated Cookie', head: 'GET /function/echo/meta HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nCookie: b=2\r\n' },
    { label: 'repeated X-Call-Id', head: 'GET /function/echo/meta HTTP/1.1\r\nHost: h\r\nX-Call-Id: first\r\nX-Call-Id: second\r\n', givenCallId: 'first, second' },
    { label: 'repeated X-Forwarded-For', head: 'GET /function/echo/meta HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\n' },
    { label: 'repeated Accept on an error reply', head: 'GET /function/down/meta HTTP/1.1\r\nHost: h\r\nAccept: application/json\r\nAccept: text/plain\r\n' },
    { label: 'empty Host', head: 'GET /function/echo/meta HTTP/1.1\r\nHost:\r\n', host: '' },
    { label: 'dot segments', head: 'GET /function/echo/meta/a/../b/./c HTTP/1.1\r\nHost: h\r\n' },
    { label: 'encoded dot segments', head: 'GET /function/echo/meta/a/%2e%2e/b HTTP/1.1\r\nHost: h\r\n' },
    { label: 'quote and braces in the path', head: 'GET /function/echo/meta/a"b{c}`d HTTP/1.1\r\nHost: h\r\n' },
    { label: 'quote in the query', head: "GET /function/echo/meta?a='b'&c=\"d\" HTTP/1.1\r\nHost: h\r\n" },
    { label: 'backslash in the path', head: 'GET /function/echo/meta\\x HTTP/1.1\r\nHost: h\r\n' },
    { label: 'body on GET', head: 'GET /function/echo/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n', body: 'hello' },
    { label: 'Content-Length with leading zeros', head: 'POST /function/echo/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 005\r\n', body: 'hello' },
    { label: 'X-Timeout given', head: 'GET /function/echo/meta HTTP/1.1\r\nHost: h\r\nX-Timeout: 5s\r\n' },
    { label: 'Expect: 100-continue (the lane hands it to Node)', head: 'POST /function/echo/echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n', body: 'hello' },
    { label: 'field named like Expect', head: 'GET /function/echo/meta HTTP/1.1\r\nHost: h\r\nX-Expect: 100-continue\r\n' },
    { label: 'Proxy-Connection and Trailers', head: 'GET /function/echo/meta HTTP/1.1\r\nHost: h\r\nProxy-Connection: keep-alive\r\nTrailers: x\r\nProxy-Authenticate: x\r\n' },
  ];
  for (const edge of EDGES) {
    test(`express parity - edge: ${edge.label}`, async () => {
      const head = Buffer.from(`${edge.head}\r\n`, 'latin1');
      const bytes = edge.body === undefined ? head : Buffer.concat([head, Buffer.from(edge.body, 'latin1')]);
      const isHead = edge.head.startsWith('HEAD ');
      const c: Case = { label: edge.label, bytes, isHead, host: edge.host ?? 'h', givenCallId: edge.givenCallId, hasForwardedHost: false };
      assertSame(c, await run(lane, bytes, isHead), await run(full, bytes, isHead));
    });
  }

  test('express parity - malformed and unservable requests get the same status, and a 400 reaches no function', async () => {
    for (const [label, text] of INVALID) {
      const c: Case = { label, bytes: Buffer.from(text, 'latin1'), isHead: false, host: 'a', givenCallId: undefined, hasForwardedHost: false };
      const laneOutcome = await run(lane, c.bytes, false);
      const fullOutcome = await run(full, c.bytes, false);
      assert.equal(laneOutcome.status, fullOutcome.status, `${show(c)}\n  status (lane ${laneOutcome.failure ?? ''}, full ${fullOutcome.failure ?? ''})`);
      assert.equal(laneOutcome.seen.length, fullOutcome.seen.length, `${show(c)}\n  requests reaching the function`);
      if (laneOutcome.status === 400) assert.equal(laneOutcome.seen.length, 0, `${show(c)}\n  a 400 reached the function`);
    }
  });
});
