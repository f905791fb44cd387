// DNS rebinding defence: a gateway bound to loopback answers only requests whose Host is a
// loopback name or address (localhost, *.localhost, 127.0.0.0/8, [::1]) or one listed in
// FAASQ_ALLOWED_HOSTS; any other Host gets 421. A web page whose name an attacker points at
// 127.0.0.1 then cannot reach open functions from a visitor's browser. When FAASQ_ALLOWED_HOSTS is
// set it applies whatever the bind address; otherwise a gateway bound elsewhere accepts any Host.
// An entry "*" turns the check off (a loopback gateway behind a proxy that passes the public Host).
import { isIP } from 'node:net';

/** Returns a check of the Host header (true = answer it), or undefined when every Host is accepted. */
export function createHostCheck(bindHost: string, allowedHosts: readonly string[]): ((host: string | undefined) => boolean) | undefined {
  const isLoopbackBind = isLoopbackName(bindHost.replace(/^\[|\]$/g, ''));
  if ((!isLoopbackBind && allowedHosts.length === 0) || allowedHosts.some((h) => h.trim() === '*')) return undefined;
  const names = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of allowedHosts) {
    const name = entry.trim().toLowerCase().replace(/\.$/, '');
    if (name.startsWith('.')) suffixes.push(name);
    else if (name) names.add(name.replace(/^\[|\]$/g, ''));
  }
  // The Host values seen on this gateway are few; remember the answers, bounded.
  const seen = new Map<string, boolean>();
  return (host) => {
    // HTTP/1.0 without Host: not a browser, nothing to rebind.
    if (host === undefined) return true;
    const known = seen.get(host);
    if (known !== undefined) return known;
    const name = hostName(host);
    const isAllowed = name !== undefined && (isLoopbackName(name) || names.has(name) || suffixes.some((s) => name.endsWith(s)));
    if (seen.size < 64) seen.set(host, isAllowed);
    return isAllowed;
  };
}

/** The host part of a Host header value, lower-cased, without port, brackets or a final dot. */
function hostName(host: string): string | undefined {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith('[')) {
    const end = lower.indexOf(']');
    return end === -1 ? undefined : lower.slice(1, end);
  }
  const colon = lower.lastIndexOf(':');
  return (colon === -1 ? lower : lower.slice(0, colon)).replace(/\.$/, '');
}

function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const family = isIP(name);
  if (family === 4) return name.startsWith('127.');
  if (family === 6) return name === '::1' || name === '0:0:0:0:0:0:0:1';
  return false;
}
