// Outbound network for a sandboxed replica (FAASQ_SANDBOX_NETWORK=outbound): slirp4netns, a
// userspace TCP/IP stack from the rootless-containers project (Debian package `slirp4netns`),
// gives the replica's own network namespace a tap0 interface whose traffic it re-sends from the
// host's network as ordinary sockets. The host's loopback (10.0.2.2) is refused unless the
// operator opts in (FAASQ_SANDBOX_HOST_LOOPBACK). docs/functions.md "### Network" says why
// slirp4netns rather than pasta.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** slirp4netns's fixed addresses (its default 10.0.2.0/24): the function is .100. */
export const OUTBOUND_GATEWAY = '10.0.2.2';
export const OUTBOUND_DNS = '10.0.2.3';
const GUEST = '10.0.2.100';
/** The largest MTU slirp4netns takes: fewer, bigger packets through the userspace stack. */
const MTU = 65520;

export interface OutboundNetwork {
  readonly slirp4netns: string;
  /** iproute2's ip and util-linux's nsenter, which configure tap0 (see SCRIPT for why not slirp4netns). */
  readonly ip: string;
  readonly nsenter: string;
  /** 10.0.2.2 reaches the host's 127.0.0.1 (operator opt-in); otherwise refused. */
  readonly isHostLoopback: boolean;
}

/** The tools the outbound network needs when they are all here, else why not. */
export function findOutboundTools(findOnPath: (file: string) => string | undefined): { slirp4netns: string; ip: string; nsenter: string } | { why: string } {
  const find = (file: string, fallback: string): string | undefined => findOnPath(file) ?? (existsSync(fallback) ? fallback : undefined);
  const slirp4netns = find('slirp4netns', '/usr/bin/slirp4netns');
  if (!slirp4netns) return { why: 'slirp4netns is not installed (apt-get install slirp4netns)' };
  const probe = spawnSync(slirp4netns, ['--version'], { timeout: 5000, encoding: 'utf8' });
  if (probe.status !== 0) return { why: `slirp4netns does not run here: ${(probe.stderr || probe.error?.message || `exit ${probe.status}`).trim()}` };
  const ip = find('ip', '/usr/sbin/ip');
  if (!ip) return { why: "iproute2's ip is not installed (apt-get install iproute2)" };
  const nsenter = find('nsenter', '/usr/bin/nsenter');
  if (!nsenter) return { why: "util-linux's nsenter is missing" };
  return { slirp4netns, ip, nsenter };
}

/**
 * The shell that starts one replica: bwrap in the background (told by --info-fd which pid
 * holds the new network namespace, and held at --block-fd until the network is up), then
 * slirp4netns on that pid; once slirp4netns says it is ready, tap0 gets its address and default
 * route through nsenter + ip, and the sandbox's command runs. Not slirp4netns's --configure: it
 * also sets lo up, which races bwrap's own loopback setup in the new namespace (bwrap then dies
 * with "Failed RTM_NEWADDR", about one start in ten here); ip touches tap0 only.
 * The shell stays as the replica's process and exits with bwrap's status. slirp4netns ends when
 * its --exit-fd closes, which is when this shell ends, however it ends (kill -9 included: then
 * bwrap's --die-with-parent takes the sandbox too). Fifos live in the replica's runtime folder
 * (0700, faasq's), which the sandbox does not see. A background job's stdin would be /dev/null,
 * so bwrap gets the shell's own (fd 6 kept for it): the watchdog watches its stdin for faasq's end.
 * fd 5, when open, is an http-mode watchdog's IPC channel (watchdog-channel.ts): bwrap inherits it,
 * slirp4netns and nsenter do not.
 * $1: runtime folder, $2: slirp4netns, $3: its extra flags, $4: nsenter, $5: ip; then bwrap's command line.
 */
const SCRIPT = `d=$1 s=$2 f=$3 e=$4 i=$5
shift 5
mkfifo -m 600 "$d/net-info" "$d/net-go" "$d/net-ready" "$d/net-exit" || exit 125
exec 6<&0
"$@" 0<&6 6<&- 3>"$d/net-info" 4<"$d/net-go" &
b=$!
exec 6<&- 3<"$d/net-info" 4>"$d/net-go"
trap 'kill -TERM $b 2>/dev/null' TERM INT HUP
p=
while read -r l <&3; do case $l in *child-pid*) p=\${l#*:}; p=\${p%,}; p=\${p# }; break;; esac; done
if [ -z "$p" ]; then wait $b; exit $?; fi
"$s" --mtu=${MTU} --enable-seccomp $f --ready-fd=7 --exit-fd=8 "$p" tap0 3<&- 4>&- 5<&- 7>"$d/net-ready" 8<"$d/net-exit" </dev/null >/dev/null 2>&1 &
n=$!
exec 7<"$d/net-ready" 8>"$d/net-exit"
r=
read -r r <&7 || :
exec 7<&-
if [ "$r" != 1 ]; then echo "faasq: slirp4netns could not give the sandbox its network; stopping the replica" >&2; kill -KILL $b; wait $b; exit 125; fi
if ! printf 'link set tap0 up mtu ${MTU}\\naddr add ${GUEST}/24 dev tap0\\nroute add default via ${OUTBOUND_GATEWAY} dev tap0\\n' | "$e" --net=/proc/$p/ns/net "$i" -batch - >&2 5<&-; then
  echo "faasq: cannot configure the sandbox's tap0; stopping the replica" >&2; kill -KILL $b; wait $b; exit 125
fi
printf 1 >&4
exec 4>&- 3<&-
while :; do wait $b; c=$?; kill -0 $b 2>/dev/null || break; done
exec 8>&-
wait $n
exit $c`;

/** bwrap's own options that make it report the namespace's pid and wait for the network. */
export const BWRAP_NETWORK_FDS = ['--info-fd', '3', '--block-fd', '4'] as const;

/** Wraps a sandbox's bwrap command line so the replica starts with its outbound network up. */
export function withOutbound(net: OutboundNetwork, runDir: string, bwrap: string, bwrapArgs: readonly string[]): { file: string; args: string[] } {
  const flags = net.isHostLoopback ? '' : '--disable-host-loopback';
  return { file: '/bin/sh', args: ['-c', SCRIPT, 'faasq-net', runDir, net.slirp4netns, flags, net.nsenter, net.ip, bwrap, ...BWRAP_NETWORK_FDS, ...bwrapArgs] };
}

/**
 * The sandbox's /etc/resolv.conf: slirp4netns's DNS forwarder, which asks the host's own
 * resolvers (a host resolver on 127.0.0.53 is out of the sandbox's reach otherwise). Returns
 * bwrap arguments binding it where /etc/resolv.conf leads (it may be a link into /run).
 */
export async function resolvConfArgs(runDir: string, mountAt: (target: string) => string): Promise<string[]> {
  const file = path.join(runDir, 'resolv.conf');
  await writeFile(file, `# faasq: slirp4netns's DNS forwarder (docs/functions.md, "### Network")\nnameserver ${OUTBOUND_DNS}\n`, { mode: 0o644 });
  let target = '/etc/resolv.conf';
  try {
    if (lstatSync(target).isSymbolicLink()) target = path.resolve('/etc', readlinkSync(target));
  } catch {
    return []; // the host has none: nothing to bind over, the function's resolver falls back to its defaults
  }
  return ['--ro-bind', file, target.startsWith('/etc/') ? target : mountAt(target)];
}
