// A real gateway in front of the real local provider on 127.0.0.1, from a config the test made
// (its data dir, lane and sandbox choices) and an event bus it may already listen on.
import type { Config } from '../../../src/config/index.js';
import { createGateway, type Gateway } from '../../../src/gateway/index.js';
import { createLocalProvider, type Provider } from '../../../src/provider/index.js';
import { EventBus } from '../../../src/shared/events.js';
import { silentLogger } from '../../../src/shared/logger.js';

export interface LocalGateway {
  readonly url: string;
  readonly provider: Provider;
  readonly gateway: Gateway;
}

/** Credentials admin:pw. The caller closes the gateway, then the provider. */
export async function startLocalGateway(config: Config, events: EventBus = new EventBus()): Promise<LocalGateway> {
  const provider = createLocalProvider({ config, logger: silentLogger(), events, env: {} });
  await provider.start();
  const gateway = createGateway({ config, provider, events, logger: silentLogger(), credentials: { user: 'admin', password: 'pw' } });
  return { url: `http://127.0.0.1:${(await gateway.start()).port}`, provider, gateway };
}
