// Results in a KV bucket. A result may be as large as queue.maxResultBytes (1 MiB by default),
// which with its head is more than a default nats-server's max_payload (exactly 1 MiB), so a large
// one is stored as chunks <key>.c<N> written first and a small index entry under <key> last.
import type { KV } from '@nats-io/kv';
import type { CallResult } from '../queue.js';
import { decodeResult, encodeResult } from './codec.js';
import type { JetStreamNames } from './names.js';

/** Room left under max_payload for the KV message's own headers. */
const HEADROOM_BYTES = 4096;

interface ChunkIndex {
  readonly chunks: number;
  readonly bytes: number;
}

function chunkKey(key: string, index: number): string {
  return `${key}.c${index}`;
}

export interface CallResults {
  put(callId: string, result: CallResult): Promise<void>;
  get(callId: string): Promise<CallResult | undefined>;
}

export function createCallResults(kv: KV, names: JetStreamNames, maxPayload: () => number): CallResults {
  return {
    async put(callId, result) {
      const key = names.key(callId);
      const frame = encodeResult(result);
      const chunkBytes = Math.max(1024, maxPayload() - HEADROOM_BYTES);
      if (frame.length <= chunkBytes) {
        await kv.put(key, frame);
        return;
      }
      const chunks = Math.ceil(frame.length / chunkBytes);
      for (let i = 0; i < chunks; i++) await kv.put(chunkKey(key, i), frame.subarray(i * chunkBytes, (i + 1) * chunkBytes));
      const index: ChunkIndex = { chunks, bytes: frame.length };
      await kv.put(key, encodeResult({ status: 0, headers: { 'x-faasq-chunks': JSON.stringify(index) }, body: Buffer.alloc(0), isTruncated: false }));
    },
    async get(callId) {
      const key = names.key(callId);
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT') return undefined;
      const stored = decodeResult(entry.value);
      const marker = stored.status === 0 ? stored.headers['x-faasq-chunks'] : undefined;
      if (typeof marker !== 'string') return stored;
      const index = JSON.parse(marker) as ChunkIndex;
      const parts: Buffer[] = [];
      for (let i = 0; i < index.chunks; i++) {
        const part = await kv.get(chunkKey(key, i));
        // A chunk already gone (retention) means the result is gone.
        if (!part || part.operation !== 'PUT') return undefined;
        parts.push(Buffer.from(part.value));
      }
      const whole = Buffer.concat(parts);
      return whole.length === index.bytes ? decodeResult(whole) : undefined;
    },
  };
}
