// Last resort for credentials: a gateway on this machine started with `faasq up` in this folder
// stored the password it generated in <data dir>/credentials.json, so `faasq queue list` next to
// it works without a `faasq login`. Only for loopback gateways, and only a readable file counts.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Credentials } from './client.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export async function localGatewayCredentials(baseUrl: string, dataDir: string): Promise<Credentials | undefined> {
  let host: string;
  try {
    host = new URL(baseUrl).hostname;
  } catch {
    return undefined;
  }
  if (!LOOPBACK_HOSTS.has(host)) return undefined;
  try {
    const stored = JSON.parse(await readFile(path.join(dataDir, 'credentials.json'), 'utf8')) as { user?: unknown; password?: unknown };
    if (typeof stored.user === 'string' && typeof stored.password === 'string') return { user: stored.user, password: stored.password };
  } catch {
    // no local gateway data here
  }
  return undefined;
}
