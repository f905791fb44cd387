// Reads a function's whole response body but keeps at most maxBytes of it, so one huge answer
// cannot blow up the stored result; the rest is drained so the connection is freed.
import type { Readable } from 'node:stream';

export async function readCapped(stream: Readable, maxBytes: number): Promise<{ body: Buffer; isTruncated: boolean }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let isTruncated = false;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    if (kept >= maxBytes) {
      if (buf.length > 0) isTruncated = true;
      continue;
    }
    const room = maxBytes - kept;
    if (buf.length > room) {
      chunks.push(buf.subarray(0, room));
      kept += room;
      isTruncated = true;
    } else {
      chunks.push(buf);
      kept += buf.length;
    }
  }
  return { body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, kept), isTruncated };
}
