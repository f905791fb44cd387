// How one replica's first process is started: the in-replica watchdog inside a bubblewrap sandbox
// (fork and http mode), the watchdog alone (fork mode without a sandbox), or the function's own
// server on a free port (http mode without a sandbox, as before). The process joins its cgroup
// first when the function has limits. Everything made here is undone by cleanup().
import { randomBytes } from 'node:crypto';
import { chown, mkdir, rm } from 'node:fs/promises';
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaasqError } from '../../../shared/errors.js';
import { freePort } from '../../../shared/free-port.js';
import type { Command } from '../command.js';
import type { ReplicaCgroup } from './cgroups.js';
import type { LiveSecrets } from './live-secrets.js';
import { resolvConfArgs, withOutbound } from './outbound-network.js';
import type { ResourceLimits } from './resources.js';
import { canGuardChannel } from './watchdog-channel.js';
import { namespaceArgs, SETPRIV, type FunctionUser, type SandboxHost } from './sandbox-host.js';

/** Folders a function's own folder must not be: binding one would hand the function the system. */
const SYSTEM_DIRS = new Set(['/', '/usr', '/etc', '/bin', '/sbin', '/lib', '/lib64', '/var', '/root', '/home', '/tmp', '/proc', '/sys', '/dev', '/run', '/opt', '/srv', '/boot']);

/** Where the watchdog is bind-mounted inside a sandbox, and where its socket folder is. */
const WATCHDOG_INSIDE = '/opt/faasq/watchdog.cjs';
const RUN_INSIDE = '/run/faasq';
export const SECRETS_INSIDE = '/var/openfaas/secrets';
const SOCKET_NAME = 'watchdog.sock';
/** Output a fork call holds before it commits to 200 and streams (its exit code decides below it). */
const FORK_HOLD_BYTES = 64 * 1024;

export const WATCHDOG_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..', 'watchdog', 'faasq-watchdog.cjs');

/** What a function's replicas are started from; made once per deploy. */
export interface LaunchPlan {
  readonly name: string;
  readonly mode: 'fork' | 'http';
  readonly command: Command;
  /** The function's folder on the host; undefined when it declared none. */
  readonly workDir: string | undefined;
  /** Used as the working folder without a sandbox when workDir is undefined. */
  readonly defaultDir: string;
  /** The function's environment (functionEnv()), before per-replica ports. */
  readonly env: NodeJS.ProcessEnv;
  /** Secret files on the host, copied into the sandbox's /var/openfaas/secrets. */
  readonly secrets: readonly { name: string; file: string }[];
  readonly isReadOnlyRoot: boolean;
  readonly limits: ResourceLimits;
  readonly execTimeoutMs: number;
  readonly maxOutputBytes: number;
}

export interface LaunchContext {
  readonly host: SandboxHost;
  /** A short folder of faasq's own (0700) holding each replica's runtime folder. */
  readonly runBase: string;
  /** Folders a function must never see even when they lie inside its working folder. */
  readonly hidden: readonly string[];
  /** Each sandboxed replica's copies of its secrets, kept current on updates. */
  readonly secrets: LiveSecrets;
}

/**
 * Where a replica answers: its own port, or its watchdog's Unix socket. `handOff` (http mode in a
 * network namespace of its own): the watchdog hands over sockets connected to the function's
 * server at `port` inside the replica, on an IPC channel (sandbox/watchdog-channel.ts); the Unix
 * socket then only serves when that channel cannot be had.
 */
export type ReplicaAddress = { readonly socketPath: string; readonly handOff?: { readonly port: number; readonly authority: string } } | { readonly port: number };

export interface ReplicaLaunch {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly address: ReplicaAddress;
  readonly cgroup: ReplicaCgroup | undefined;
  /** Removes the runtime folder and the cgroup; call once the process is gone. */
  cleanup(): Promise<void>;
}

export async function launchReplica(ctx: LaunchContext, plan: LaunchPlan): Promise<ReplicaLaunch> {
  const { host } = ctx;
  const id = randomBytes(5).toString('hex');
  const runDir = path.join(ctx.runBase, id);
  await mkdir(runDir, { mode: 0o700 });
  let cgroup: ReplicaCgroup | undefined;
  const releases: (() => void)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const release of releases.splice(0)) release();
    await cgroup?.remove();
    await rm(runDir, { recursive: true, force: true });
  };
  try {
    cgroup = host.cgroups.create(`${plan.name}-${id}`, plan.limits);
    const spawnSpec = host.isOn ? await sandboxed(ctx, plan, runDir, releases) : await bare(plan, runDir);
    const wrapped = cgroup ? joiningCgroup(cgroup, spawnSpec.file, spawnSpec.args) : spawnSpec;
    return { ...spawnSpec, ...wrapped, cgroup, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

type SpawnSpec = Omit<ReplicaLaunch, 'cgroup' | 'cleanup'>;

/** `sh -c` writes its own pid into each cgroup.procs, then execs: the limit holds before anything forks. */
function joiningCgroup(cgroup: ReplicaCgroup, file: string, args: readonly string[]): { file: string; args: string[] } {
  const n = cgroup.procsFiles.length;
  const script = `${cgroup.procsFiles.map((_f, i) => `echo $$ > "$${i + 1}"`).join(' && ')} && shift ${n} && exec "$@"`;
  return { file: '/bin/sh', args: ['-c', script, 'faasq-cgroup', ...cgroup.procsFiles, file, ...args] };
}

function watchdogConfig(plan: LaunchPlan, socket: string, cwd: string, upstream: { host: string; port: number } | undefined): string {
  const config = {
    mode: plan.mode,
    socket,
    cwd,
    command: [plan.command.file, ...plan.command.args],
    execTimeoutMs: plan.execTimeoutMs,
    maxOutputBytes: plan.maxOutputBytes,
    holdBytes: FORK_HOLD_BYTES,
    upstreamHost: upstream?.host,
    upstreamPort: upstream?.port,
  };
  return Buffer.from(JSON.stringify(config)).toString('base64url');
}

/** http mode's upstream: `upstream_url` when set, else a port handed over as PORT / http_port. */
async function upstreamOf(plan: LaunchPlan, env: NodeJS.ProcessEnv): Promise<{ host: string; port: number }> {
  const declared = env.upstream_url ?? env.http_upstream_url;
  if (declared) {
    const url = new URL(declared);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 80 : Number(url.port) };
  }
  const port = env.http_port && /^\d+$/.test(env.http_port) ? Number(env.http_port) : await freePort();
  env.PORT = env.http_port = env.port = String(port);
  return { host: '127.0.0.1', port };
}

async function bare(plan: LaunchPlan, runDir: string): Promise<SpawnSpec> {
  const cwd = plan.workDir ?? plan.defaultDir;
  const env = { ...plan.env };
  if (plan.mode === 'http') {
    // No network namespace: every replica needs a port of its own, whatever upstream_url says.
    const port = await freePort();
    env.PORT = env.http_port = env.port = String(port);
    env.upstream_url = `http://127.0.0.1:${port}`;
    return { ...dyingWithFaasq(plan.command.file, plan.command.args), env, cwd, address: { port } };
  }
  const socket = path.join(runDir, SOCKET_NAME);
  return { file: process.execPath, args: [WATCHDOG_FILE, watchdogConfig(plan, socket, cwd, undefined)], env, cwd, address: { socketPath: socket } };
}

/**
 * A bare http-mode server has no watchdog (whose stdin ends with faasq) nor bwrap's
 * --die-with-parent: setpriv's parent-death signal takes it along when faasq goes, even by kill -9.
 */
function dyingWithFaasq(file: string, args: readonly string[]): { file: string; args: string[] } {
  if (!existsSync(SETPRIV)) return { file, args: [...args] };
  return { file: SETPRIV, args: ['--pdeathsig', 'KILL', '--', file, ...args] };
}

async function sandboxed(ctx: LaunchContext, plan: LaunchPlan, runDir: string, releases: (() => void)[]): Promise<SpawnSpec> {
  const { host } = ctx;
  const user = host.user;
  const sockDir = path.join(runDir, 's');
  await mkdir(sockDir, { mode: 0o700 });
  if (user) await chown(sockDir, user.uid, user.gid);
  const args = [...namespaceArgs(user !== undefined, host.isPrivateNetwork), ...systemMounts()];
  // bwrap makes missing mount points 0700 as root: the folders leading to each are made 0755 first.
  const made = new Set(['/', '/usr', '/etc', '/proc', '/dev', '/tmp']);
  const mountAt = (target: string): string => {
    const parts = path.dirname(target).split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i += 1) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (made.has(dir)) continue;
      made.add(dir);
      args.push('--perms', '0755', '--dir', dir);
    }
    made.add(target);
    return target;
  };
  args.push('--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--tmpfs', '/tmp', '--bind', sockDir, mountAt(RUN_INSIDE), '--ro-bind', WATCHDOG_FILE, mountAt(WATCHDOG_INSIDE));
  const node = nodeInstallDir();
  if (node) args.push('--ro-bind', node, mountAt(node));
  if (plan.secrets.length > 0) {
    // A copy per replica, owned by the function's user (the store's files stay root's 0600), rewritten on updates.
    const placed = await ctx.secrets.place(runDir, plan.secrets, user);
    releases.push(() => placed.release());
    args.push('--ro-bind', placed.dir, mountAt(SECRETS_INSIDE));
  }
  if (host.outbound) args.push(...(await resolvConfArgs(runDir, mountAt)));
  const cwd = plan.workDir ?? '/tmp';
  if (plan.workDir && SYSTEM_DIRS.has(path.resolve(plan.workDir))) {
    throw new FaasqError('E_DEPLOY_FAILED', `function "${plan.name}": its folder ${plan.workDir} is a system folder; a sandboxed function needs a folder of its own`, { detail: { field: 'workingDir' } });
  }
  if (plan.workDir && user) assertReachable(plan.name, plan.workDir, user);
  if (plan.workDir) {
    args.push(plan.isReadOnlyRoot ? '--ro-bind' : '--bind', plan.workDir, mountAt(plan.workDir));
    for (const hidden of ctx.hidden) {
      if (hidden === plan.workDir || hidden.startsWith(`${plan.workDir}/`)) args.push('--tmpfs', hidden);
    }
  }
  args.push('--chdir', cwd, '--hostname', plan.name.slice(0, 63));
  const env = { ...plan.env };
  const drop = user ? [SETPRIV, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'] : [];
  if (plan.mode === 'http' && !host.isPrivateNetwork) {
    // The machine's network: no relay, but every replica needs a port of its own, as without a sandbox.
    const port = await freePort();
    env.PORT = env.http_port = env.port = String(port);
    env.upstream_url = `http://127.0.0.1:${port}`;
    args.push(...drop, plan.command.file, ...plan.command.args);
    return { file: host.bwrap, args, env, cwd: '/', address: { port } };
  }
  const upstream = plan.mode === 'http' ? await upstreamOf(plan, env) : undefined;
  args.push(...drop, process.execPath, WATCHDOG_INSIDE, watchdogConfig(plan, `${RUN_INSIDE}/${SOCKET_NAME}`, cwd, upstream));
  const started = host.outbound ? withOutbound(host.outbound, runDir, host.bwrap, args) : { file: host.bwrap, args };
  const socketPath = path.join(sockDir, SOCKET_NAME);
  // Where the channel cannot be guarded (a Node whose internals differ), the watchdog relays bytes instead.
  const handOff = upstream && canGuardChannel() ? { port: upstream.port, authority: `${upstream.host.includes(':') ? `[${upstream.host}]` : upstream.host}:${upstream.port}` } : undefined;
  return { ...started, env, cwd: '/', address: handOff ? { socketPath, handOff } : { socketPath } };
}

/**
 * The function's user must be able to read and enter its folder: said at deploy, instead of a
 * replica that dies at start with EACCES. Only the folder itself counts: inside the sandbox the
 * folders above it are made afresh (0755), whatever they are on the host.
 */
function assertReachable(fn: string, dir: string, user: FunctionUser): void {
  const st = statSync(dir);
  const shift = st.uid === user.uid ? 6 : st.gid === user.gid ? 3 : 0;
  if (((st.mode >> shift) & 0o5) === 0o5) return;
  throw new FaasqError('E_DEPLOY_FAILED', `function "${fn}": its folder ${dir} is not readable by FAASQ_FUNCTION_USER ${user.name} (${user.uid}:${user.gid}); make it readable (chmod o+rx) or choose another FAASQ_FUNCTION_USER`, { detail: { field: 'workingDir' } });
}

/** The read-only system a function needs: /usr and /etc, and the merged-/usr links (or folders) beside them. */
function systemMounts(): string[] {
  const args = ['--ro-bind', '/usr', '/usr', '--ro-bind', '/etc', '/etc'];
  for (const top of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    let target: string | undefined;
    try {
      target = realpathSync(top);
    } catch {
      continue; // not on this machine
    }
    if (target !== top) args.push('--symlink', path.relative('/', target), top);
    else args.push('--ro-bind', top, top);
  }
  return args;
}

/** Node's own folder when it lives outside /usr (nvm, /opt): bound read-only so the watchdog can run. */
function nodeInstallDir(): string | undefined {
  const real = realpathSync(process.execPath);
  if (real.startsWith('/usr/')) return undefined;
  return path.dirname(path.dirname(real));
}
