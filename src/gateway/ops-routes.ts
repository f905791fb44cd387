// Operational routes: /healthz and /metrics (open, for probes and Prometheus), / → /ui/, and the
// dashboard's static files under /ui/ behind basic auth.
import type { RouteHandler } from './basic-auth.js';
import { sendJson, sendText } from './reply.js';
import { route } from './route.js';
import { createStaticHandler } from './static-files.js';
import type { Router } from './system-routes.js';

export interface OpsRoutesDeps {
  readonly protect: (handler: RouteHandler) => RouteHandler;
  readonly metrics?: { contentType: string; render(): Promise<string> };
  readonly health?: () => Promise<{ isReady: boolean; components: Record<string, unknown> }>;
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
    const report = await health();
    const isReady = report.isReady && deps.isAccepting();
    sendJson(res, isReady ? 200 : 503, { status: isReady ? 'ok' : 'unavailable', ...report, isReady });
  }));

  if (metrics) {
    router.get('/metrics', route(async (_req, res) => {
      const text = await metrics.render();
      sendText(res, 200, text, { 'Content-Type': metrics.contentType });
    }));
  }

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
