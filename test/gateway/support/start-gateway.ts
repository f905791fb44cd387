// Starts a real gateway on 127.0.0.1 port 0 with the test provider and a real function server,
// and closes all of it in one call.
import { loadConfig, type ConfigOverrides } from '../../../src/config/index.js';
import { createGateway, type Gateway, type GatewayDeps } from '../../../src/gateway/index.js';
import { EventBus } from '../../../src/shared/events.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { startFunctionServer, type FunctionServer } from './function-server.js';
import { createTestProvider, type TestProvider } from './test-provider.js';

export const USER = 'admin';
export const PASSWORD = 'test-password';

export interface TestGateway {
  readonly url: string;
  readonly gateway: Gateway;
  readonly provider: TestProvider;
  readonly fn: FunctionServer;
  readonly events: EventBus;
  /** Authorization header value for the test credentials. */
  readonly auth: string;
  close(): Promise<void>;
}

export async function startTestGateway(options: { flags?: ConfigOverrides; beforeStart?: (gateway: Gateway) => void } & Partial<Pick<GatewayDeps, 'health' | 'metrics' | 'uiDir' | 'logger' | 'invokeCredentials' | 'queue'>> = {}): Promise<TestGateway> {
  const tmp = await makeTempDir('faasq-gw-');
  // Any Host: most gateway tests send made-up ones (browser-safety.test.ts tests the Host check itself).
  const config = loadConfig({ env: {}, flags: { host: '127.0.0.1', port: 0, dataDir: tmp.dir, 'gateway.allowedHosts': '*', ...options.flags } });
  const fn = await startFunctionServer();
  const provider = createTestProvider();
  provider.add('echo', fn.url);
  const events = new EventBus();
  const gateway = createGateway({
    config, provider, events, logger: options.logger ?? silentLogger(),
    credentials: { user: USER, password: PASSWORD }, invokeCredentials: options.invokeCredentials, queue: options.queue,
    health: options.health, metrics: options.metrics, uiDir: options.uiDir,
  });
  options.beforeStart?.(gateway);
  const { port } = await gateway.start();
  return {
    url: `http://127.0.0.1:${port}`,
    gateway, provider, fn, events,
    auth: 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64'),
    async close() {
      await gateway.close();
      await fn.close();
      await provider.close();
      await tmp.cleanup();
    },
  };
}
