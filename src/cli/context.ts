// What every command needs from the outside: the streams to print to, the gateway URL and
// credentials (flag > env > stored login), and one lazily created HTTP client closed at exit.
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { CliEnv } from '../config/index.js';
import { createGatewayClient, normaliseGatewayUrl, type Credentials, type GatewayClient } from './client.js';
import { createCredentialsStore, type CredentialsStore } from './credentials-store.js';
import { localGatewayCredentials } from './local-credentials.js';

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';

export interface CliIo {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** Options every command accepts (declared on the root program). */
export interface GlobalFlags {
  readonly gateway?: string;
  readonly configDir?: string;
}

export interface CliContext {
  readonly io: CliIo;
  readonly version: string;
  gatewayUrl(): string;
  store(): CredentialsStore;
  /** FAASQ_DATA_DIR (else .faasq), absolute: where `faasq deploy -f` assembles `lang:` template functions, as `faasq up` does. */
  dataDir(): string;
  /** The gateway client; `credentials` replaces the env/stored ones (used by login). */
  client(credentials?: Credentials): Promise<GatewayClient>;
  close(): Promise<void>;
}

export function createCliContext(options: { io: CliIo; env: CliEnv; version: string; globals: () => GlobalFlags }): CliContext {
  const { io, env, version, globals } = options;
  const clients: GatewayClient[] = [];

  const gatewayUrl = (): string => normaliseGatewayUrl(globals().gateway ?? env.gatewayUrl ?? DEFAULT_GATEWAY_URL);
  const store = (): CredentialsStore => createCredentialsStore(globals().configDir ?? env.configDir);

  return {
    io,
    version,
    gatewayUrl,
    store,
    dataDir: () => path.resolve(env.dataDir),
    async client(credentials) {
      const baseUrl = gatewayUrl();
      const chosen = credentials
        ?? (env.user !== undefined && env.password !== undefined ? { user: env.user, password: env.password } : undefined)
        ?? (await store().get(baseUrl))
        ?? (await localGatewayCredentials(baseUrl, env.dataDir));
      const client = createGatewayClient({ baseUrl, credentials: chosen, userAgent: `faasq/${version} (${process.platform}; ${process.arch})` });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    },
  };
}
