// An Invoker that calls functions through a gateway or faas-provider over HTTP, for a
// `faasq worker` with no local runtime: ${baseUrl}/function/<name>.<namespace><path>?<query>.
// Every HTTP answer (404 included) is the function's response; only transport failures and
// timeouts become faasq errors, translated at this edge.
import { Pool } from 'undici';
import type { Logger } from '../../shared/logger.js';
import { FaasqError } from '../../shared/errors.js';
import type { InvocationRequest, InvocationResponse, Invoker } from '../provider.js';
import { proxyRequest } from '../local/http-proxy.js';

export interface RemoteInvokerOptions {
  readonly baseUrl: string;
  readonly logger: Logger;
  /** Bound on waiting for response headers (and body idle gaps); 0 disables. */
  readonly timeoutMs: number;
  /** Basic-auth credentials for a gateway that protects /function/ (FAASQ_INVOKE_AUTH). */
  readonly credentials?: { readonly user: string; readonly password: string };
}

export interface RemoteInvoker extends Invoker {
  close(): Promise<void>;
}

export function createRemoteInvoker(options: RemoteInvokerOptions): RemoteInvoker {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new FaasqError('E_CONFIG', `functions URL is not a URL: "${options.baseUrl}"`);
  }
  const prefix = url.pathname.replace(/\/+$/, '');
  const pool = new Pool(url.origin, { pipelining: 1, connections: 256 });
  const log = options.logger;
  const authorization = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`
    : undefined;
  log.debug({ baseUrl: url.origin + prefix }, 'remote invoker ready');
  return {
    invoke(fn: string, namespace: string, request: InvocationRequest): Promise<InvocationResponse> {
      const functionPrefix = `${prefix}/function/${encodeURIComponent(fn)}.${encodeURIComponent(namespace)}`;
      // The gateway keeps an X-Call-Id it is given, so the function sees the async call's id.
      const headers: Record<string, string | string[]> = { ...request.headers, 'x-call-id': request.callId };
      if (authorization && headers.authorization === undefined) headers.authorization = authorization;
      return proxyRequest(pool, functionPrefix, { ...request, headers }, options.timeoutMs, performance.now(), fn);
    },
    async close() {
      await pool.close().catch(() => undefined);
    },
  };
}

