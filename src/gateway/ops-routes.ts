// Operational routes: /healthz and /metrics (open, for probes and Prometheus), / → /ui/, and the
// dashboard's static files under /ui/ behind basic auth.
import type { ServerResponse } from 'node:http';
import { healthAnswer, metricsAnswer, type HealthReport, type OpsAnswer } from '../metrics/index.js';
import type { RouteHandler } from './basic-auth.js';
import { sendJson, sendText } from './reply.js';
import { route } from './route.js';
import { createStaticHandler } from './static-files.js';
import type { Router } from './system-routes.js';

export interface OpsRoutesDeps {
  readonly protect: (handler: RouteHandler) => RouteHandler;
  readonly metrics?: { contentType: string; render(): Promise<string> };
  readonly health?: () => Promise<HealthReport>;
  readonly uiDir?: string;
  readonly isAccepting: () => boolean;
}

export function registerOpsRoutes(router: Router, deps: OpsRoutesDeps): void {
  const { health, metrics, uiDir, protect } = deps;

  router.get('/healthz', route(async (_req, res) => {
    if (!health) {
      sendJson(res, deps.isAccepting() ? 200 : 503, { status: deps.isAccepting() ? 'ok' : 'shutting down' });
      return;
    }
    send(res, await healthAnswer(health, deps.isAccepting()));
  }));

  if (metrics) router.get('/metrics', route(async (_req, res) => send(res, await metricsAnswer(metrics))));

  router.get('/', (_req, res) => {
    res.statusCode = 307;
    res.setHeader('Location', '/ui/');
    res.end();
  });

  if (uiDir) {
    const serve = protect(route(createStaticHandler(uiDir)));
    router.get('/ui', (_req, res) => {
      res.statusCode = 307;
      res.setHeader('Location', '/ui/');
      res.end();
    });
    router.get('/ui/*', serve);
    router.head('/ui/*', serve);
  }
}

function send(res: ServerResponse, answer: OpsAnswer): void {
  sendText(res, answer.status, answer.body, { 'Content-Type': answer.contentType });
}
