// Builds JetStream queues for tests: a Config pointing at a test nats-server and a random name
// prefix, so every queue in a test file has its own streams and buckets on the shared server; and
// the async harness on a nats-server of its own behind a fault proxy.
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config/index.js';
import type { Queue, QueueOptions } from '../../src/queue/index.js';
import { createJetStreamQueue } from '../../src/queue/jetstream/index.js';
import { silentLogger } from '../../src/shared/index.js';
import { startNatsServer, type NatsNode } from '../support/nats-server.js';
import { startNatsFaultProxy, type NatsFaultProxy } from '../support/nats-fault-proxy.js';
import { makeTempDir } from '../support/temp-dir.js';
import { startHarness, type Harness } from '../async/support/harness.js';

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

/** A real nats-server, a fault proxy in front of it, and the async test harness on the proxy. */
export interface ProxiedHarness {
  readonly nats: NatsNode;
  readonly proxy: NatsFaultProxy;
  readonly h: Harness;
  /** Stops the harness, the proxy and the server, and removes the data dir. */
  close(): Promise<void>;
}

/** Starts a ProxiedHarness with `flags` over the harness's defaults; its data dir is a temp dir named from `tmpPrefix`. */
export async function startProxiedHarness(tmpPrefix: string, flags: Record<string, string | number> = {}): Promise<ProxiedHarness> {
  const tmp = await makeTempDir(tmpPrefix);
  const nats = await startNatsServer();
  const proxy = await startNatsFaultProxy({ port: nats.port });
  const h = await startHarness({ 'queue.url': proxy.url, ...flags }, { dataDir: tmp.dir });
  return {
    nats,
    proxy,
    h,
    async close() {
      await h.close();
      await proxy.close();
      await nats.close();
      await tmp.cleanup();
    },
  };
}
