// Checks X-Callback-Url: an absolute http(s) URL whose host is not on the deny list (CIDRs and
// host names; by default link-local and cloud metadata addresses). Literal IPs are matched
// against the CIDRs and names against the listed names; no DNS lookup is made, to keep the
// accept path fast (a name that resolves to a denied address is not caught; see docs/async.md).
import { BlockList, isIP } from 'node:net';
import { FaasqError } from '../../shared/index.js';

export type CallbackUrlCheck = (raw: string) => string;

export function createCallbackUrlCheck(denyList: readonly string[]): CallbackUrlCheck {
  const blocked = new BlockList();
  const names = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of denyList) {
    const text = entry.trim().toLowerCase();
    if (!text) continue;
    const slash = text.indexOf('/');
    const addr = slash === -1 ? text : text.slice(0, slash);
    const family = isIP(addr);
    if (family !== 0) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      const prefix = slash === -1 ? (family === 4 ? 32 : 128) : Number(text.slice(slash + 1));
      blocked.addSubnet(addr, prefix, type);
    } else if (text.startsWith('.')) {
      suffixes.push(text);
    } else {
      names.add(text.replace(/\.$/, ''));
    }
  }
  return (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new FaasqError('E_INVALID_CALLBACK_URL', 'X-Callback-Url must be an absolute http or https URL');
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
      throw new FaasqError('E_INVALID_CALLBACK_URL', 'X-Callback-Url must be an absolute http or https URL');
    }
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname.replace(/\.$/, '');
    if (isDenied(host, blocked, names, suffixes)) {
      throw new FaasqError('E_CALLBACK_URL_DENIED', `X-Callback-Url host "${host}" is not allowed`);
    }
    return url.href;
  };
}

function isDenied(host: string, blocked: BlockList, names: Set<string>, suffixes: readonly string[]): boolean {
  const family = isIP(host);
  if (family === 4) return blocked.check(host, 'ipv4');
  if (family === 6) {
    if (blocked.check(host, 'ipv6')) return true;
    const mapped = mappedIpv4(host);
    return mapped !== undefined && blocked.check(mapped, 'ipv4');
  }
  const name = host.toLowerCase();
  return names.has(name) || suffixes.some((s) => name.endsWith(s));
}

/** ::ffff:a.b.c.d (also as ::ffff:XXXX:XXXX, how URL normalises it) → a.b.c.d. */
function mappedIpv4(host: string): string | undefined {
  const m = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(.+)$/i.exec(host);
  if (!m) return undefined;
  const tail = m[1];
  if (isIP(tail) === 4) return tail;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail);
  if (!hex) return undefined;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}
