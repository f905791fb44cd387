// Control plane of the JetStream backend: creates or updates the streams, consumers and KV
// buckets idempotently and checks the echoed config, because a 2.10 server silently drops
// fields it does not know and faasq must not run on a half-applied configuration.
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { nanos } from '@nats-io/transport-node';
import { FaasqError } from '../../shared/index.js';
import { isNotFoundError } from './jetstream-errors.js';
import { PRIORITIES, type JetStreamNames } from './names.js';

export interface ProvisionOptions {
  readonly replicas: number;
  readonly leaseMs: number;
  /** 0: unlimited. */
  readonly maxDepth: number;
  readonly retentionMs: number;
}

/** faasq's floor (Debian stable's nats-server): 2.9 loses acks on R3 replica restarts and lacks fixes faasq relies on. */
export const MIN_SERVER_VERSION = '2.10.0';

/** True when a server version string ("2.10.27", "v2.15.1-beta") is at least MIN_SERVER_VERSION. */
export function isSupportedServerVersion(version: string | undefined): boolean {
  const parse = (v: string): number[] => v.replace(/^v/, '').split(/[.-]/).slice(0, 3).map((n) => Number.parseInt(n, 10) || 0);
  if (!version) return false;
  const [got, min] = [parse(version), parse(MIN_SERVER_VERSION)];
  for (let i = 0; i < 3; i++) {
    if (got[i] !== min[i]) return got[i] > min[i];
  }
  return true;
}

/** JetStream dedupes msgIDs for this long; faasq's longer dedupe uses kv.create on the record. */
export const DUPLICATE_WINDOW_MS = 120_000;

function mismatch(what: string, field: string, wanted: unknown, got: unknown): FaasqError {
  return new FaasqError('E_CONFIG', `JetStream ${what}: the server did not keep ${field} (wanted ${JSON.stringify(wanted)}, got ${JSON.stringify(got)}); nats-server >= 2.10 is required`);
}

function verify(what: string, echoed: Record<string, unknown>, wanted: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(wanted)) {
    const got = echoed[field];
    const isSame = Array.isArray(value) ? JSON.stringify([...((got ?? []) as unknown[])].sort()) === JSON.stringify([...(value as unknown[])].sort()) : got === value;
    if (!isSame) throw mismatch(what, field, value, got);
  }
}

async function ensureStream(jsm: JetStreamManager, wanted: Partial<StreamConfig> & { name: string }, checked: Record<string, unknown>): Promise<void> {
  let echoed: StreamConfig;
  try {
    const info = await jsm.streams.info(wanted.name);
    const isSame = Object.entries(checked).every(([k, v]) => JSON.stringify((info.config as unknown as Record<string, unknown>)[k]) === JSON.stringify(v));
    echoed = isSame ? info.config : (await jsm.streams.update(wanted.name, wanted)).config;
  } catch (err) {
    if (!isNotFoundError(err)) throw err;
    echoed = (await jsm.streams.add(wanted)).config;
  }
  verify(`stream ${wanted.name}`, echoed, checked);
}

export async function provisionQueue(jsm: JetStreamManager, names: JetStreamNames, queue: string, options: ProvisionOptions): Promise<void> {
  const name = names.queueStream(queue);
  const subjects = names.queueSubjects(queue);
  const maxMsgs = options.maxDepth > 0 ? options.maxDepth : -1;
  const duplicateWindow = nanos(DUPLICATE_WINDOW_MS);
  await ensureStream(
    jsm,
    {
      name,
      subjects,
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: options.replicas,
      max_msgs: maxMsgs,
      discard: DiscardPolicy.New,
      duplicate_window: duplicateWindow,
    },
    { subjects, retention: RetentionPolicy.Workqueue, num_replicas: options.replicas, max_msgs: maxMsgs, discard: DiscardPolicy.New, duplicate_window: duplicateWindow },
  );
  const ackWait = nanos(options.leaseMs);
  const consumers = [...PRIORITIES.map((p) => ({ durable: names.durable(p), filter: names.priorityFilter(queue, p) })), { durable: names.delayedDurable, filter: names.delayedFilter(queue) }];
  for (const { durable, filter } of consumers) {
    const checked = { durable_name: durable, filter_subject: filter, ack_policy: AckPolicy.Explicit, ack_wait: ackWait, max_deliver: -1, max_ack_pending: -1 };
    const wanted: Partial<ConsumerConfig> = { ...checked, deliver_policy: DeliverPolicy.All };
    let echoed: ConsumerConfig;
    try {
      const info = await jsm.consumers.info(name, durable);
      const isSame = info.config.ack_wait === ackWait && info.config.filter_subject === checked.filter_subject && info.config.max_ack_pending === -1;
      echoed = isSame ? info.config : (await jsm.consumers.update(name, durable, { ack_wait: ackWait, filter_subject: checked.filter_subject, max_ack_pending: -1, max_deliver: -1 })).config;
    } catch (err) {
      if (!isNotFoundError(err)) throw err;
      echoed = (await jsm.consumers.add(name, wanted)).config;
    }
    verify(`consumer ${name}/${durable}`, echoed, checked);
  }
}

export async function provisionDeadLetters(jsm: JetStreamManager, names: JetStreamNames, options: ProvisionOptions): Promise<void> {
  const subjects = [names.deadLetterFilter(undefined).replace(/\*\.\*$/, '>')];
  const duplicateWindow = nanos(DUPLICATE_WINDOW_MS);
  // Limits retention with no age: a dead letter stays until it is replayed or purged.
  await ensureStream(
    jsm,
    { name: names.deadLetterStream, subjects, retention: RetentionPolicy.Limits, storage: StorageType.File, num_replicas: options.replicas, duplicate_window: duplicateWindow, max_msgs_per_subject: 1 },
    { subjects, retention: RetentionPolicy.Limits, num_replicas: options.replicas, duplicate_window: duplicateWindow, max_msgs_per_subject: 1 },
  );
}

/** Records and results: KV buckets whose TTL (stream max_age) is the retention. */
export async function provisionBuckets(js: JetStreamClient, jsm: JetStreamManager, names: JetStreamNames, options: ProvisionOptions & { timeoutMs: number }): Promise<{ records: KV; results: KV }> {
  const kvm = new Kvm(js);
  const open = async (bucket: string): Promise<KV> => {
    const opts = { ttl: options.retentionMs, history: 1, storage: StorageType.File, replicas: options.replicas, allow_direct: false, timeout: options.timeoutMs };
    const kv = await kvm.create(bucket, opts).catch(async (err: unknown) => {
      // An existing bucket with another TTL or replica count: adopt the new settings.
      const stream = `KV_${bucket}`;
      const info = await jsm.streams.info(stream).catch(() => undefined);
      if (!info) throw err;
      // allow_direct off: a direct get may be answered by a follower that has not applied the
      // latest write yet, and a worker reading a stale record would run a call twice.
      await jsm.streams.update(stream, { ...info.config, max_age: nanos(options.retentionMs), num_replicas: options.replicas, allow_direct: false });
      return kvm.open(bucket, { timeout: options.timeoutMs });
    });
    const info = await jsm.streams.info(`KV_${bucket}`);
    verify(`bucket ${bucket}`, info.config, { max_age: nanos(options.retentionMs), num_replicas: options.replicas, max_msgs_per_subject: 1, allow_direct: false });
    return kv;
  };
  return { records: await open(names.recordsBucket), results: await open(names.resultsBucket) };
}
