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
    const serve = withUiHeaders(protect(route(createStaticHandler(uiDir))));
    router.get('/ui', (_req, res) => {
      res.statusCode = 307;
      res.setHeader('Location', '/ui/');
      res.end();
    });
    router.get('/ui/*', serve);
    router.head('/ui/*', serve);
  }
}

/**
 * The dashboard's security headers, on every /ui/ answer (the 401 included): a CSP that allows only
 * its own scripts, styles and API calls (no inline code, no framing, no other origins), no framing
 * by any page (clickjacking), no MIME sniffing, and no URL in the Referer beyond the origin.
 */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

function withUiHeaders(handler: RouteHandler): RouteHandler {
  return (req, res, params, store, searchParams) => {
    for (const name in UI_SECURITY_HEADERS) res.setHeader(name, UI_SECURITY_HEADERS[name]);
    return handler(req, res, params, store, searchParams);
  };
}

function send(res: ServerResponse, answer: OpsAnswer): void {
  sendText(res, answer.status, answer.body, { 'Content-Type': answer.contentType });
}
