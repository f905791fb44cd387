// Builds JetStream queues for tests: a Config pointing at a test nats-server and a random name
// prefix, so every queue in a test file has its own streams and buckets on the shared server.
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config/index.js';
import type { Queue, QueueOptions } from '../../src/queue/index.js';
import { createJetStreamQueue } from '../../src/queue/jetstream/index.js';
import { silentLogger } from '../../src/shared/index.js';

export function jetStreamConfig(url: string, options: Partial<QueueOptions> & { streamReplicas?: number; acceptTimeoutMs?: number } = {}): Config {
  return loadConfig({
    env: {},
    flags: {
      'queue.url': url,
      // Bare numbers are seconds in faasq's duration syntax: say ms.
      'queue.leaseMs': msText(options.leaseMs),
      'queue.maxDepth': options.maxDepth,
      'queue.dedupeWindowMs': msText(options.dedupeWindowMs),
      'queue.retentionMs': msText(options.retentionMs),
      'queue.streamReplicas': options.streamReplicas,
      'queue.acceptTimeoutMs': msText(options.acceptTimeoutMs),
    },
  });
}

function msText(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : `${ms}ms`;
}

export function randomPrefix(): string {
  return `t${randomBytes(4).toString('hex')}`;
}

export function makeJetStreamQueue(url: string, options: Partial<QueueOptions> & { streamReplicas?: number; acceptTimeoutMs?: number } = {}, prefix = randomPrefix()): Queue {
  return createJetStreamQueue({ config: jetStreamConfig(url, options), logger: silentLogger(), prefix });
}
