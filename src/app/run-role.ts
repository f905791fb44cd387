// Starts one role in this process and stops it in reverse order: stop intake (503), drain the
// worker to its grace deadline, close the gateway, the queue, then the function processes.
// On SIGTERM/SIGINT it closes gracefully; a second signal forces the exit.
import type { Config } from '../config/index.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { EventBus } from '../shared/events.js';
import { FaasqError } from '../shared/errors.js';
import { DEFAULT_NAMESPACE } from '../shared/names.js';
import { createLocalProvider, type FunctionSpec, type Invoker, type Provider } from '../provider/index.js';
import { buildStackFile } from '../stack/index.js';
import type { Queue } from '../queue/index.js';
import { createGateway, resolveCredentials, resolveInvokeCredentials } from '../gateway/index.js';
import { createWorker } from '../worker/index.js';
import { createMetrics, createMetricsServer } from '../metrics/index.js';
import { ensureDataDir } from './data-dir.js';
import { createHealth } from './health.js';
import { uiDir } from './ui-dir.js';
import { createRemoteFunctions, requireFunctionsUrl } from './remote-functions.js';
import { startLocalNats } from './local-nats.js';
import { startQueue } from './start-queue.js';
import { ANNOTATIONS } from '../shared/annotations.js';

export type Role = 'up' | 'gateway' | 'worker';

export interface RoleOptions {
  /** faasq up --nats: start and supervise a local nats-server. */
  readonly startNats?: boolean;
  /** Install signal handlers and exit the process when stopped (false in tests). */
  readonly handleSignals?: boolean;
  /** Use this logger instead of one built from config.log (tests). */
  readonly logger?: Logger;
}

export interface RunningRole {
  /** The gateway's bound port (0 when no gateway runs). */
  readonly port: number;
  /** The /system credentials this gateway checks (undefined for a worker), so the CLI can record them. */
  readonly adminCredentials?: { readonly user: string; readonly password: string };
  /** Resolves when the role has stopped (after a signal or close()). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export async function runRole(role: Role, config: Config, options: RoleOptions = {}): Promise<RunningRole> {
  const logger = options.logger ?? createLogger({ level: config.log.level, format: config.log.format });
  const events = new EventBus();
  const closers: Array<{ name: string; close: () => Promise<void> | void }> = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) {
      try {
        await c.close();
      } catch (err) {
        logger.error({ err, component: c.name }, 'close failed');
      }
    }
  };

  try {
    if (role === 'worker') requireFunctionsUrl(config);
    if (options.startNats && role !== 'up') throw new FaasqError('E_CONFIG', '--nats is only for faasq up');
    // A worker on NATS keeps nothing on disk: no .faasq/ folder left behind.
    if (role !== 'worker' || !config.queue.url.startsWith('nats')) await ensureDataDir(config.dataDir, logger);
    if (options.startNats) {
      // Started first so it is closed last, after the queue has let go of it.
      const nats = await startLocalNats(config, logger.child({ component: 'nats-server' }));
      closers.push({ name: 'nats-server', close: () => nats.close() });
      config = nats.config;
    }

    let provider: Provider | undefined;
    let invoker: Invoker;
    let getSpec: (fn: string, ns: string) => FunctionSpec | undefined;
    if (role === 'worker') {
      const remote = await createRemoteFunctions(config, logger);
      closers.push({ name: 'invoker', close: () => remote.close() });
      invoker = remote.invoker;
      getSpec = (fn, ns) => remote.getSpec(fn, ns);
    } else {
      provider = createLocalProvider({ config, logger: logger.child({ component: 'provider' }), events });
      await provider.start();
      closers.push({ name: 'provider', close: () => provider!.close() });
      invoker = provider;
      const local = provider;
      getSpec = (fn, ns) => local.getSpec(fn, ns);
      if (config.stackFile) {
        const specs = await buildStackFile(config.stackFile, {
          dataDir: config.dataDir,
          onAssembled: (fn, built) => {
            logger.info({ fn, dir: built.root, isRebuilt: built.isRebuilt }, built.isRebuilt ? 'function assembled from its template' : 'function unchanged, template build reused');
            if (built.skippedEnv.length > 0) logger.info({ fn, skipped: built.skippedEnv }, 'Dockerfile ENV left out');
          },
          onOutput: (fn, text) => logger.debug({ fn, output: text.trimEnd() }, 'template install output'),
        });
        for (const spec of specs) {
          await provider.deploy(spec, { upsert: true }); // the provider logs 'function deployed'
        }
      }
    }

    const queue: Queue = await startQueue(config, logger.child({ component: 'queue' }));
    closers.push({ name: 'queue', close: () => queue.close() });
    if (provider) {
      for (const fn of await provider.list(DEFAULT_NAMESPACE)) {
        const q = fn.annotations?.[ANNOTATIONS.queue.name];
        if (q) await queue.ensureQueue(q);
      }
    }

    const metrics = createMetrics({ events, provider, queue, isCountingWorkerAttempts: role === 'up' });
    closers.push({ name: 'metrics', close: () => metrics.close() });
    if (role === 'worker' && config.worker.metricsPort > 0) {
      // No gateway here to serve /metrics; opened before the worker so it closes after the drain.
      const metricsServer = createMetricsServer({
        host: config.host, port: config.worker.metricsPort, metrics,
        health: createHealth({ queue, role }),
        logger: logger.child({ component: 'metrics' }),
      });
      closers.push({ name: 'metrics-server', close: () => metricsServer.close() });
      await metricsServer.start();
    }

    let port = 0;
    let adminCredentials: RunningRole['adminCredentials'];
    let stopIntake = (): void => {};
    if (role !== 'worker' && provider) {
      const credentials = await resolveCredentials(config, logger);
      adminCredentials = { user: credentials.user, password: credentials.password };
      if (credentials.isGenerated) {
        process.stderr.write(`faasq: generated credentials for /system and /ui: user "${credentials.user}", password "${credentials.password}" (stored in ${config.dataDir}/credentials.json)\n`);
      }
      const invokeCredentials = await resolveInvokeCredentials(config, credentials, logger);
      if (invokeCredentials?.isGenerated) {
        process.stderr.write(`faasq: generated invocation credentials for /function and /async-function: user "${invokeCredentials.user}", password "${invokeCredentials.password}" (stored in ${config.dataDir}/invoke-credentials.json)\n`);
      }
      const gateway = createGateway({
        config, provider, events, queue, credentials, invokeCredentials, metrics,
        logger: logger.child({ component: 'gateway' }),
        health: createHealth({ provider, queue, role }),
        uiDir: uiDir(),
      });
      port = (await gateway.start()).port;
      stopIntake = () => gateway.stopIntake();
      closers.push({ name: 'gateway', close: () => gateway.close() });
      logger.info({ port, host: config.host, queue: config.queue.url.startsWith('nats') ? 'jetstream' : config.queue.url }, 'gateway listening');
    }

    if (role !== 'gateway' && config.worker.isEnabled) {
      const worker = createWorker({
        config, queue, invoker, events,
        getSpec,
        logger: logger.child({ component: 'worker' }),
        queues: config.worker.queueName ? [config.worker.queueName] : undefined,
      });
      await worker.start();
      // The worker drains before the gateway closes, but intake stops first.
      closers.push({ name: 'worker', close: async () => { stopIntake(); await worker.close(); } });
    }

    return { ...supervise(closeAll, logger, options.handleSignals === true, port), adminCredentials };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function supervise(closeAll: () => Promise<void>, logger: Logger, handleSignals: boolean, port: number): RunningRole {
  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => { resolveClosed = resolve; });
  const close = (): Promise<void> => {
    closing ??= closeAll().finally(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolveClosed();
    });
    return closing;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      logger.warn({ signal }, 'second signal: forcing exit');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    void close().then(() => process.exit(0));
  };
  if (handleSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  return { port, closed, close };
}
