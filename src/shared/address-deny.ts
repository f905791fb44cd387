// The callback deny list (FAASQ_CALLBACK_DENY), matched on addresses rather than spellings: an IPv6
// address that carries an IPv4 one (IPv4-mapped ::ffff:a.b.c.d, SIIT ::ffff:0:a.b.c.d, the
// deprecated IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002:AABB:CCDD::/48) is also
// checked as that IPv4 address, so [::a9fe:a9fe] cannot reach what 169.254.169.254 may not. The
// gateway checks literal hosts when a call is accepted; the worker checks every address a name
// resolves to when it sends (docs/security.md).
import { BlockList, isIP } from 'node:net';

export interface AddressDenyList {
  /** True when the IP address (either family, any spelling Node accepts) or the IPv4 address it embeds is denied. */
  isDeniedAddress(address: string): boolean;
  /** True when the host name (not an address) is listed, or falls under a listed ".suffix". */
  isDeniedName(name: string): boolean;
}

export function createAddressDenyList(entries: readonly string[]): AddressDenyList {
  const blocked = new BlockList();
  const names = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of entries) {
    const text = entry.trim().toLowerCase();
    if (!text) continue;
    const slash = text.indexOf('/');
    const addr = slash === -1 ? text : text.slice(0, slash);
    const family = isIP(addr);
    if (family !== 0) {
      const prefix = slash === -1 ? (family === 4 ? 32 : 128) : Number(text.slice(slash + 1));
      blocked.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
    } else if (text.startsWith('.')) {
      suffixes.push(text);
    } else {
      names.add(text.replace(/\.$/, ''));
    }
  }
  return {
    isDeniedAddress(address) {
      const family = isIP(address);
      if (family === 4) return blocked.check(address, 'ipv4');
      if (family !== 6) return false;
      if (blocked.check(address, 'ipv6')) return true;
      const embedded = embeddedIpv4(address);
      return embedded !== undefined && blocked.check(embedded, 'ipv4');
    },
    isDeniedName(name) {
      const lower = name.toLowerCase().replace(/\.$/, '');
      return names.has(lower) || suffixes.some((s) => lower.endsWith(s));
    },
  };
}

/** The IPv4 address an IPv6 address carries in one of the well-known forms, or undefined. */
export function embeddedIpv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (!g) return undefined;
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  const v4 = (hi: number, lo: number): string => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (SIIT)
  if (zeros(0, 5) && g[5] === 0xffff) return v4(g[6], g[7]);
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(g[6], g[7]);
  // 64:ff9b::a.b.c.d (NAT64 well-known prefix)
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4(g[6], g[7]);
  // 2002:AABB:CCDD::/48 (6to4)
  if (g[0] === 0x2002) return v4(g[1], g[2]);
  // ::a.b.c.d (IPv4-compatible, deprecated); :: and ::1 are not IPv4 addresses
  if (zeros(0, 6) && (g[6] !== 0 || g[7] > 1)) return v4(g[6], g[7]);
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (with "::" and a dotted IPv4 tail), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  if (isIP(text) !== 6) return undefined;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // A dotted IPv4 tail is two groups: rewrite it as hex so one parse handles every spelling.
    const [a, b, c, d] = last.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const double = text.indexOf('::');
  let groups: number[];
  if (double === -1) {
    groups = parse(text);
  } else {
    const head = parse(text.slice(0, double));
    const back = parse(text.slice(double + 2));
    groups = [...head, ...new Array<number>(Math.max(0, 8 - head.length - back.length)).fill(0), ...back];
  }
  return groups.length === 8 && groups.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff) ? groups : undefined;
}
