// `faasq up --nats` in the composition root: find the binary, start the supervised server in
// <dataDir>/nats, and hand back a Config whose queue points at it.
import path from 'node:path';
import type { Config } from '../config/index.js';
import type { Logger } from '../shared/logger.js';
import { findNatsServer } from './find-nats-server.js';
import { startNatsSupervisor, type NatsSupervisor } from './nats-supervisor.js';

export interface LocalNats {
  readonly config: Config;
  readonly supervisor: NatsSupervisor;
  close(): Promise<void>;
}

export async function startLocalNats(config: Config, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<LocalNats> {
  const { bin, version } = await findNatsServer(env);
  if (config.queue.url.startsWith('nats')) logger.warn({ queue: config.queue.url }, '--nats given: the queue uses the local nats-server instead');
  const supervisor = await startNatsSupervisor({ bin, dir: path.join(config.dataDir, 'nats'), port: config.queue.natsPort, logger });
  logger.info({ bin, version, url: supervisor.url }, 'local nats-server ready');
  // One local server holds one copy: R3 would need three.
  const queue = { ...config.queue, url: supervisor.url, streamReplicas: 1 };
  return { config: Object.freeze({ ...config, queue: Object.freeze(queue) }), supervisor, close: () => supervisor.close() };
}
