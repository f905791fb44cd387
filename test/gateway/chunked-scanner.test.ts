// The express lane reuses a function's connection only after the chunked reply is over, so the
// scanner must find the exact end byte however the body is split, and throw on any bad framing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChunkedScanner } from '../../src/gateway/express/chunked-scanner.js';

function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** Scans `text` in one buffer on a fresh scanner. */
function scanWhole(text: string): number {
  return new ChunkedScanner().scan(bytes(text));
}

/** Feeds `text` one byte at a time; returns the index of the byte on which the scanner reported the end, or -1. */
function scanByteByByte(text: string): number {
  const scanner = new ChunkedScanner();
  const all = bytes(text);
  for (let i = 0; i < all.length; i += 1) {
    const end = scanner.scan(all.subarray(i, i + 1));
    if (end !== -1) {
      assert.equal(end, 1, 'a one-byte buffer ends after its only byte');
      return i;
    }
  }
  return -1;
}

/** Feeds `text` whole or byte by byte and expects a throw before the end is reported. */
function assertThrows(text: string, why: string): void {
  assert.throws(() => scanWhole(text), Error, `whole: ${why}`);
  assert.throws(() => scanByteByByte(text), Error, `byte by byte: ${why}`);
}

/** Small seeded generator (mulberry32) so a failing property run can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SIMPLE = '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';

describe('express lane - chunked scanner finds the end', () => {
  test('express lane - whole body in one buffer returns the exact end offset', () => {
    assert.equal(scanWhole(SIMPLE), SIMPLE.length);
    assert.equal(scanWhole('0\r\n\r\n'), 5);
  });

  test('express lane - bytes after the body are left alone', () => {
    const next = 'HTTP/1.1 200 OK\r\n\r\n';
    const scanner = new ChunkedScanner();
    assert.equal(scanner.scan(bytes(SIMPLE + next)), SIMPLE.length);
    assert.equal(scanner.isDone, true);
    assert.equal(new ChunkedScanner().scan(bytes(SIMPLE + '0\r\n\r\n')), SIMPLE.length, 'a second body is not swallowed');
  });

  test('express lane - byte-by-byte feeding ends on the last byte', () => {
    assert.equal(scanByteByByte(SIMPLE), SIMPLE.length - 1);
    assert.equal(scanByteByByte(SIMPLE + 'trailing junk'), SIMPLE.length - 1);
  });

  test('express lane - -1 until the final LF arrives, and isDone follows', () => {
    const scanner = new ChunkedScanner();
    const all = bytes(SIMPLE);
    assert.equal(scanner.scan(all.subarray(0, all.length - 1)), -1);
    assert.equal(scanner.isDone, false);
    assert.equal(scanner.scan(all.subarray(all.length - 1)), 1);
    assert.equal(scanner.isDone, true);
  });

  test('express lane - the start offset is honoured', () => {
    const prefix = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    const all = bytes(prefix + SIMPLE + 'rest');
    assert.equal(new ChunkedScanner().scan(all, prefix.length), prefix.length + SIMPLE.length);
    // Bytes before `start` are never read: garbage there must not matter.
    const garbage = Buffer.concat([bytes('\x00\n\rzz'), bytes(SIMPLE)]);
    assert.equal(new ChunkedScanner().scan(garbage, 5), garbage.length);
    assert.equal(new ChunkedScanner().scan(bytes(SIMPLE), SIMPLE.length), -1, 'start at the end reads nothing');
  });

  test('express lane - chunk extensions are skipped', () => {
    const body = '5;a=b\r\nhello\r\n3 ; name="q;x" ;c\r\nabc\r\n0;last\r\n\r\n';
    assert.equal(scanWhole(body), body.length);
    assert.equal(scanByteByByte(body), body.length - 1);
  });

  test('express lane - trailers are skipped up to the empty line', () => {
    const body = '3\r\nabc\r\n0\r\nX-T: 1\r\nX-Checksum: abc def\r\n\r\n';
    assert.equal(scanWhole(body + 'next'), body.length);
    assert.equal(scanByteByByte(body), body.length - 1);
    assert.equal(scanWhole('0\r\nX-T: 1\r\n\r\n'), '0\r\nX-T: 1\r\n\r\n'.length);
  });

  test('express lane - upper and lower case hex sizes and leading zeros', () => {
    const data = 'x'.repeat(0xab);
    for (const size of ['ab', 'AB', 'aB', '00ab', '0000000000ab']) {
      const body = `${size}\r\n${data}\r\n0\r\n\r\n`;
      assert.equal(scanWhole(body), body.length, `size ${size}`);
    }
    const fAll = 'y'.repeat(0xfff);
    assert.equal(scanWhole(`FfF\r\n${fAll}\r\n0\r\n\r\n`), 0xfff + 12);
  });

  test('express lane - chunk data may hold CR, LF and bytes that look like framing', () => {
    const body = '7\r\n\r\n0\r\n\r\n\r\n0\r\n\r\n';
    assert.equal(scanWhole(body), body.length);
  });

  test('express lane - a large declared chunk spans many buffers', () => {
    const size = 0x100000;
    const scanner = new ChunkedScanner();
    assert.equal(scanner.scan(bytes(size.toString(16) + '\r\n')), -1);
    const piece = Buffer.alloc(64 * 1024, 0x0d);
    for (let sent = 0; sent < size; sent += piece.length) {
      assert.equal(scanner.scan(piece), -1, `at ${sent}`);
    }
    assert.equal(scanner.isDone, false);
    const tail = bytes('\r\n0\r\n\r\nXYZ');
    assert.equal(scanner.scan(tail), tail.length - 3);
    assert.equal(scanner.isDone, true);
  });

  test('express lane - after the end, further scans read nothing', () => {
    const scanner = new ChunkedScanner();
    assert.equal(scanner.scan(bytes('0\r\n\r\n')), 5);
    assert.equal(scanner.scan(bytes('garbage'), 2), 2);
    assert.equal(scanner.isDone, true);
  });
});

describe('express lane - chunked scanner throws on bad framing', () => {
  test('express lane - missing CRLF after chunk data throws', () => {
    assertThrows('5\r\nhelloX\r\n0\r\n\r\n', 'data longer than declared');
    assertThrows('5\r\nhello\rX0\r\n\r\n', 'CR without LF after data');
    assertThrows('5\r\nhello\n0\r\n\r\n', 'bare LF after data');
    assertThrows('5\r\nhell\r\n0\r\n\r\n', 'data shorter than declared');
  });

  test('express lane - bare LF or lone CR after the size throws', () => {
    assertThrows('5\nhello\r\n0\r\n\r\n', 'bare LF after size');
    assertThrows('5\rhello\r\n0\r\n\r\n', 'CR without LF after size');
    assertThrows('5;ext\nhello\r\n0\r\n\r\n', 'bare LF after extension');
    assertThrows('0\n\r\n', 'bare LF after last size');
  });

  test('express lane - non-hex and empty sizes throw', () => {
    assertThrows('g\r\n', 'non-hex size');
    assertThrows('5x\r\nhello\r\n0\r\n\r\n', 'hex followed by junk');
    assertThrows('-5\r\nhello\r\n', 'negative size');
    assertThrows('0x5\r\nhello\r\n', '0x prefix');
    assertThrows('\r\n', 'empty size line');
    assertThrows(';a=b\r\n', 'extension without size');
    assertThrows(' 5\r\nhello\r\n', 'leading space');
    assertThrows('5\r\nhello\r\n\r\n', 'empty size line after a chunk');
  });

  test('express lane - a size with more than 12 significant hex digits throws; leading zeros do not count (as in llhttp)', () => {
    assert.doesNotThrow(() => scanWhole('ffffffffffff\r\n'));
    assertThrows('1000000000000\r\n', '13 digits');
    assert.doesNotThrow(() => scanWhole('0000000000005\r\nhello\r\n0\r\n\r\n'));
    assertThrows('00001000000000000\r\n', '13 significant digits after zeros');
  });

  test('express lane - control bytes in an extension throw', () => {
    assertThrows('5;a\x00\r\nhello\r\n0\r\n\r\n', 'NUL in extension');
    assertThrows('5;a\x7f\r\nhello\r\n0\r\n\r\n', 'DEL in extension');
  });

  test('express lane - an extension line past 4096 bytes throws', () => {
    assertThrows(`5;${'a'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`, 'long extension');
  });

  test('express lane - bare LF inside a trailer line throws', () => {
    assertThrows('0\r\nX-T: 1\nX-U: 2\r\n\r\n', 'bare LF inside a trailer');
    assertThrows('0\r\nX-T: 1\r\r\n', 'CR without LF after trailer');
  });

  test('express lane - a trailer line past 4096 bytes throws', () => {
    assertThrows(`0\r\nX-T: ${'a'.repeat(5000)}\r\n\r\n`, 'long trailer');
  });

  test('express lane - anything but LF after the final CR throws', () => {
    assertThrows('0\r\n\rX', 'garbage after the final CR');
    assertThrows('0\r\n\r\r\n', 'CR CR LF as the final line');
    assertThrows('0\r\nX-T: 1\r\n\r\r', 'garbage after trailer section CR');
  });
});

// Trailer lines are field lines: a bare LF, a line without a name and colon, or control bytes in a
// value end the scan, so a reply cannot hide bytes after its body in a fake trailer.
describe('express lane - chunked scanner throws on bad trailers', () => {
  test('express lane - bare LF at the start of a trailer line throws', () => {
    assertThrows('0\r\n\nX-T: 1\r\n\r\n', 'bare LF right after the last chunk');
    assertThrows('0\r\n\n\r\n\r\n', 'bare LF as an empty line');
    assertThrows('0\r\nX-T: 1\r\n\n\r\n', 'bare LF after a trailer');
  });

  test('express lane - a trailer line that is not a field line throws', () => {
    assertThrows('0\r\ngarbage\r\n\r\n', 'trailer without colon');
    assertThrows('0\r\nX-T: a\x00b\r\n\r\n', 'NUL in trailer value');
    assertThrows('0\r\n X-T: 1\r\n\r\n', 'trailer starting with SP');
  });
});

describe('express lane - chunked scanner property', () => {
  test('express lane - random bodies split at random points end at the encoded length', () => {
    const random = seeded(0x5eed);
    const int = (max: number) => Math.floor(random() * max);
    for (let round = 0; round < 200; round += 1) {
      const parts: Buffer[] = [];
      let chunks = int(6);
      while (chunks-- > 0) {
        const size = 1 + int(int(4) === 0 ? 5000 : 300);
        let hex = size.toString(16);
        hex = '0'.repeat(int(Math.min(3, 12 - hex.length) + 1)) + hex;
        if (int(2) === 0) hex = hex.toUpperCase();
        const extension = int(4) === 0 ? `;k${int(100)}=v` : '';
        const data = Buffer.alloc(size);
        for (let i = 0; i < size; i += 1) data[i] = int(256);
        parts.push(bytes(`${hex}${extension}\r\n`), data, bytes('\r\n'));
      }
      const trailers = int(3) === 0 ? `X-T${int(9)}: ${int(1000)}\r\n` : '';
      parts.push(bytes(`${'0'.repeat(1 + int(3))}\r\n${trailers}\r\n`));
      const encoded = Buffer.concat(parts);
      const after = Buffer.alloc(int(20), 0x41);
      const stream = Buffer.concat([encoded, after]);

      // Fed in random slices, some of them inside a larger buffer through `start`.
      const scanner = new ChunkedScanner();
      let offset = 0;
      let end = -1;
      for (let step = 0; step < stream.length && end === -1; step += 1) {
        const length = Math.min(stream.length - offset, 1 + int(int(3) === 0 ? 4 : 700));
        if (length <= 0) break;
        const pad = int(3) === 0 ? int(16) : 0;
        const buffer = Buffer.concat([Buffer.alloc(pad, 0x0a), stream.subarray(offset, offset + length)]);
        const at = scanner.scan(buffer, pad);
        if (at !== -1) end = offset + at - pad;
        offset += length;
      }
      assert.equal(end, encoded.length, `round ${round}: end offset`);
      assert.equal(scanner.isDone, true);

      // And whole, in one buffer.
      assert.equal(new ChunkedScanner().scan(stream), encoded.length, `round ${round}: whole`);
    }
  });

  test('express lane - every strict prefix of a body needs more bytes', () => {
    const random = seeded(42);
    for (let round = 0; round < 20; round += 1) {
      const size = 1 + Math.floor(random() * 40);
      const body = `${size.toString(16)};e\r\n${'z'.repeat(size)}\r\n0\r\nX: y\r\n\r\n`;
      assert.equal(scanByteByByte(body), body.length - 1, `round ${round}`);
      for (let cut = 0; cut < body.length; cut += 1) {
        assert.equal(new ChunkedScanner().scan(bytes(body.slice(0, cut))), -1, `round ${round}, prefix ${cut}`);
      }
    }
  });
});
