// Mounts the async routes on the gateway's find-my-way router: POST /async-function/{name}[/...]
// (accept), GET/DELETE /async-function/{callId}[/result] (record, result, cancel) and the
// protected /system/queues API. Returns enqueue() for /function/{name} with X-Invoke-Mode: async.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Router from 'find-my-way';
import type { Config } from '../../config/index.js';
import type { Provider } from '../../provider/index.js';
import type { Queue } from '../../queue/index.js';
import { FaasqError, type EventBus, type Logger } from '../../shared/index.js';
import { sendError } from '../reply.js';
import { createCallRoutes } from './call-routes.js';
import { createEnqueue, type Enqueue } from './enqueue.js';
import type { MemoryBudget } from '../memory-budget.js';
import { createQueueRoutes } from './queue-routes.js';

export type AsyncRouteHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string | undefined>, store: unknown, searchParams: Record<string, string>) => unknown;

export interface AsyncRoutesDeps {
  readonly config: Config;
  readonly provider: Pick<Provider, 'getSpec'>;
  readonly queue: Queue;
  readonly events: EventBus;
  readonly logger: Logger;
  /** Wraps a handler with the admin's basic auth (/system/queues...). */
  readonly protect: (handler: AsyncRouteHandler) => AsyncRouteHandler;
  /**
   * Wraps an invocation route (accept, call record, result, cancel) with the invocation auth: invoke
   * or admin credentials when FAASQ_INVOKE_AUTH is on. Absent: `protect` when it is on, else open.
   */
  readonly protectInvoke?: (handler: AsyncRouteHandler) => AsyncRouteHandler;
  /** True for faasq's own credentials, which are not stored with a call (absent: none are). */
  readonly isGatewayCredential?: (authorization: string | undefined) => boolean;
  /** False once shutdown started: async calls are refused with 503. */
  readonly isAccepting: () => boolean;
  /** Gateway-wide cap on request bytes held in memory; an async body counts until it is stored. */
  readonly budget?: MemoryBudget;
}

export interface AsyncRoutes {
  readonly enqueue: Enqueue;
}

const PREFIX = '/async-function/';
const OTHER_METHODS: Router.HTTPMethod[] = ['PUT', 'PATCH', 'OPTIONS'];

export function registerAsyncRoutes(router: Router.Instance<Router.HTTPVersion.V1>, deps: AsyncRoutesDeps): AsyncRoutes {
  const enqueue = createEnqueue(deps);
  const calls = createCallRoutes(deps.queue, { events: deps.events, logger: deps.logger, canRead: deps.isGatewayCredential });
  const queues = createQueueRoutes(deps.queue, deps.events);
  const invokeGuard = deps.protectInvoke ?? (deps.config.auth.isInvokeAuth ? deps.protect : (h: AsyncRouteHandler) => h);
  const on = (method: Router.HTTPMethod | Router.HTTPMethod[], path: string, handler: AsyncRouteHandler): void => {
    router.on(method, path, handler as Router.Handler<Router.HTTPVersion.V1>);
  };

  const accept: AsyncRouteHandler = (req, res, params) => enqueue(req, res, params.id ?? '', subPath(req.url ?? '', params.id ?? ''));
  on('POST', `${PREFIX}:id`, invokeGuard(accept));
  on('POST', `${PREFIX}:id/*`, invokeGuard(accept));
  on('GET', `${PREFIX}:id`, invokeGuard((req, res, params) => calls.getRecord(req, res, params.id ?? '')));
  on('GET', `${PREFIX}:id/result`, invokeGuard((req, res, params) => calls.getResult(req, res, params.id ?? '')));
  on('DELETE', `${PREFIX}:id`, invokeGuard((req, res, params) => calls.cancel(req, res, params.id ?? '')));
  const notAllowed: AsyncRouteHandler = (req, res) => {
    req.resume();
    sendError(req, res, new FaasqError('E_METHOD_NOT_ALLOWED', 'async invocation needs POST', { headers: { Allow: 'POST' } }));
  };
  on(OTHER_METHODS, `${PREFIX}:id`, notAllowed);
  on([...OTHER_METHODS, 'GET', 'DELETE'], `${PREFIX}:id/*`, notAllowed);

  on('GET', '/system/queues', deps.protect((req, res) => queues.list(req, res)));
  on('GET', '/system/queues/:name', deps.protect((req, res, params) => queues.get(req, res, params.name ?? '')));
  on('GET', '/system/queues/:name/dead-letters', deps.protect((req, res, params, _store, search) => queues.listDeadLetters(req, res, params.name ?? '', search)));
  on('DELETE', '/system/queues/:name/dead-letters', deps.protect((req, res, params) => queues.purge(req, res, params.name ?? '')));
  on('POST', '/system/queues/:name/dead-letters/replay', deps.protect((req, res, params) => queues.replay(req, res, params.name ?? '')));
  on('GET', '/system/dead-letters/:callId', deps.protect((req, res, params) => queues.getDeadLetter(req, res, params.callId ?? '')));

  return { enqueue };
}

/** The raw (still percent-encoded) path after /async-function/{name}, "/" when none. */
function subPath(url: string, name: string): string {
  const q = url.indexOf('?');
  const rest = url.slice(PREFIX.length + name.length, q === -1 ? undefined : q);
  return rest === '' ? '/' : rest;
}
