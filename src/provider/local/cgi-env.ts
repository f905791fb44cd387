// The classic watchdog's CGI-style environment for fork mode: Http_Method, Http_Path,
// Http_Query, Http_ContentLength and one Http_<Header_Name> per request header, with the
// header name in Go's canonical form (X-Call-Id -> Http_X_Call_Id).
import type { InvocationRequest } from '../provider.js';

export function cgiEnv(request: InvocationRequest): Record<string, string> {
  const env: Record<string, string> = { Http_Method: request.method, Http_Path: request.path };
  if (request.query) env.Http_Query = request.query;
  for (const [name, value] of Object.entries(request.headers)) {
    env[`Http_${canonicalName(name).replace(/-/g, '_')}`] = Array.isArray(value) ? (value[0] ?? '') : value;
  }
  const declared = request.headers['content-length'];
  env.Http_ContentLength = Buffer.isBuffer(request.body) ? String(request.body.length) : typeof declared === 'string' ? declared : '-1';
  return env;
}

/** Go's textproto canonical header key: first letter and letters after '-' upper-case, rest lower. */
function canonicalName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, letter: string) => dash + letter.toUpperCase());
}
