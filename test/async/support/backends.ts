// The durable queue backends the worker's flows are tested on: embedded (LMDB in a temp dir) and
// JetStream (a real nats-server; skipped with the reason when none is installed, an error in CI).
import { natsSkipReason, startNatsServer, type NatsNode } from '../../support/nats-server.js';
import { makeTempDir } from '../../support/temp-dir.js';

export interface Backend {
  readonly name: string;
  readonly skip?: string;
  /** Config flags selecting the backend, the data dir to use, and what stops it all. */
  setup(): Promise<{ flags: Record<string, string>; dataDir: string; teardown: () => Promise<void> }>;
}

export const DURABLE_BACKENDS: readonly Backend[] = [
  {
    name: 'embedded',
    async setup() {
      const tmp = await makeTempDir('faasq-async-emb-');
      return { flags: { 'queue.url': 'embedded' }, dataDir: tmp.dir, teardown: tmp.cleanup };
    },
  },
  {
    name: 'jetstream',
    skip: natsSkipReason(),
    async setup() {
      const tmp = await makeTempDir('faasq-async-js-');
      const nats: NatsNode = await startNatsServer();
      return { flags: { 'queue.url': nats.url }, dataDir: tmp.dir, teardown: async () => { await nats.close(); await tmp.cleanup(); } };
    },
  },
];
