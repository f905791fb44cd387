// `faasq up` / `faasq gateway` write the URL they listen on and the /system credentials they
// check into the per-user credentials store (the one `faasq login` writes), so `faasq deploy` and
// `faasq invoke` work from any folder, not only the one the gateway was started in.
import type { Credentials } from './client.js';
import type { CredentialsStore } from './credentials-store.js';

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);
const LOOPBACK_V4 = new Set(['127.0.0.1', 'localhost']);

/** The URLs a client on this machine would use for a gateway bound to host:port. */
export function localGatewayUrls(host: string, port: number): string[] {
  if (WILDCARD_HOSTS.has(host) || LOOPBACK_V4.has(host)) return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  const bare = host.replace(/^\[|\]$/g, '');
  return [`http://${bare.includes(':') ? `[${bare}]` : bare}:${port}`];
}

/** Records the credentials under each URL; returns the URLs written. */
export async function recordGateway(store: CredentialsStore, host: string, port: number, credentials: Credentials): Promise<string[]> {
  const urls = localGatewayUrls(host, port);
  await store.setMany(urls, credentials);
  return urls;
}
