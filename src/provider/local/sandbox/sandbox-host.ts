// Whether functions can be sandboxed on this machine, decided once at provider start: bubblewrap
// present and able to make the namespaces, and (when faasq runs as root) the unprivileged user
// functions run as. The answer, with its reason, is logged once by the provider.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { FaasqError } from '../../../shared/errors.js';
import { detectCgroups, type CgroupHost } from './cgroups.js';
import { findOutboundTools, OUTBOUND_GATEWAY, type OutboundNetwork } from './outbound-network.js';

export type SandboxMode = 'auto' | 'on' | 'off';
/** auto: outbound when slirp4netns is installed, else private (said once at start). */
export type SandboxNetwork = 'auto' | 'outbound' | 'private' | 'host';

export interface FunctionUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export interface SandboxHost {
  readonly isOn: boolean;
  /** What is in effect and why, for the one start-up log line. */
  readonly reason: string;
  readonly bwrap: string;
  /** Set when faasq runs as root: functions drop to this user inside the sandbox. */
  readonly user: FunctionUser | undefined;
  /** Each replica in a network namespace of its own (only lo, plus tap0 with outbound), else the machine's network. */
  readonly isPrivateNetwork: boolean;
  /** Set with FAASQ_SANDBOX_NETWORK=outbound: each private namespace gets slirp4netns. */
  readonly outbound: OutboundNetwork | undefined;
  /** Why FAASQ_SANDBOX_NETWORK=auto came to private, for a warning at start. */
  readonly networkFallback: string | undefined;
  readonly cgroups: CgroupHost;
}

const BWRAP = '/usr/bin/bwrap';
export const SETPRIV = '/usr/bin/setpriv';

/** Namespaces for one replica: as root without a user namespace (setpriv then drops to the function user), else an unprivileged user namespace. */
export function namespaceArgs(isRoot: boolean, isPrivateNetwork: boolean): string[] {
  const net = isPrivateNetwork ? [] : ['--share-net'];
  return isRoot
    ? ['--unshare-pid', ...(isPrivateNetwork ? ['--unshare-net'] : []), '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--die-with-parent', '--new-session']
    : ['--unshare-all', ...net, '--die-with-parent', '--new-session'];
}

export function detectSandbox(mode: SandboxMode, functionUser: string, network: SandboxNetwork = 'private', isHostLoopback = false): SandboxHost {
  const isPrivateNetwork = network !== 'host';
  const isRoot = process.getuid?.() === 0;
  const cgroups = isRoot ? detectCgroups() : { kind: 'none' as const, reason: 'faasq does not run as root', create: () => undefined };
  const off = (reason: string): SandboxHost => ({ isOn: false, reason, bwrap: BWRAP, user: undefined, isPrivateNetwork: false, outbound: undefined, networkFallback: undefined, cgroups });
  if (mode === 'off') return off('FAASQ_SANDBOX=off');
  const bwrap = findOnPath('bwrap') ?? BWRAP;
  const unavailable = (why: string): SandboxHost => {
    if (mode === 'on') throw new FaasqError('E_CONFIG', `FAASQ_SANDBOX=on but no sandbox can be had: ${why}`);
    return off(why);
  };
  if (!existsSync(bwrap)) return unavailable('bubblewrap (bwrap) is not installed');
  let user: FunctionUser | undefined;
  if (isRoot) {
    if (!existsSync(SETPRIV)) return unavailable(`${SETPRIV} (util-linux) is missing, so functions could not drop root`);
    user = lookupUser(functionUser);
    if (!user) return unavailable(`FAASQ_FUNCTION_USER "${functionUser}" is not a user on this machine`);
    if (user.uid === 0) throw new FaasqError('E_CONFIG', 'FAASQ_FUNCTION_USER must not be root');
  }
  const probe = spawnSync(bwrap, [...namespaceArgs(isRoot, isPrivateNetwork), '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '/bin/true'], { timeout: 5000, encoding: 'utf8' });
  if (probe.status !== 0) return unavailable(`bubblewrap cannot create namespaces here: ${(probe.stderr || probe.error?.message || `exit ${probe.status}`).trim()}`);
  const as = user ? `as ${user.name} (${user.uid}:${user.gid})` : 'as the faasq user in a user namespace';
  const { outbound, net, fallback } = networkOf(network, isHostLoopback, isRoot);
  return { isOn: true, reason: `bubblewrap, functions run ${as}, ${net}; memory/cpu limits: ${cgroups.kind === 'none' ? `not enforced (${cgroups.reason})` : cgroups.reason}`, bwrap, user, isPrivateNetwork, outbound, networkFallback: fallback, cgroups };
}

/** What FAASQ_SANDBOX_NETWORK comes to on this machine, and its words for the start-up line. */
function networkOf(network: SandboxNetwork, isHostLoopback: boolean, isRoot: boolean): { outbound: OutboundNetwork | undefined; net: string; fallback?: string } {
  if (isHostLoopback && (network === 'private' || network === 'host')) {
    throw new FaasqError('E_CONFIG', `FAASQ_SANDBOX_HOST_LOOPBACK=true needs FAASQ_SANDBOX_NETWORK=outbound (or auto), not ${network}`);
  }
  if (network === 'host') return { outbound: undefined, net: "the machine's network (FAASQ_SANDBOX_NETWORK=host)" };
  if (network === 'private') return { outbound: undefined, net: 'a network namespace of its own per replica with only lo (FAASQ_SANDBOX_NETWORK=private: no outbound calls)' };
  // Unprivileged, bwrap nests a second user namespace (for --dev) between the one that owns the
  // network namespace and the sandbox's processes: slirp4netns has no process to join it through.
  const tools = isRoot ? findOutboundTools(findOnPath) : { why: 'faasq does not run as root, and slirp4netns cannot join the network namespace of an unprivileged bubblewrap sandbox' };
  if ('why' in tools) {
    if (network === 'outbound' || isHostLoopback) throw new FaasqError('E_CONFIG', `FAASQ_SANDBOX_NETWORK=outbound${isHostLoopback ? ' (FAASQ_SANDBOX_HOST_LOOPBACK=true)' : ''} but ${tools.why}`);
    return { outbound: undefined, net: 'a network namespace of its own per replica with only lo (no outbound calls)', fallback: tools.why };
  }
  const loopback = isHostLoopback ? `${OUTBOUND_GATEWAY} reaches the host's loopback (FAASQ_SANDBOX_HOST_LOOPBACK=true)` : "the host's loopback out of reach";
  return { outbound: { ...tools, isHostLoopback }, net: `a network namespace of its own per replica with outbound calls through slirp4netns, ${loopback}` };
}

function findOnPath(file: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(`${dir}/${file}`)) return `${dir}/${file}`;
  }
  return undefined;
}

/** `nobody`, `1000` or `1000:1000`; names through `id`, which also reads NSS (LDAP, ...). */
function lookupUser(spec: string): FunctionUser | undefined {
  const numeric = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (numeric) return { name: spec, uid: Number(numeric[1]), gid: Number(numeric[2] ?? numeric[1]) };
  const uid = spawnSync('id', ['-u', spec], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', spec], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { name: spec, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
