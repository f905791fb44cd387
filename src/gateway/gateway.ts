// The HTTP front door: a raw node http server (keep-alive, bounded headers) where `/function/*`
// goes straight to the sync hot path and every other route through find-my-way. Owns the
// lifecycle: start, stopIntake (503 for new invocations), close (drain to a deadline).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import FindMyWay from 'find-my-way';
import type { Config } from '../config/index.js';
import type { Provider } from '../provider/provider.js';
import type { Queue } from '../queue/queue.js';
import { FaasqError } from '../shared/errors.js';
import { createCallIdGenerator } from '../shared/http.js';
import type { EventBus } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import { createCredentialCheck, createGuard, type Credentials, type RouteHandler } from './basic-auth.js';
import { guardAdminRequest, guardCrossSite } from './admin-guard.js';
import { createHostCheck } from './host-check.js';
import { FunctionLimits, type AdmissionStats } from './function-limits.js';
import { MemoryBudget } from './memory-budget.js';
import { registerLogsRoute } from './logs-route.js';
import { registerOpsRoutes } from './ops-routes.js';
import { UpstreamAnomalies } from './upstream-anomaly.js';
import { installClientErrorReplies } from './client-error.js';
import { sendError } from './reply.js';
import { registerSecretRoutes } from './secret-routes.js';
import { installExpressLane } from './express/index.js';
import { createSyncInvokeHandler, type AsyncEnqueue } from './sync-invoke.js';
import { registerSystemRoutes, type Router } from './system-routes.js';

export interface GatewayDeps {
  readonly config: Config;
  readonly provider: Provider;
  readonly events: EventBus;
  readonly logger: Logger;
  /** The admin credentials (/system/*, /ui/; they may invoke too). */
  readonly credentials: Credentials;
  /** The invocation credentials (resolveInvokeCredentials: configured, or generated when FAASQ_INVOKE_AUTH is on); without them only the admin may invoke. */
  readonly invokeCredentials?: Credentials;
  /** When set, the async routes are mounted (and `X-Invoke-Mode: async` works). */
  readonly queue?: Queue;
  /** GET /metrics when set. */
  readonly metrics?: { contentType: string; render(): Promise<string> };
  /** GET /healthz reports this when set. */
  readonly health?: () => Promise<{ isReady: boolean; components: Record<string, unknown> }>;
  /** Static files for /ui/ when set. */
  readonly uiDir?: string;
}

export interface Gateway {
  start(): Promise<{ port: number }>;
  /** New invocations get 503 E_SHUTTING_DOWN; in-flight ones continue. */
  stopIntake(): void;
  /** Stops listening, waits for in-flight requests up to gateway.shutdownGraceMs, then cuts the rest. Idempotent. */
  close(): Promise<void>;
  readonly server: http.Server;
  /** Sync calls running and waiting at the gateway, per function with a concurrency limit. */
  admissionStats(): AdmissionStats[];
  /** Request body bytes held in memory now, counted against FAASQ_MAX_BUFFERED. */
  heldBodyBytes(): number;
}

/** How often idle keep-alive connections are closed while draining. */
const DRAIN_POLL_MS = 50;

export function createGateway(deps: GatewayDeps): Gateway {
  const { config, provider, events } = deps;
  // The composition root usually passes a child already bound to the gateway; bind only when not.
  const logger = deps.logger.bindings().component === 'gateway' ? deps.logger : deps.logger.child({ component: 'gateway' });
  const router: Router = FindMyWay({
    defaultRoute: (req, res) => {
      req.resume();
      sendError(req, res, new FaasqError('E_NOT_FOUND', `no route for ${req.method} ${(req.url ?? '/').split('?')[0]}`));
    },
    onBadUrl: (_path, req, res) => {
      req.resume();
      sendError(req, res, new FaasqError('E_BAD_REQUEST', 'malformed URL'));
    },
  });
  let isAccepting = true;
  let asyncEnqueue: AsyncEnqueue | undefined;
  let closing: Promise<void> | undefined;
  const shutdown = new AbortController();
  // One check knows both pairs: it decides who may call what, and which Authorization values are
  // faasq's own (those never travel on to a function or into the queue).
  const credentialCheck = createCredentialCheck(deps.credentials, deps.invokeCredentials);
  const adminAuth = createGuard((authorization) => credentialCheck(authorization) === 'admin');
  // Admin routes: the admin's credentials, then no cross-site or non-JSON state change (admin-guard.ts).
  const protect = (handler: RouteHandler): RouteHandler => adminAuth(guardAdminRequest(handler));
  const isAllowedHost = createHostCheck(config.host, config.gateway.allowedHosts);
  const canInvoke = (authorization: string | undefined): boolean => credentialCheck(authorization) !== undefined;
  // With invocation auth on, a browser's credentials (the dashboard's) must not invoke for another site.
  const invokeAuth = createGuard(canInvoke);
  const protectInvoke = config.auth.isInvokeAuth ? (handler: RouteHandler): RouteHandler => invokeAuth(guardCrossSite(handler)) : (handler: RouteHandler) => handler;
  const isGatewayCredential = (authorization: string | undefined): boolean => authorization !== undefined && canInvoke(authorization);

  const limits = new FunctionLimits(config.gateway, logger);
  const budget = new MemoryBudget(config.gateway.maxBufferedBytes);
  const anomalies = new UpstreamAnomalies(events, logger);
  const syncDeps = {
    gateway: config.gateway,
    provider,
    events,
    logger,
    limits,
    isAccepting: () => isAccepting,
    isAuthorized: config.auth.isInvokeAuth ? canInvoke : undefined,
    isGatewayCredential,
    isAllowedHost,
    newCallId: createCallIdGenerator(),
    budget,
    anomalies,
  };
  const handleFunction = createSyncInvokeHandler({ ...syncDeps, getAsyncEnqueue: () => asyncEnqueue });
  registerSystemRoutes(router, { provider, protect });
  registerSecretRoutes(router, { provider, protect });
  registerLogsRoute(router, { provider, protect, shutdownSignal: shutdown.signal });
  registerOpsRoutes(router, { protect, metrics: deps.metrics, health: deps.health, uiDir: deps.uiDir, isAccepting: () => isAccepting });

  const server = http.createServer({ maxHeaderSize: config.gateway.maxHeaderBytes, keepAlive: true }, (req, res) => {
    if (isAllowedHost && !isAllowedHost(req.headers.host)) {
      req.resume();
      sendError(req, res, new FaasqError('E_MISDIRECTED_REQUEST', `this gateway does not answer for Host "${String(req.headers.host).slice(0, 100)}" (add it to FAASQ_ALLOWED_HOSTS)`));
      return;
    }
    // The hot path skips the router: a prefix test is all it needs.
    if ((req.url as string).startsWith('/function/')) handleFunction(req, res);
    else router.lookup(req, res);
  });
  installClientErrorReplies(server);
  const lane = config.gateway.isExpressLane ? installExpressLane(server, syncDeps) : undefined;

  async function mountAsyncRoutes(queue: Queue): Promise<void> {
    // Loaded only when a queue is configured, so a sync-only gateway carries none of it.
    const { registerAsyncRoutes } = await import('./async/index.js');
    const mounted = registerAsyncRoutes(router, { config, provider, queue, events, logger, protect, protectInvoke, isGatewayCredential, isAccepting: () => isAccepting, budget });
    asyncEnqueue = (req, res, fnRaw, path) => void mounted.enqueue(req, res, fnRaw, path);
  }

  return {
    server,
    admissionStats: () => limits.stats(),
    heldBodyBytes: () => budget.heldBytes,
    async start() {
      if (deps.queue) await mountAsyncRoutes(deps.queue);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const port = (server.address() as AddressInfo).port;
      logger.debug({ host: config.host, port }, 'gateway listening');
      return { port };
    },
    stopIntake() {
      isAccepting = false;
    },
    close() {
      closing ??= drain();
      return closing;
    },
  };

  async function drain(): Promise<void> {
    isAccepting = false;
    shutdown.abort();
    lane?.close();
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => server.closeIdleConnections(), DRAIN_POLL_MS);
      const force = setTimeout(() => {
        logger.warn({ graceMs: config.gateway.shutdownGraceMs }, 'grace period over: closing open connections');
        server.closeAllConnections();
        lane?.destroyAll();
      }, config.gateway.shutdownGraceMs);
      server.close(() => {
        clearInterval(poll);
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    });
    anomalies.close();
    logger.info('gateway closed');
  }
}
