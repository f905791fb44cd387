// The express lane serves a request only when its own head parser accepts it, so a lax acceptance
// here is a framing defect; these tests pin what is accepted and, above all, what must be refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fieldOf, MAX_FIELDS, parseRequestHead, parseResponseHead } from '../../src/gateway/express/http1-head.js';

/** Joins a start line and field lines the way they arrive: CRLF between, no final CRLF CRLF. */
function head(...lines: string[]): string {
  return lines.join('\r\n');
}

function refuses(text: string, why: string): void {
  assert.equal(parseRequestHead(text), undefined, `should refuse ${why}: ${JSON.stringify(text)}`);
}

describe('express lane - request heads accepted', () => {
  test('express lane - typical GET keeps method, target and fields in order', () => {
    const parsed = parseRequestHead(head('GET /function/echo HTTP/1.1', 'Host: 127.0.0.1:8080', 'User-Agent: curl/8.5.0', 'Accept: */*'));
    assert.ok(parsed);
    assert.equal(parsed.method, 'GET');
    assert.equal(parsed.target, '/function/echo');
    assert.deepEqual(parsed.names, ['Host', 'User-Agent', 'Accept']);
    assert.deepEqual(parsed.values, ['127.0.0.1:8080', 'curl/8.5.0', '*/*']);
    assert.equal(parsed.contentLength, -1);
    assert.equal(parsed.hasTransferEncoding, false);
    assert.deepEqual(parsed.connection, []);
  });

  test('express lane - a request line alone (no fields) is a valid head', () => {
    const parsed = parseRequestHead('GET / HTTP/1.1');
    assert.ok(parsed);
    assert.equal(parsed.target, '/');
    assert.deepEqual(parsed.names, []);
  });

  test('express lane - POST with Content-Length parses the length', () => {
    const parsed = parseRequestHead(head('POST /function/echo HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 1234'));
    assert.ok(parsed);
    assert.equal(parsed.method, 'POST');
    assert.equal(parsed.contentLength, 1234);
    assert.equal(fieldOf(parsed, 'content-type'), 'application/json');
  });

  test('express lane - Content-Length 0, leading zeros and 15 digits are exact numbers', () => {
    assert.equal(parseRequestHead(head('POST / HTTP/1.1', 'Content-Length: 0'))?.contentLength, 0);
    assert.equal(parseRequestHead(head('POST / HTTP/1.1', 'Content-Length: 007'))?.contentLength, 7);
    assert.equal(parseRequestHead(head('POST / HTTP/1.1', 'Content-Length: 999999999999999'))?.contentLength, 999999999999999);
  });

  test('express lane - values lose surrounding spaces and tabs but keep inner ones', () => {
    const parsed = parseRequestHead(head('GET / HTTP/1.1', 'X-A:  one two\t three \t', 'X-B:\tv', 'X-Empty:', 'X-Blank:   '));
    assert.ok(parsed);
    assert.deepEqual(parsed.values, ['one two\t three', 'v', '', '']);
  });

  test('express lane - field name case is kept in names and lowered in lowerNames', () => {
    const parsed = parseRequestHead(head('GET / HTTP/1.1', 'X-Call-ID: a', 'content-TYPE: text/plain', 'HOST: h'));
    assert.ok(parsed);
    assert.deepEqual(parsed.names, ['X-Call-ID', 'content-TYPE', 'HOST']);
    assert.deepEqual(parsed.lowerNames, ['x-call-id', 'content-type', 'host']);
    assert.equal(fieldOf(parsed, 'host'), 'h');
    assert.equal(fieldOf(parsed, 'Host'), undefined, 'fieldOf takes the lower-cased name');
    assert.equal(fieldOf(parsed, 'absent'), undefined);
  });

  test('express lane - fieldOf returns the first of repeated fields', () => {
    const parsed = parseRequestHead(head('GET / HTTP/1.1', 'X-R: 1', 'x-r: 2'));
    assert.ok(parsed);
    assert.equal(fieldOf(parsed, 'x-r'), '1');
    assert.deepEqual(parsed.values, ['1', '2']);
  });

  test('express lane - Connection tokens are lower-cased and split on commas across fields', () => {
    const parsed = parseRequestHead(head('GET / HTTP/1.1', 'Connection: Keep-Alive, Upgrade', 'connection: ,CLOSE ,, te'));
    assert.ok(parsed);
    assert.deepEqual(parsed.connection, ['keep-alive', 'upgrade', 'close', 'te']);
    assert.deepEqual(parsed.values, ['Keep-Alive, Upgrade', ',CLOSE ,, te'], 'values keep their case');
  });

  test('express lane - query strings and encoded bytes stay in the target', () => {
    assert.equal(parseRequestHead('GET /function/echo?a=1&b=%20x#f HTTP/1.1')?.target, '/function/echo?a=1&b=%20x#f');
    assert.equal(parseRequestHead('DELETE /system/functions?x=[1] HTTP/1.1')?.method, 'DELETE');
  });

  test('express lane - any token method is accepted as a method', () => {
    assert.equal(parseRequestHead('PATCH / HTTP/1.1')?.method, 'PATCH');
    assert.equal(parseRequestHead('M-SEARCH / HTTP/1.1')?.method, 'M-SEARCH');
  });

  test('express lane - Transfer-Encoding alone is accepted and flagged', () => {
    const parsed = parseRequestHead(head('POST / HTTP/1.1', 'Transfer-Encoding: chunked'));
    assert.ok(parsed);
    assert.equal(parsed.hasTransferEncoding, true);
    assert.equal(parsed.contentLength, -1);
  });

  test('express lane - exactly MAX_FIELDS fields is accepted', () => {
    const fields = Array.from({ length: MAX_FIELDS }, (_, i) => `X-F${i}: ${i}`);
    const parsed = parseRequestHead(head('GET / HTTP/1.1', ...fields));
    assert.ok(parsed);
    assert.equal(parsed.names.length, MAX_FIELDS);
  });

  test('express lane - obs-text (bytes 0x80-0xff) inside a value is allowed', () => {
    assert.equal(parseRequestHead(head('GET / HTTP/1.1', 'X-Name: caf\xe9 ok'))?.values[0], 'caf\xe9 ok');
  });
});

describe('express lane - request heads refused', () => {
  test('express lane - versions other than HTTP/1.1 are refused', () => {
    refuses('GET / HTTP/1.0', 'HTTP/1.0');
    refuses('GET / HTTP/2', 'HTTP/2');
    refuses('GET / HTTP/2.0', 'HTTP/2.0');
    refuses('GET / HTTP/1.2', 'HTTP/1.2');
    refuses('GET / http/1.1', 'lowercase version');
    refuses('GET / HTTP/1.1 ', 'trailing space after version');
    refuses('GET /', 'missing version');
  });

  test('express lane - malformed request lines are refused', () => {
    refuses('GET HTTP/1.1', 'missing target');
    refuses('GET  HTTP/1.1', 'empty target');
    refuses(' GET / HTTP/1.1', 'leading space');
    refuses('GET  / HTTP/1.1', 'two spaces before target');
    refuses('GET /  HTTP/1.1', 'two spaces after target');
    refuses('GET\t/ HTTP/1.1', 'tab as separator');
    refuses('G(T / HTTP/1.1', 'non-token method');
    refuses('/ HTTP/1.1', 'missing method');
    refuses('', 'empty head');
  });

  test('express lane - targets not in origin-form are refused', () => {
    refuses('GET http://example.com/ HTTP/1.1', 'absolute-form');
    refuses('OPTIONS * HTTP/1.1', 'asterisk-form');
    refuses('CONNECT example.com:443 HTTP/1.1', 'authority-form');
    refuses('GET a/b HTTP/1.1', 'relative target');
  });

  test('express lane - spaces and control bytes in the target are refused', () => {
    refuses('GET /a b HTTP/1.1', 'space in target');
    refuses('GET /a\x00b HTTP/1.1', 'NUL in target');
    refuses('GET /a\x7fb HTTP/1.1', 'DEL in target');
    refuses('GET /a\tb HTTP/1.1', 'tab in target');
    refuses('GET /a\x01 HTTP/1.1', 'control in target');
    refuses('GET /a\rb HTTP/1.1', 'CR in target');
    refuses('GET /a\nb HTTP/1.1', 'LF in target');
  });

  test('express lane - obs-fold continuation lines are refused', () => {
    refuses(head('GET / HTTP/1.1', 'X-A: one', ' two'), 'fold with SP');
    refuses(head('GET / HTTP/1.1', 'X-A: one', '\ttwo'), 'fold with HTAB');
    refuses(head('GET / HTTP/1.1', 'X-A: one', ' X-B: two'), 'fold that looks like a field');
    refuses(head('GET / HTTP/1.1', ' Host: x'), 'first field line starting with SP');
  });

  test('express lane - bare LF or CR inside the head is refused', () => {
    refuses('GET / HTTP/1.1\nHost: x', 'bare LF after the request line');
    refuses(head('GET / HTTP/1.1', 'Host: x\nX-A: y'), 'bare LF between fields');
    refuses(head('GET / HTTP/1.1', 'X-A: a\nb'), 'bare LF inside a value');
    refuses(head('GET / HTTP/1.1', 'X-A: a\rb'), 'bare CR inside a value');
    refuses(head('GET / HTTP/1.1', 'X-A\r: b'), 'bare CR in a name');
    refuses(head('GET / HTTP/1.1', 'Host: x', ''), 'an empty line inside the head');
  });

  test('express lane - field lines without a valid name are refused', () => {
    refuses(head('GET / HTTP/1.1', 'Host x'), 'no colon');
    refuses(head('GET / HTTP/1.1', ': x'), 'empty name');
    refuses(head('GET / HTTP/1.1', 'Host : x'), 'space before colon');
    refuses(head('GET / HTTP/1.1', 'Host\t: x'), 'tab before colon');
    refuses(head('GET / HTTP/1.1', 'X(A): x'), 'parenthesis in name');
    refuses(head('GET / HTTP/1.1', 'X"A: x'), 'quote in name');
    refuses(head('GET / HTTP/1.1', 'X/A: x'), 'slash in name');
    refuses(head('GET / HTTP/1.1', 'X@A: x'), 'at sign in name');
    refuses(head('GET / HTTP/1.1', 'X\x00A: x'), 'NUL in name');
    refuses(head('GET / HTTP/1.1', 'caf\xe9: x'), 'non-ASCII in name');
  });

  test('express lane - control bytes in a value are refused', () => {
    refuses(head('GET / HTTP/1.1', 'X-A: a\x00b'), 'NUL in value');
    refuses(head('GET / HTTP/1.1', 'X-A: a\x7fb'), 'DEL in value');
    refuses(head('GET / HTTP/1.1', 'X-A: a\x1bb'), 'ESC in value');
    refuses(head('GET / HTTP/1.1', 'X-A: a\x0bb'), 'VT inside value');
  });

  test('express lane - two Content-Length fields are refused, equal or not', () => {
    refuses(head('POST / HTTP/1.1', 'Content-Length: 5', 'Content-Length: 5'), 'equal CLs');
    refuses(head('POST / HTTP/1.1', 'Content-Length: 5', 'content-length: 6'), 'different CLs');
    refuses(head('POST / HTTP/1.1', 'Content-Length: 5, 5'), 'list CL');
  });

  test('express lane - Content-Length that is not plain decimal digits is refused', () => {
    for (const value of ['abc', '', '-1', '+5', '0x10', '1e3', '5.0', '5 5', '1_0', '\uff15', '1234567890123456']) {
      refuses(head('POST / HTTP/1.1', `Content-Length: ${value}`), `Content-Length ${JSON.stringify(value)}`);
    }
  });

  test('express lane - Content-Length together with Transfer-Encoding is refused', () => {
    refuses(head('POST / HTTP/1.1', 'Content-Length: 5', 'Transfer-Encoding: chunked'), 'CL then TE');
    refuses(head('POST / HTTP/1.1', 'Transfer-Encoding: chunked', 'Content-Length: 5'), 'TE then CL');
    refuses(head('POST / HTTP/1.1', 'transfer-encoding: identity', 'content-length: 0'), 'TE identity with CL 0');
  });

  test('express lane - more than MAX_FIELDS fields is refused', () => {
    const fields = Array.from({ length: MAX_FIELDS + 1 }, (_, i) => `X-F${i}: ${i}`);
    refuses(head('GET / HTTP/1.1', ...fields), 'MAX_FIELDS + 1 fields');
  });
});

// Only SP and HTAB are optional whitespace around a value: a parser that trimmed CR, LF, VT, FF or
// NBSP too would accept heads Node's own parser refuses (HPE_CR_EXPECTED, HPE_LF_EXPECTED,
// HPE_INVALID_CONTENT_LENGTH, HPE_INVALID_HEADER_TOKEN), which is how requests get smuggled.
describe('express lane - request heads refused: whitespace beyond SP and HTAB', () => {
  test('express lane - bare LF at the end of a value is refused', () => {
    refuses(head('GET / HTTP/1.1', 'Host: a\n', 'X-B: b'), 'bare LF ending a value');
    refuses(head('GET / HTTP/1.1', 'Host: a\n'), 'bare LF ending the last value');
  });
  test('express lane - bare CR at the end of a value is refused', () => {
    refuses(head('GET / HTTP/1.1', 'Host: a\r'), 'bare CR ending the last value');
    refuses(head('GET / HTTP/1.1', 'X-A: \ra', 'Host: a'), 'bare CR starting a value');
  });
  test('express lane - VT, FF and NBSP around a value are refused', () => {
    refuses(head('GET / HTTP/1.1', 'X-A: \x0ba'), 'VT before a value');
    refuses(head('GET / HTTP/1.1', 'X-A: a\x0c'), 'FF after a value');
    refuses(head('POST / HTTP/1.1', 'Content-Length: 5\xa0'), 'NBSP after Content-Length');
    refuses(head('POST / HTTP/1.1', 'Content-Length: \x0b5'), 'VT before Content-Length');
  });
});

describe('express lane - response heads', () => {
  test('express lane - status, reason and minor version are parsed', () => {
    const parsed = parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Type: text/plain', 'Content-Length: 11'));
    assert.ok(parsed);
    assert.equal(parsed.status, 200);
    assert.equal(parsed.reason, 'OK');
    assert.equal(parsed.minorVersion, 1);
    assert.equal(parsed.contentLength, 11);
    assert.equal(parsed.isChunked, false);
    assert.deepEqual(parsed.names, ['Content-Type', 'Content-Length']);
  });

  test('express lane - HTTP/1.0 responses report minor version 0', () => {
    const parsed = parseResponseHead('HTTP/1.0 404 Not Found');
    assert.ok(parsed);
    assert.equal(parsed.minorVersion, 0);
    assert.equal(parsed.status, 404);
    assert.equal(parsed.reason, 'Not Found');
  });

  test('express lane - reason phrases may hold spaces and tabs, or be empty', () => {
    assert.equal(parseResponseHead('HTTP/1.1 500 Internal\tServer  Error')?.reason, 'Internal\tServer  Error');
    const withSpace = parseResponseHead('HTTP/1.1 204 ');
    assert.ok(withSpace);
    assert.equal(withSpace.status, 204);
    assert.equal(withSpace.reason, '');
    const without = parseResponseHead('HTTP/1.1 204');
    assert.ok(without);
    assert.equal(without.status, 204);
    assert.equal(without.reason, '');
  });

  test('express lane - isChunked only when chunked is the last coding', () => {
    const chunked = (...te: string[]) => parseResponseHead(head('HTTP/1.1 200 OK', ...te.map((v) => `Transfer-Encoding: ${v}`)))?.isChunked;
    assert.equal(chunked('chunked'), true);
    assert.equal(chunked('Chunked'), true);
    assert.equal(chunked('gzip, chunked'), true);
    assert.equal(chunked('gzip,chunked'), true);
    assert.equal(chunked('chunked, gzip'), false);
    assert.equal(chunked('gzip'), false);
    assert.equal(chunked('xchunked'), false);
    assert.equal(chunked('gzip', 'chunked'), true, 'across two fields');
    assert.equal(chunked('chunked', 'gzip'), false, 'across two fields, chunked first');
    const plain = parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 0'));
    assert.equal(plain?.isChunked, false);
    assert.equal(plain?.hasTransferEncoding, false);
  });

  test('express lane - response framing conflicts and bad fields are refused', () => {
    assert.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 1', 'Transfer-Encoding: chunked')), undefined);
    assert.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 1', 'Content-Length: 1')), undefined);
    assert.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'Bad Name: x')), undefined);
    assert.equal(parseResponseHead(head('HTTP/1.1 200 OK', ' folded: x')), undefined);
  });

  test('express lane - bad status lines are refused', () => {
    for (const line of ['HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'HTTP/1.1 099 Low', 'HTTP/2 200 OK', 'HTTP/2.0 200 OK', 'HTTP/1.2 200 OK', 'http/1.1 200 OK', 'HTTP/1.1  200 OK', 'HTTP/1.1 2x0 OK', 'HTTP/1.1 200 O\x00K', 'HTTP/1.1 200 O\x7fK', 'HTTP/1.1 200OK', 'HTTP/1.1', '']) {
      assert.equal(parseResponseHead(line), undefined, `should refuse status line ${JSON.stringify(line)}`);
    }
  });
});
