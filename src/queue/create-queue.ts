// Picks the queue backend from config.queue.url: 'memory', 'embedded' (LMDB under
// <dataDir>/queue) or nats://… (JetStream, loaded only when asked for so the embedded path
// never pays for the NATS client). createQueue stays synchronous; the JetStream module loads in start().
import path from 'node:path';
import type { Config } from '../config/index.js';
import type { Logger } from '../shared/logger.js';
import type { Queue, QueueOptions } from './queue.js';
import { DeferredQueue } from './deferred-queue.js';
import { LocalQueue } from './local/local-queue.js';
import { LmdbStore } from './local/lmdb-store.js';
import { MemoryStore } from './local/memory-store.js';

export interface QueueDeps {
  readonly config: Config;
  readonly logger: Logger;
}

export function queueOptionsFrom(config: Config): QueueOptions {
  const q = config.queue;
  return { leaseMs: q.leaseMs, maxDepth: q.maxDepth, dedupeWindowMs: q.dedupeWindowMs, retentionMs: q.retentionMs };
}

export function createMemoryQueue(options: QueueOptions, logger: Logger): LocalQueue {
  return new LocalQueue({ backend: 'memory', store: new MemoryStore(), options, logger });
}

/** `dir` is the LMDB directory itself (createQueue uses <dataDir>/queue). */
export function createEmbeddedQueue(dir: string, options: QueueOptions, logger: Logger): LocalQueue {
  return new LocalQueue({ backend: 'embedded', store: new LmdbStore(dir), options, logger });
}

/** Builds the backend named by config.queue.url; nothing is opened until start(). */
export function createQueue(deps: QueueDeps): Queue {
  const { config, logger } = deps;
  const url = config.queue.url;
  if (url === 'memory') return createMemoryQueue(queueOptionsFrom(config), logger);
  if (url === 'embedded') return createEmbeddedQueue(path.join(config.dataDir, 'queue'), queueOptionsFrom(config), logger);
  return new DeferredQueue('jetstream', async () => {
    const { createJetStreamQueue } = await import('./jetstream/index.js');
    return createJetStreamQueue(deps);
  });
}
