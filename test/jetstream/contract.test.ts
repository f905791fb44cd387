// The JetStream backend against the Queue contract, on a real nats-server (2.10 by default; CI
// also runs it with FAASQ_NATS_SERVER_BIN pointing at 2.15). Skips only when no binary is
// installed, and fails instead when env CI is set.
import { after, test } from 'node:test';
import { startNatsServer, natsSkipReason, type NatsNode } from '../support/nats-server.js';
import { runQueueContract } from '../queue/contract.js';
import { makeJetStreamQueue } from './jetstream-support.js';

const skipReason = natsSkipReason();

if (skipReason) {
  test('jetstream queue - contract', { skip: skipReason }, () => undefined);
} else {
  const server: NatsNode = await startNatsServer({ jetstream: true });
  after(() => server.close());
  runQueueContract('jetstream', async (options) => ({ queue: makeJetStreamQueue(server.url, options), cleanup: async () => undefined }));
}
