// Real nats-server processes for tests: one JetStream server or a 3-node loopback cluster, each on
// free ports with its own temp store dir, ready once the monitoring /healthz answers 200.
// The binary comes from env FAASQ_NATS_SERVER_BIN, else from .tools/ (scripts/install-nats-server.sh).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.js';
import { freePort } from '../../src/shared/free-port.js';
import { natsHealth } from '../../src/app/nats-supervisor.js';

export type NatsServerVersion = '2.10' | '2.15';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;

/** The nats-server binary to test against, or undefined when none is installed. */
export function findNatsServerBin(version: NatsServerVersion = '2.10'): string | undefined {
  const fromEnv = process.env.FAASQ_NATS_SERVER_BIN;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  const tools = path.join(ROOT, '.tools');
  if (!existsSync(tools)) return undefined;
  const dirs = readdirSync(tools).filter((d) => d.startsWith(`nats-server-${version}.`)).sort().reverse();
  for (const dir of dirs) {
    const bin = path.join(tools, dir, 'usr/sbin/nats-server');
    if (existsSync(bin)) return bin;
  }
  return undefined;
}

/** Why JetStream tests cannot run here, or undefined when they can. In CI a missing binary is a failure, not a skip. */
export function natsSkipReason(version: NatsServerVersion = '2.10'): string | undefined {
  if (findNatsServerBin(version)) return undefined;
  const handed = version === '2.10' && process.env.FAASQ_TEST_TOOLS_MISSING ? (JSON.parse(process.env.FAASQ_TEST_TOOLS_MISSING) as { nats?: string }).nats : undefined;
  const why = handed ?? `nats-server ${version} not found: run scripts/install-nats-server.sh or set FAASQ_NATS_SERVER_BIN`;
  if (process.env.CI) throw new Error(`${why} (CI is set, so this is an error, not a skip)`);
  return why;
}

export { freePort };

export interface NatsServerOptions {
  readonly version?: NatsServerVersion;
  readonly jetstream?: boolean;
  /** Store dir to use (kept on close); default: a fresh temp dir (removed on close). */
  readonly storeDir?: string;
  readonly name?: string;
  /** nats-server max_payload; default 8MB (the server's own default is 1MB). */
  readonly maxPayload?: string;
}

export interface NatsNode {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  isRunning(): boolean;
  /** SIGTERM and wait for the exit (restartable). */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit (restartable). */
  kill9(): Promise<void>;
  /** Starts again on the same ports and store; waits for readiness. */
  restart(): Promise<void>;
  /** Stops and removes what start created. */
  close(): Promise<void>;
}

interface NodeSetup {
  readonly bin: string;
  readonly name: string;
  readonly dir: string;
  readonly storeDir: string;
  readonly isStoreOwned: boolean;
  readonly port: number;
  readonly monitorPort: number;
  readonly config: string;
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsNode> {
  const bin = requireBin(options.version);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faasq-nats-'));
  const storeDir = options.storeDir ?? path.join(dir, 'store');
  const [port, monitorPort] = [await freePort(), await freePort()];
  const name = options.name ?? `n-${port}`;
  const config = serverConfig({ name, port, monitorPort, storeDir, isJetStream: options.jetstream ?? true, maxPayload: options.maxPayload });
  const node = createNode({ bin, name, dir, storeDir, isStoreOwned: !options.storeDir, port, monitorPort, config });
  await node.restart();
  return node;
}

export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** All client URLs, comma-joined (the FAASQ_QUEUE form). */
  readonly url: string;
  /** Index of the node leading the stream, or undefined while none does. */
  streamLeader(stream: string): Promise<number | undefined>;
  close(): Promise<void>;
}

/**
 * Starts a cluster of `size` JetStream servers on loopback and waits until it has formed. A start
 * that does not form in time is tried once more on fresh ports: the ports come from freePort(), and
 * another test process can take one in the moment before nats-server binds it.
 */
export async function startNatsCluster(size: number, options: { version?: NatsServerVersion } = {}): Promise<NatsCluster> {
  try {
    return await startClusterOnce(size, options);
  } catch {
    return startClusterOnce(size, options);
  }
}

async function startClusterOnce(size: number, options: { version?: NatsServerVersion }): Promise<NatsCluster> {
  const bin = requireBin(options.version);
  const clusterName = `faasq-${process.pid}-${Date.now().toString(36)}`;
  const specs: { name: string; port: number; monitorPort: number; routePort: number; dir: string }[] = [];
  for (let i = 0; i < size; i++) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'faasq-nats-'));
    specs.push({ name: `n${i + 1}`, port: await freePort(), monitorPort: await freePort(), routePort: await freePort(), dir });
  }
  const routes = specs.map((s) => `nats-route://127.0.0.1:${s.routePort}`);
  const nodes = specs.map((s) => {
    const storeDir = path.join(s.dir, 'store');
    const config =
      serverConfig({ name: s.name, port: s.port, monitorPort: s.monitorPort, storeDir, isJetStream: true }) +
      `cluster {\n  name: ${clusterName}\n  listen: 127.0.0.1:${s.routePort}\n  routes: [\n    ${routes.join('\n    ')}\n  ]\n}\n`;
    return createNode({ bin, name: s.name, dir: s.dir, storeDir, isStoreOwned: true, port: s.port, monitorPort: s.monitorPort, config });
  });
  try {
    await Promise.all(nodes.map((n) => n.restart()));
    // Each server answering is not a formed cluster: R3 streams are refused (10005, no suitable
    // peers) until the meta leader knows every JetStream server and they are current.
    await waitFor(() => isMetaClusterFormed(nodes, size), { timeoutMs: 20_000, intervalMs: 100, message: 'JetStream meta cluster formed' });
  } catch (err) {
    await Promise.all(nodes.map((n) => n.close()));
    throw err;
  }
  return {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    async streamLeader(stream) {
      for (const node of nodes) {
        if (!node.isRunning()) continue;
        const leader = await streamLeaderFrom(node, stream).catch(() => undefined);
        if (leader) {
          const index = nodes.findIndex((n) => n.name === leader);
          return index >= 0 ? index : undefined;
        }
      }
      return undefined;
    },
    async close() {
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
}

function requireBin(version: NatsServerVersion | undefined): string {
  const bin = findNatsServerBin(version);
  if (!bin) throw new Error(`nats-server ${version ?? '2.10'} not found: run scripts/install-nats-server.sh or set FAASQ_NATS_SERVER_BIN`);
  return bin;
}

function serverConfig(o: { name: string; port: number; monitorPort: number; storeDir: string; isJetStream: boolean; maxPayload?: string }): string {
  // max_payload 8MB: faasq's bodies and results may reach 1 MiB plus framing (the default is exactly 1 MiB).
  const js = o.isJetStream ? `jetstream {\n  store_dir: "${o.storeDir}"\n  max_memory_store: 256MB\n  max_file_store: 4GB\n}\n` : '';
  return `server_name: ${o.name}\nlisten: 127.0.0.1:${o.port}\nhttp: 127.0.0.1:${o.monitorPort}\nmax_payload: ${o.maxPayload ?? '8MB'}\n${js}`;
}

function createNode(setup: NodeSetup): NatsNode {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const configFile = path.join(setup.dir, `${setup.name}.conf`);
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };

  const signalAndWait = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        proc.kill('SIGKILL');
        resolve();
      }, EXIT_TIMEOUT_MS);
    });
    await Promise.race([exited, timeout]);
    clearTimeout(timer);
    await exited;
    process.removeListener('exit', killOnExit);
  };

  const node: NatsNode = {
    name: setup.name,
    url: `nats://127.0.0.1:${setup.port}`,
    port: setup.port,
    monitorPort: setup.monitorPort,
    storeDir: setup.storeDir,
    isRunning: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    stop: () => signalAndWait('SIGTERM'),
    kill9: () => signalAndWait('SIGKILL'),
    async restart() {
      if (node.isRunning()) throw new Error(`nats-server ${setup.name} is already running`);
      await writeFile(configFile, setup.config);
      const logFd = openSync(path.join(setup.dir, `${setup.name}.log`), 'a');
      try {
        child = spawn(setup.bin, ['-c', configFile], { stdio: ['ignore', logFd, logFd] });
      } finally {
        closeSync(logFd);
      }
      const proc = child;
      exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      process.once('exit', killOnExit);
      let lastHealth = 'no answer';
      await waitFor(async () => {
        if (!node.isRunning()) throw new Error(`nats-server ${setup.name} exited (log: ${setup.dir})`);
        lastHealth = await natsHealth(setup.monitorPort);
        return lastHealth === 'ok';
      }, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 50, message: `nats-server ${setup.name} healthy` }).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; last /healthz: ${lastHealth}`, { cause: err });
      });
    },
    async close() {
      await node.stop();
      await rm(setup.dir, { recursive: true, force: true });
      if (!setup.isStoreOwned) return;
      await rm(setup.storeDir, { recursive: true, force: true });
    },
  };
  return node;
}

interface JszReply {
  account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[];
  meta_cluster?: { leader?: string; cluster_size?: number; replicas?: { current?: boolean; offline?: boolean }[] };
}

/** The meta group has a leader and `size` members, every follower current (only the leader lists them). */
async function isMetaClusterFormed(nodes: readonly NatsNode[], size: number): Promise<boolean> {
  for (const node of nodes) {
    const res = await fetch(`http://127.0.0.1:${node.monitorPort}/jsz`, { signal: AbortSignal.timeout(2000) });
    const meta = ((await res.json()) as JszReply).meta_cluster;
    if (!meta?.leader || meta.leader !== node.name) continue;
    const replicas = meta.replicas ?? [];
    return (meta.cluster_size ?? 0) >= size && replicas.length >= size - 1 && replicas.every((r) => r.current && !r.offline);
  }
  return false;
}

async function streamLeaderFrom(node: NatsNode, stream: string): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${node.monitorPort}/jsz?accounts=true&streams=true`, { signal: AbortSignal.timeout(2000) });
  const body = (await res.json()) as JszReply;
  for (const account of body.account_details ?? []) {
    for (const s of account.stream_detail ?? []) {
      if (s.name === stream && s.cluster?.leader) return s.cluster.leader;
    }
  }
  return undefined;
}
