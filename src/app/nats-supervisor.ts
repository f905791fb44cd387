// `faasq up --nats`: runs a local nats-server (JetStream, store in <dataDir>/nats, loopback only,
// max_payload 8MB) as a child process, restarts it with backoff when it dies, and stops it last.
// The queue's NATS client reconnects by itself, so a restart is a short 503 window for accepts.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FaasqError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { freePort } from '../shared/free-port.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, withOwnerOnlyUmask } from '../shared/private-files.js';

export interface NatsSupervisorOptions {
  readonly bin: string;
  /** The folder for the config, the log and the JetStream store. */
  readonly dir: string;
  /** Client port; 0 picks a free one (kept across restarts). */
  readonly port: number;
  readonly logger: Logger;
  readonly readyTimeoutMs?: number;
  readonly restartMinMs?: number;
  readonly restartMaxMs?: number;
}

export interface NatsSupervisor {
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  readonly monitorPort: number;
  /** The running server's pid (undefined between a crash and its restart). */
  pid(): number | undefined;
  /** Resolves when a server answers /healthz 200 (after start or a restart). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after the grace; no restart afterwards. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;
/** A server that stayed up this long counts as healthy again: the next crash restarts fast. */
const STABLE_AFTER_MS = 30_000;
const POLL_MS = 50;

export async function startNatsSupervisor(options: NatsSupervisorOptions): Promise<NatsSupervisor> {
  const { logger } = options;
  const storeDir = path.join(options.dir, 'store');
  await mkdir(storeDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const port = options.port > 0 ? options.port : await freePort();
  const monitorPort = await freePort();
  const configFile = path.join(options.dir, 'nats-server.conf');
  await writeFile(configFile, serverConfig({ port, monitorPort, storeDir }), { mode: PRIVATE_FILE_MODE });
  const logFile = path.join(options.dir, 'nats-server.log');
  const minMs = options.restartMinMs ?? 200;
  const maxMs = options.restartMaxMs ?? 10_000;

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let isClosing = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let startedAt = 0;
  // A crash of faasq itself must not leave an orphan server holding the store.
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const launch = (): void => {
    const logFd = openSync(logFile, 'a', PRIVATE_FILE_MODE);
    try {
      // nats-server inherits the umask: its store files (0640 less the umask) become owner-only.
      child = withOwnerOnlyUmask(() => spawn(options.bin, ['-c', configFile], { stdio: ['ignore', logFd, logFd] }));
    } finally {
      closeSync(logFd);
    }
    startedAt = Date.now();
    const proc = child;
    exited = new Promise<void>((resolve) => proc.once('exit', (code, signal) => {
      if (child === proc) child = undefined;
      resolve();
      if (isClosing) return;
      failures = Date.now() - startedAt >= STABLE_AFTER_MS ? 1 : failures + 1;
      const delayMs = Math.min(maxMs, minMs * 2 ** (failures - 1));
      logger.warn({ code, signal, delayMs, log: logFile }, 'nats-server exited; restarting');
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (!isClosing) launch();
      }, delayMs);
    }));
    proc.once('error', (err) => logger.error({ err }, 'nats-server failed to spawn'));
    logger.info({ pid: proc.pid, port, monitorPort, storeDir }, 'nats-server started');
  };

  const waitReady = async (timeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (!isClosing) {
      last = await natsHealth(monitorPort);
      if (last === 'ok') return;
      if (Date.now() >= deadline) {
        throw new FaasqError('E_QUEUE_UNAVAILABLE', `nats-server did not become ready within ${timeoutMs}ms (last /healthz: ${last}; log: ${logFile})`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new FaasqError('E_SHUTTING_DOWN', 'nats-server supervisor is closing');
  };

  const close = async (): Promise<void> => {
    isClosing = true;
    clearTimeout(restartTimer);
    const proc = child;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', killOnExit);
  };

  launch();
  try {
    await waitReady();
  } catch (err) {
    await close();
    throw err;
  }
  return { url: `nats://127.0.0.1:${port}`, monitorPort, pid: () => child?.pid, waitReady, close };
}

function serverConfig(o: { port: number; monitorPort: number; storeDir: string }): string {
  // max_payload 8MB: bodies and results reach 1 MiB plus framing; the server default is exactly 1 MiB.
  return [
    'server_name: faasq-local',
    `listen: 127.0.0.1:${o.port}`,
    `http: 127.0.0.1:${o.monitorPort}`,
    'max_payload: 8MB',
    `jetstream {\n  store_dir: ${JSON.stringify(o.storeDir)}\n}`,
    '',
  ].join('\n');
}

/** 'ok' when /healthz answers 200 (JetStream included), else what it said. */
export async function natsHealth(monitorPort: number): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${monitorPort}/healthz`, { signal: AbortSignal.timeout(1000) });
    const body = await res.text();
    return res.status === 200 ? 'ok' : `${res.status} ${body}`;
  } catch (err) {
    return `no answer (${(err as Error).message})`;
  }
}

