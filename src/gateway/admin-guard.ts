// Keeps browsers from changing faasq on another site's behalf (cross-site request forgery). A browser
// that holds the dashboard's basic-auth credentials sends them with any request a web page makes to
// the gateway, so a state-changing /system/* request must prove it is not such a request: it is
// refused with 403 when it says it comes from another origin (Origin, Sec-Fetch-Site), and with 415
// when its body is not application/json (a cross-site form or "simple" fetch cannot send that type
// without a CORS preflight, which the gateway never grants). faas-cli, curl and faasq's own CLI send
// no Origin and JSON bodies, so they are unaffected.
import type { IncomingMessage } from 'node:http';
import { FaasqError } from '../shared/errors.js';
import type { RouteHandler } from './basic-auth.js';
import { sendError } from './reply.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Why a state-changing admin request is refused, or undefined when it may go on. */
export function adminRequestProblem(req: IncomingMessage): FaasqError | undefined {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return undefined;
  const crossSite = crossSiteProblem(req);
  if (crossSite) return crossSite;
  const h = req.headers;
  const hasBody = h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
  if (hasBody && !isJson(h['content-type'])) {
    return new FaasqError('E_UNSUPPORTED_MEDIA_TYPE', `request bodies must be application/json, not "${(h['content-type'] ?? '(none)').slice(0, 100)}"`, {
      detail: { header: 'Content-Type' },
    });
  }
  return undefined;
}

/**
 * 403 when the request says a page on another origin sent it (Sec-Fetch-Site other than
 * same-origin or none, or an Origin naming another host). Also used for invocations that carry
 * faasq credentials: a browser holding the dashboard's credentials must not invoke for another site.
 */
export function crossSiteProblem(req: IncomingMessage): FaasqError | undefined {
  const h = req.headers;
  const site = h['sec-fetch-site'];
  // "none" is the user's own navigation (typed URL, bookmark); only same-origin requests may come from a page.
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return new FaasqError('E_CROSS_SITE', `cross-site request refused (Sec-Fetch-Site: ${site})`, { detail: { header: 'Sec-Fetch-Site' } });
  }
  const origin = h.origin;
  // Behind a proxy that rewrites Host, the Host the browser used is in X-Forwarded-Host; a page on
  // another site cannot set that header without a CORS preflight, which the gateway never grants.
  const forwardedHost = typeof h['x-forwarded-host'] === 'string' ? h['x-forwarded-host'].split(',')[0].trim() : undefined;
  if (origin !== undefined && !isSameOrigin(origin, h.host) && !(forwardedHost && isSameOrigin(origin, forwardedHost))) {
    return new FaasqError('E_CROSS_SITE', `cross-origin request refused (Origin: ${origin.slice(0, 100)})`, { detail: { header: 'Origin' } });
  }
  return undefined;
}

/** Wraps an invocation route handler: a cross-site request is refused (used when invocations need credentials). */
export function guardCrossSite(handler: RouteHandler): RouteHandler {
  return (req, res, params, store, searchParams) => {
    const problem = crossSiteProblem(req);
    if (problem) {
      req.resume();
      sendError(req, res, problem);
      return;
    }
    return handler(req, res, params, store, searchParams);
  };
}

/** Wraps an admin route handler with the check above (after authentication). */
export function guardAdminRequest(handler: RouteHandler): RouteHandler {
  return (req, res, params, store, searchParams) => {
    const problem = adminRequestProblem(req);
    if (problem) {
      req.resume();
      sendError(req, res, problem);
      return;
    }
    return handler(req, res, params, store, searchParams);
  };
}

/** The Origin names the same host (and port) the request was sent to; "null" (sandboxed, file:) never does. */
function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || origin === 'null') return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const defaultPort = url.protocol === 'https:' ? '443' : '80';
  return normalHost(url.host, defaultPort) === normalHost(host, defaultPort);
}

function normalHost(host: string, defaultPort: string): string {
  const lower = host.toLowerCase();
  return /:\d+$/.test(lower) && !lower.endsWith(']') ? lower : `${lower}:${defaultPort}`;
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === 'application/json';
}
