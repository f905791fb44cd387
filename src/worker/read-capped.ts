// Keeps a function's whole response body but at most maxBytes of it, so one huge answer cannot
// blow up the stored result; the rest is read and dropped so the connection is freed. One
// accumulator for both ways a response arrives: pushed chunk by chunk (a ResponseSink) or read
// from a stream.
import type { Readable } from 'node:stream';

export class CappedBody {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private isTruncated = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    const room = this.maxBytes - this.kept;
    if (room <= 0) {
      if (chunk.length > 0) this.isTruncated = true;
      return;
    }
    if (chunk.length > room) {
      this.chunks.push(chunk.subarray(0, room));
      this.kept += room;
      this.isTruncated = true;
    } else {
      this.chunks.push(chunk);
      this.kept += chunk.length;
    }
  }

  take(): { body: Buffer; isTruncated: boolean } {
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.kept);
    return { body, isTruncated: this.isTruncated };
  }
}

export async function readCapped(stream: Readable, maxBytes: number): Promise<{ body: Buffer; isTruncated: boolean }> {
  const capped = new CappedBody(maxBytes);
  for await (const chunk of stream) capped.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return capped.take();
}
