// `faasq worker` runs no gateway, so its Prometheus metrics need a listener of their own: GET
// /metrics and GET /healthz on worker.metricsPort, nothing else (no auth, like the gateway's).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaasqError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Metrics } from './metrics.js';
import { healthAnswer, metricsAnswer, type HealthReport, type OpsAnswer } from './ops-answers.js';

export interface MetricsServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests); start() reports the one bound. */
  readonly port: number;
  readonly metrics: Pick<Metrics, 'contentType' | 'render'>;
  readonly health: () => Promise<HealthReport>;
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
      else send(res, { status: 500, contentType: TEXT, body: 'internal error\n' });
    });
  });
  let closed: Promise<void> | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz') return send(res, { status: 404, contentType: TEXT, body: 'not found: this port serves /metrics and /healthz\n' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, { status: 405, contentType: TEXT, body: 'method not allowed\n' });
    }
    const answer = path === '/metrics' ? await metricsAnswer(metrics) : await healthAnswer(health);
    return send(res, answer, req.method === 'HEAD');
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

const TEXT = 'text/plain; charset=utf-8';

function send(res: ServerResponse, answer: OpsAnswer, isHead = false): void {
  res.statusCode = answer.status;
  res.setHeader('Content-Type', answer.contentType);
  res.setHeader('Content-Length', Buffer.byteLength(answer.body));
  res.end(isHead ? undefined : answer.body);
}
