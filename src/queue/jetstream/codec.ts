// Wire formats of what the JetStream backend stores: a length-prefixed JSON head followed by raw
// bytes, so bodies travel without base64 and NATS headers never carry user data.
import type { CallMessage, CallRecord, CallResult, DeadLetter } from '../queue.js';

const OPEN_BRACE = 0x7b;

function frame(head: unknown, tail: Uint8Array): Uint8Array {
  // The JSON is written straight into the frame: no intermediate buffer and copy (hot: every accept).
  const json = JSON.stringify(head);
  const length = Buffer.byteLength(json, 'utf8');
  const out = Buffer.allocUnsafe(4 + length + tail.length);
  out.writeUInt32BE(length, 0);
  out.write(json, 4, 'utf8');
  out.set(tail, 4 + length);
  return out;
}

function unframe<T>(data: Uint8Array): { head: T; tail: Buffer } {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < 4) throw new Error('frame too short');
  const length = buf.readUInt32BE(0);
  if (4 + length > buf.length) throw new Error('frame head longer than the frame');
  const head = JSON.parse(buf.subarray(4, 4 + length).toString('utf8')) as T;
  // Copied: the NATS client may reuse the receive buffer.
  return { head, tail: Buffer.from(buf.subarray(4 + length)) };
}

export function encodeMessage(message: CallMessage): Uint8Array {
  const { body, ...head } = message;
  return frame(head, body);
}

// The decoders add the tail to the freshly parsed head instead of spreading it into a new object
// (~1 µs less per delivered call: a spread that adds a key takes V8's slow path).
export function decodeMessage(data: Uint8Array): CallMessage {
  const { head, tail } = unframe<CallMessage>(data);
  (head as { body: Buffer }).body = tail;
  return head;
}

export function encodeResult(result: CallResult): Uint8Array {
  const { body, ...head } = result;
  return frame(head, body);
}

export function decodeResult(data: Uint8Array): CallResult {
  const { head, tail } = unframe<CallResult>(data);
  head.body = tail;
  return head;
}

export function encodeDeadLetter(deadLetter: DeadLetter): Uint8Array {
  const { message, ...head } = deadLetter;
  return frame(head, encodeMessage(message));
}

export function decodeDeadLetter(data: Uint8Array): DeadLetter {
  const { head, tail } = unframe<Omit<DeadLetter, 'message'>>(data);
  return { ...head, message: decodeMessage(tail) };
}

/**
 * A record is plain JSON, or, when it carries its call's (small) result inline, a frame whose head
 * is the record and whose tail is the encoded result: the final record and the result are then one
 * KV write. JSON starts with "{", a frame with its head length's high byte (0 below 16 MiB).
 */
export function encodeRecord(record: CallRecord, inlineResult?: Uint8Array): Uint8Array {
  return inlineResult ? frame(record, inlineResult) : Buffer.from(JSON.stringify(record), 'utf8');
}

export function decodeRecordEntry(data: Uint8Array): { record: CallRecord; inlineResult?: Uint8Array } {
  if (data.length > 0 && data[0] !== OPEN_BRACE) {
    const { head, tail } = unframe<CallRecord>(data);
    return { record: head, inlineResult: tail };
  }
  return { record: JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as CallRecord };
}
