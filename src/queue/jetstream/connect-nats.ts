// Opens the NATS connection of a JetStream queue: reconnects forever (250 ms apart), reports
// connected/disconnected so intake can answer 503 at once, and refuses servers below faasq's floor.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { FaasqError, type Logger } from '../../shared/index.js';
import { isSupportedServerVersion, MIN_SERVER_VERSION } from './provision.js';

const CONNECT_TIMEOUT_MS = 5000;

export async function connectNats(options: { servers: readonly string[]; logger: Logger; onConnected(isConnected: boolean): void }): Promise<NatsConnection> {
  const { servers, logger } = options;
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: [...servers], name: 'faasq', noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: CONNECT_TIMEOUT_MS, pingInterval: 10_000, maxPingOut: 2 });
  } catch (err) {
    throw new FaasqError('E_QUEUE_UNAVAILABLE', `cannot connect to NATS at ${servers.join(',')}`, { cause: err });
  }
  if (!isSupportedServerVersion(nc.info?.version)) {
    await nc.close().catch(() => undefined);
    throw new FaasqError('E_CONFIG', `nats-server ${nc.info?.version ?? '(unknown)'} is too old: faasq needs ${MIN_SERVER_VERSION} or newer with JetStream enabled`);
  }
  options.onConnected(true);
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        options.onConnected(false);
        logger.warn({ server: status.server }, 'nats disconnected');
      } else if (status.type === 'reconnect') {
        options.onConnected(true);
        logger.info({ server: status.server }, 'nats reconnected');
      }
    }
  })();
  return nc;
}
