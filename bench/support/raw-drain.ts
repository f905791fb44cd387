// The raw drain baseline for the JetStream drain figure: what a minimal Node client on the official
// nats.js packages reaches draining the same queue through the same echo function, with none of
// faasq's bookkeeping. It runs in its own child process so its CPU time is its own and its heap and
// JIT start cold, as the faasq worker's do.
// Run alone: node --import tsx bench/support/raw-drain.ts '{"servers":"nats://127.0.0.1:4222","functionUrl":"http://127.0.0.1:8081","calls":10000,"inFlight":50,"variant":"kv"}'
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JsMsg } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Pool } from 'undici';
import { waitFor } from '../../test/support/wait-for.js';
import { cpuMicros } from './proc-cpu.js';

/** "kv": POST, then an awaited kv.put of a small record plus the result, then ack; "ack": POST, then ack. */
export type RawDrainVariant = 'kv' | 'ack';

export interface RawDrainOptions {
  readonly servers: string;
  /** Origin of an already running echo function (bench/functions/echo.mjs). */
  readonly functionUrl: string;
  readonly calls: number;
  readonly inFlight: number;
  readonly variant: RawDrainVariant;
}

export interface RawDrainResult {
  readonly variant: RawDrainVariant;
  readonly calls: number;
  /** From the first message received to the last ack. */
  readonly seconds: number;
  readonly rps: number;
  /** The client process's CPU (user + system) per call over the drain, from /proc. */
  readonly cpuUsPerCall: number;
}

const BODY_BYTES = 1024;
const MAX_CHILD_MS = 180_000;

/** Runs one raw drain in a child process (fresh stream and bucket, deleted after) and returns its result. */
export async function runRawDrain(options: RawDrainOptions): Promise<RawDrainResult> {
  const self = fileURLToPath(import.meta.url);
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', self, JSON.stringify(options)], { cwd: path.resolve(path.dirname(self), '../..'), timeout: MAX_CHILD_MS, maxBuffer: 1 << 20 }, (err, out, errOut) => {
      if (err) reject(new Error(`raw drain (${options.variant}) failed: ${errOut.trim()}`, { cause: err }));
      else resolve(out);
    });
  });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as RawDrainResult;
}

/** The child's work: fill (not timed), drain (timed), clean up. */
async function drainInThisProcess(options: RawDrainOptions): Promise<RawDrainResult> {
  const { calls, inFlight, variant } = options;
  // Fresh names per run: several runs share one nats-server and must not see each other's messages.
  const id = `${variant}${process.pid}${Date.now().toString(36)}`.toUpperCase();
  const stream = `RAWDRAIN_${id}`;
  const bucket = `RAWDRAIN_R_${id}`;
  const nc = await connect({ servers: options.servers.split(',') });
  const http = new Pool(options.functionUrl, { pipelining: 1, connections: inFlight });
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.add({ name: stream, subjects: [`rawdrain.${id}.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File, num_replicas: 1 });
    // As faasq's consumers: explicit ack, no server-side cap on unacked messages (the client gates).
    await jsm.consumers.add(stream, { durable_name: 'worker', ack_policy: AckPolicy.Explicit, max_ack_pending: -1 });
    const kv = await new Kvm(nc).create(bucket, { storage: StorageType.File, replicas: 1 });
    const js = jetstream(nc);
    const payload = new Uint8Array(BODY_BYTES).fill(120);
    await Promise.all(Array.from({ length: inFlight }, async (_, lane) => {
      for (let i = lane; i < calls; i += inFlight) await js.publish(`rawdrain.${id}.${i}`, payload);
    }));
    const info = await jsm.streams.info(stream);
    if (info.state.messages !== calls) throw new Error(`filled ${info.state.messages} of ${calls} messages`);

    const consumer = await js.consumers.get(stream, 'worker');
    const startedAt = new Date().toISOString();
    const cpu0 = cpuMicros(process.pid);
    let firstAt = 0;
    let done = 0;
    let inflight = 0;
    let wakeGate: (() => void) | undefined;
    let finish!: () => void;
    let fail!: (err: unknown) => void;
    const finished = new Promise<void>((resolve, reject) => { finish = resolve; fail = reject; });
    const messages = await consumer.consume({ max_messages: inFlight });
    const handle = async (m: JsMsg): Promise<void> => {
      const res = await http.request({ path: '/', method: 'POST', body: m.data, headers: { 'content-type': 'text/plain' } });
      const body = Buffer.from(await res.body.arrayBuffer());
      if (res.statusCode !== 200) throw new Error(`function answered ${res.statusCode}`);
      if (variant === 'kv') {
        // A call record's size (~280 bytes) plus the 1 KiB result: what a durable async call stores.
        const record = JSON.stringify({ callId: m.subject, function: 'noop', namespace: 'openfaas-fn', queue: 'default', state: 'succeeded', attempts: 1, acceptedAt: startedAt, updatedAt: new Date().toISOString(), status: 200, headers: { 'content-type': 'text/plain' }, seq: m.seq });
        await kv.put(`c.${m.seq}`, Buffer.concat([Buffer.from(record), body]));
      }
      m.ack();
    };
    const loop = (async () => {
      for await (const m of messages) {
        if (firstAt === 0) firstAt = performance.now();
        inflight++;
        handle(m).then(() => {
          inflight--;
          wakeGate?.();
          if (++done === calls) finish();
        }, fail);
        // At most inFlight calls at once: wait for a slot before taking the next message.
        while (inflight >= inFlight) await new Promise<void>((resolve) => { wakeGate = resolve; });
        wakeGate = undefined;
      }
    })();
    await finished;
    const endedAt = performance.now();
    const cpuUs = cpuMicros(process.pid) - cpu0;
    messages.stop();
    await loop;
    const seconds = (endedAt - firstAt) / 1000;
    // The baseline must have done its work: every call's record stored, every message acked.
    // Acks are fire-and-forget: the server may apply the last ones a moment after the last ack() call.
    await waitFor(async () => {
      const stored = variant === 'kv' ? (await kv.status()).values : calls;
      const left = (await jsm.streams.info(stream)).state.messages;
      return stored === calls && left === 0;
    }, { timeoutMs: 5000, message: `raw drain ${variant}: all ${calls} records stored and messages acked` });
    await kv.destroy();
    return { variant, calls, seconds: +seconds.toFixed(3), rps: Math.round(calls / seconds), cpuUsPerCall: Math.round(cpuUs / calls) };
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await http.close();
    await nc.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const options = JSON.parse(process.argv[2] ?? '{}') as RawDrainOptions;
  if (options.variant !== 'kv' && options.variant !== 'ack') throw new Error(`variant must be kv or ack, got ${String(options.variant)}`);
  console.log(JSON.stringify(await drainInThisProcess(options)));
}
