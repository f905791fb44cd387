// How a `faasq worker` (no local runtime) reaches functions and their specs: it invokes
// <functions-url>/function/<name>.<namespace> and reads specs from `-f stack.yml` when given,
// else from the gateway's GET /system/functions (cached; see remote-specs.ts).
import type { Config } from '../config/index.js';
import { createRemoteInvoker, createRemoteSpecSource, type FunctionSpec, type Invoker } from '../provider/index.js';
import { loadStackFile } from '../stack/index.js';
import { FaasqError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export interface RemoteFunctions {
  readonly invoker: Invoker;
  getSpec(fn: string, namespace: string): FunctionSpec | undefined;
  close(): Promise<void>;
}

/** Throws E_CONFIG when the worker has no --functions-url (checked before anything touches disk). */
export function requireFunctionsUrl(config: Config): string {
  const url = config.provider.functionsUrl;
  if (!url) throw new FaasqError('E_CONFIG', 'faasq worker needs --functions-url (a gateway URL) to reach functions');
  return url;
}

export async function createRemoteFunctions(config: Config, logger: Logger): Promise<RemoteFunctions> {
  const baseUrl = requireFunctionsUrl(config);
  const { user, password, invokeUser, invokePassword } = config.auth;
  const credentials = user && password ? { user, password } : undefined;
  // Invocations use the invoke pair when one is configured; the admin pair may invoke too.
  const invokeCredentials = invokePassword ? { user: invokeUser ?? 'invoke', password: invokePassword } : credentials;
  const invoker = createRemoteInvoker({
    baseUrl,
    logger: logger.child({ component: 'invoker' }),
    timeoutMs: config.gateway.upstreamTimeoutMs,
    credentials: config.auth.isInvokeAuth ? invokeCredentials : undefined,
  });
  if (config.stackFile) {
    // A stack file is the whole truth: no gateway round trips for specs.
    const specs = new Map(loadStackFile(config.stackFile).map((s) => [`${s.name}.${s.namespace}`, s]));
    logger.info({ stackFile: config.stackFile, functions: specs.size }, 'function specs from the stack file');
    return { invoker, getSpec: (fn, ns) => specs.get(`${fn}.${ns}`), close: () => invoker.close() };
  }
  const source = createRemoteSpecSource({ baseUrl, credentials, logger: logger.child({ component: 'specs' }) });
  await source.start();
  return {
    invoker,
    getSpec: (fn, ns) => source.getSpec(fn, ns),
    async close() {
      source.close();
      await invoker.close();
    },
  };
}
