// A tiny static file handler for the /ui/ dashboard: GET/HEAD only, content types by extension,
// index.html for folders, and no way out of the root folder.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { FaasqError } from '../shared/errors.js';
import type { AsyncRouteHandler } from './route.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Serves files under rootDir for the wildcard part of the route (params['*']). */
export function createStaticHandler(rootDir: string): AsyncRouteHandler {
  const root = path.resolve(rootDir);
  return async (_req, res, params) => {
    const file = await resolveFile(root, params['*'] ?? '');
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new FaasqError('E_NOT_FOUND', 'not found');
    res.statusCode = 200;
    res.setHeader('Content-Type', CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream');
    res.setHeader('Content-Length', info.size);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (_req.method === 'HEAD') {
      res.end();
      return;
    }
    pipeline(createReadStream(file), res, () => undefined);
  };
}

async function resolveFile(root: string, rawPath: string): Promise<string> {
  // find-my-way has already percent-decoded the wildcard and cut the query string.
  const relative = rawPath;
  if (relative.includes('\0')) throw new FaasqError('E_BAD_REQUEST', 'malformed path');
  // Normalising against "/" drops every "..", so the result always stays under root.
  const full = path.join(root, path.posix.normalize('/' + relative.replaceAll('\\', '/')));
  if (full !== root && !full.startsWith(root + path.sep)) throw new FaasqError('E_NOT_FOUND', 'not found');
  const info = await stat(full).catch(() => undefined);
  return info?.isDirectory() ? path.join(full, 'index.html') : full;
}
