// Opens the NATS connection of a JetStream queue: reconnects forever, reports connected /
// disconnected, and refuses servers below faasq's floor. A server that stops answering (frozen,
// partitioned) is left fast: a ping every second and two unanswered ones mark the connection
// stale (~2-3 s), and the client moves to another server of the list at once (reconnects to the
// same one are 250 ms apart, with a little jitter so many clients do not arrive together).
// docs/scale-out.md explains the numbers.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { FaasqError, type Logger } from '../../shared/index.js';
import { isSupportedServerVersion, MIN_SERVER_VERSION } from './provision.js';

const CONNECT_TIMEOUT_MS = 5000;
/** Client pings: with 2 outstanding allowed, a silent server is left after 2-3 intervals. */
export const PING_INTERVAL_MS = 1000;
export const MAX_PINGS_OUT = 2;

export async function connectNats(options: { servers: readonly string[]; logger: Logger; onConnected(isConnected: boolean): void }): Promise<NatsConnection> {
  const { servers, logger } = options;
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: [...servers], name: 'faasq', noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, reconnectJitter: 100, timeout: CONNECT_TIMEOUT_MS, pingInterval: PING_INTERVAL_MS, maxPingOut: MAX_PINGS_OUT });
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
