// Wire formats of what the JetStream backend stores: a length-prefixed JSON head followed by raw
// bytes, so bodies travel without base64 and NATS headers never carry user data.
import type { CallMessage, CallRecord, CallResult, DeadLetter } from '../queue.js';

function frame(head: unknown, tail: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(head), 'utf8');
  const out = Buffer.allocUnsafe(4 + json.length + tail.length);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  out.set(tail, 4 + json.length);
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

export function decodeMessage(data: Uint8Array): CallMessage {
  const { head, tail } = unframe<Omit<CallMessage, 'body'>>(data);
  return { ...head, body: tail };
}

export function encodeResult(result: CallResult): Uint8Array {
  const { body, ...head } = result;
  return frame(head, body);
}

export function decodeResult(data: Uint8Array): CallResult {
  const { head, tail } = unframe<Omit<CallResult, 'body'>>(data);
  return { ...head, body: tail };
}

export function encodeDeadLetter(deadLetter: DeadLetter): Uint8Array {
  const { message, ...head } = deadLetter;
  return frame(head, encodeMessage(message));
}

export function decodeDeadLetter(data: Uint8Array): DeadLetter {
  const { head, tail } = unframe<Omit<DeadLetter, 'message'>>(data);
  return { ...head, message: decodeMessage(tail) };
}

export function encodeRecord(record: CallRecord): Uint8Array {
  return Buffer.from(JSON.stringify(record), 'utf8');
}

export function decodeRecord(data: Uint8Array): CallRecord {
  return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as CallRecord;
}
