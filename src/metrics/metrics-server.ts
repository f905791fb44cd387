// `faasq worker` runs no gateway, so its Prometheus metrics need a listener of their own: GET
// /metrics and GET /healthz on worker.metricsPort, nothing else (no auth, like the gateway's).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaasqError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Metrics } from './metrics.js';

export interface MetricsServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests); start() reports the one bound. */
  readonly port: number;
  readonly metrics: Pick<Metrics, 'contentType' | 'render'>;
  readonly health: () => Promise<{ isReady: boolean; components: Record<string, unknown> }>;
  readonly logger: Logger;
}

export interface MetricsServer {
  start(): Promise<{ port: number }>;
  /** Stops listening and cuts open connections (scrapes are short). Idempotent. */
  close(): Promise<void>;
}

export function createMetricsServer(options: MetricsServerOptions): MetricsServer {
  const { metrics, health, logger } = options;
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err, path: req.url }, 'metrics request failed');
      if (res.headersSent) res.destroy();
      else reply(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
    });
  });
  let closed: Promise<void> | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz') return reply(res, 404, 'text/plain; charset=utf-8', 'not found: this port serves /metrics and /healthz\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return reply(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    if (path === '/metrics') return reply(res, 200, metrics.contentType, await metrics.render(), req.method === 'HEAD');
    const report = await health();
    const body = JSON.stringify({ status: report.isReady ? 'ok' : 'unavailable', ...report });
    return reply(res, report.isReady ? 200 : 503, 'application/json', body, req.method === 'HEAD');
  };

  return {
    start() {
      return new Promise((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => {
          reject(new FaasqError('E_CONFIG', `cannot serve metrics on ${options.host}:${options.port}: ${err.code ?? err.message}`, { cause: err }));
        });
        server.listen(options.port, options.host, () => {
          const port = (server.address() as AddressInfo).port;
          logger.info({ host: options.host, port }, 'metrics listening');
          resolve({ port });
        });
      });
    },
    close() {
      closed ??= new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function reply(res: ServerResponse, status: number, contentType: string, body: string, isHead = false): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(isHead ? undefined : body);
}
