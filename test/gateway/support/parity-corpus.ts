// The request corpus of the express-parity test: a seeded generator of valid sync calls (methods,
// targets, header and body variations) and a fixed list of malformed or unservable requests, kept
// apart from the comparison so each file stays about one thing.

/** One request of the corpus: its bytes, and what the comparison needs to know about them. */
export interface Case {
  readonly label: string;
  readonly bytes: Buffer;
  readonly isHead: boolean;
  /** The Host value sent (undefined: none). */
  readonly host: string | undefined;
  /** A non-empty X-Call-Id the caller gave. */
  readonly givenCallId: string | undefined;
  readonly hasForwardedHost: boolean;
}

/** mulberry32: a small seeded PRNG, so a failing corpus can be replayed exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly next: () => number) {}
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** `name` with each letter's case chosen at random. */
  casing(name: string): string {
    return [...name].map((c) => (this.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i += 1) out[i] = this.int(256);
    return out;
  }
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
/** Targets after /function/{name}: the function server's behaviours and odd but valid forms. */
function suffixOf(g: Gen): string {
  const long = Array.from({ length: 60 }, (_, i) => `k${i}=${'v'.repeat(g.int(30))}`).join('&');
  return g.pick([
    '/meta', '/meta?x=1&y=2', '/echo', '/redirect', '', '/', '?q=1',
    `/status?code=${g.pick([200, 201, 204, 301, 404, 500])}`,
    `/bytes?n=${g.int(3000)}`,
    '/meta/%20x%2Fy', '/meta//double', `/meta?${long}`, '/meta?a=%ZZ&b=%2', '/meta?k=v;w&&=',
    "/meta/~user/!$&'()*+,;=:@", '/meta/%C3%A9t%C3%A9', '/meta/a.b/c-d_e', '/meta?a=/b?c',
  ]);
}

/** The header fields of a valid request besides Host and framing, as raw lines. */
function fieldsOf(g: Gen, state: { givenCallId?: string; hasForwardedHost: boolean }): string[] {
  const lines: string[] = [];
  const count = g.int(7);
  // Each kind at most once: a repeated singleton field is a known difference with its own test below.
  const used = new Set<number>();
  for (let i = 0; i < count; i += 1) {
    const kind = g.int(16);
    if (used.has(kind) && kind !== 15) continue;
    used.add(kind);
    switch (kind) {
      case 0: lines.push(`${g.casing('user-agent')}: parity/1.0 (x; y)`); break;
      case 1: lines.push(`${g.casing('accept')}: ${g.pick(['application/json', '*/*', 'text/plain', 'text/html, application/json;q=0.9'])}`); break;
      case 2: {
        const name = g.casing('x-multi');
        for (let n = 0; n < 2 + g.int(2); n += 1) lines.push(`${name}: value-${n}`);
        break;
      }
      case 3: lines.push(`${g.casing('x-empty')}:${g.pick(['', ' ', '\t'])}`); break;
      case 4: lines.push(`${g.casing('x-spaces')}: ${g.pick(['a  b', 'a\tb', ' \tpadded\t ', 'x \t y'])}`); break;
      case 5: lines.push(`${g.casing('x-obs')}: caf\xe9 \x80\xff${String.fromCharCode(0x80 + g.int(128))}`); break;
      case 6: lines.push(`${g.casing('x-forwarded-for')}: 10.1.2.${g.int(255)}`); break;
      case 7:
        if (state.givenCallId !== undefined) break;
        if (g.chance(0.5)) {
          state.givenCallId = `caller-${g.int(1e6)}`;
          lines.push(`${g.casing('x-call-id')}: ${state.givenCallId}`);
        } else {
          state.givenCallId = '';
          lines.push(`${g.casing('x-call-id')}:`);
        }
        break;
      case 8: lines.push(`${g.pick(['TE', 'te'])}: trailers`); break;
      case 9: lines.push('Trailer: X-Later'); break;
      case 10: lines.push('Proxy-Authorization: Basic Zm9vOmJhcg=='); break;
      case 11: lines.push(`${g.casing('keep-alive')}: timeout=5`); break;
      case 12: lines.push(`${g.casing('upgrade-insecure-requests')}: 1`); break;
      case 13: lines.push(`${g.casing('connection')}: ${g.pick(['close', 'keep-alive', 'Keep-Alive', 'close, x-dropped'])}`, 'X-Dropped: by-connection'); break;
      case 14:
        if (state.hasForwardedHost) break;
        state.hasForwardedHost = true;
        lines.push(`${g.casing('x-forwarded-host')}: fwd.example`);
        break;
      default: lines.push(`${g.casing('x-custom-' + g.int(5))}: ${g.pick(['1', 'a=b; c="d e"', '{"json":true}', 'ümlaut-free'])}`);
    }
  }
  return lines;
}

function bodyOf(g: Gen, method: string): Buffer | undefined {
  if (method === 'HEAD' || g.chance(0.35)) return undefined;
  switch (g.int(5)) {
    case 0: return Buffer.alloc(0);
    case 1: return Buffer.from('hello parity '.repeat(1 + g.int(10)), 'utf8');
    case 2: return g.bytes(1 + g.int(2000));
    case 3: return g.bytes(g.pick([16 * 1024, 64 * 1024 - 1, 64 * 1024]));
    default: return Buffer.from(JSON.stringify({ n: g.int(1000), s: 'x'.repeat(g.int(200)) }));
  }
}

/** The seeded corpus of valid requests (to echo, echo.openfaas-fn, and a function that is down). */
export function validCorpus(seed: number, size: number): Case[] {
  const g = new Gen(prng(seed));
  const cases: Case[] = [];
  for (let i = 0; i < size; i += 1) {
    const method = g.pick(METHODS);
    const fn = g.chance(0.1) ? 'down' : g.pick(['echo', 'echo', 'echo.openfaas-fn']);
    const target = `/function/${fn}${suffixOf(g)}`;
    const host = g.pick(['example.com', 'Example.COM:8080', 'gw.local', '127.0.0.1:9']);
    const state: { givenCallId?: string; hasForwardedHost: boolean } = { hasForwardedHost: false };
    const lines = [`${g.casing('host')}: ${host}`, ...fieldsOf(g, state)];
    const body = bodyOf(g, method);
    if (body) {
      lines.push(`${g.casing('content-length')}: ${body.length}`);
      if (body.length > 0 && g.chance(0.7)) lines.push(`${g.casing('content-type')}: ${g.pick(['text/plain', 'application/octet-stream', 'application/json'])}`);
    }
    // Shuffle, so Host and framing are not always first.
    for (let k = lines.length - 1; k > 0; k -= 1) {
      const j = g.int(k + 1);
      [lines[k], lines[j]] = [lines[j], lines[k]];
    }
    const head = Buffer.from(`${method} ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    cases.push({
      label: `#${i} ${method} ${target.length > 80 ? target.slice(0, 80) + '...' : target}`,
      bytes: body ? Buffer.concat([head, body]) : head,
      isHead: method === 'HEAD',
      host,
      givenCallId: state.givenCallId || undefined,
      hasForwardedHost: state.hasForwardedHost,
    });
  }
  return cases;
}

/** Malformed or unservable requests: both paths must answer with the same status. */
export const INVALID: readonly [string, string][] = [
  ['space in a field name', 'GET /function/echo/meta HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n'],
  ['space before the colon', 'GET /function/echo/meta HTTP/1.1\r\nHost : a\r\n\r\n'],
  ['control byte in a field name', 'GET /function/echo/meta HTTP/1.1\r\nHost: a\r\nX-A\x01: x\r\n\r\n'],
  ['bad method token', 'G(T /function/echo/meta HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['bare LF line ends', 'GET /function/echo/meta HTTP/1.1\nHost: a\nX-A: b\n\n'],
  ['bare LF inside the head', 'GET /function/echo/meta HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n'],
  ['obs-fold', 'GET /function/echo/meta HTTP/1.1\r\nHost: a\r\nX-Fold: a\r\n b\r\n\r\n'],
  ['two equal Content-Lengths', 'POST /function/echo/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc'],
  ['two different Content-Lengths', 'POST /function/echo/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
  ['Content-Length not a number', 'POST /function/echo/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3x\r\n\r\nabc'],
  ['Content-Length with a sign', 'POST /function/echo/echo HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc'],
  ['Content-Length and Transfer-Encoding', 'POST /function/echo/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
  ['Transfer-Encoding not ending in chunked', 'POST /function/echo/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc'],
  ['no Host', 'GET /function/echo/meta HTTP/1.1\r\nX-A: b\r\n\r\n'],
  ['two Hosts', 'GET /function/echo/meta HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
  ['NUL in a value', 'GET /function/echo/meta HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n'],
  ['DEL in a value', 'GET /function/echo/meta HTTP/1.1\r\nHost: a\r\nX-A: b\x7fc\r\n\r\n'],
  ['space in the target', 'GET /function/echo/a b HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form target', 'GET http://a/function/echo/meta HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['unknown function', 'GET /function/nope/meta HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['unknown namespace', 'GET /function/echo.elsewhere/meta HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['invalid function name', 'GET /function/Bad_Name!/meta HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['empty function name', 'GET /function//meta HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['trailing dot in the name', 'GET /function/echo./meta HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['HTTP/1.0', 'GET /function/echo/meta HTTP/1.0\r\nHost: a\r\n\r\n'],
  ['HTTP/2.0 version', 'GET /function/echo/meta HTTP/2.0\r\nHost: a\r\n\r\n'],
];
