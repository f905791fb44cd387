// `faasq up | gateway | worker`: build the Config from flags (config file < env < flags) and hand
// it to the composition root. The app is imported lazily so client commands start fast.
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { parseWholeNumber } from '../option-parsers.js';
import { recordGateway } from '../record-gateway.js';

type Role = 'up' | 'gateway' | 'worker';

interface ServerFlags {
  stack?: string;
  yaml?: string;
  port?: number;
  host?: string;
  dataDir?: string;
  queue?: string;
  nats?: boolean;
  logFormat?: string;
  logLevel?: string;
  maxInflight?: number;
  queueName?: string;
  functionsUrl?: string;
  streamReplicas?: number;
  metricsPort?: number;
  config?: string;
}

export function registerServerCommands(program: Command, ctx: CliContext): void {
  const up = program.command('up').description('run gateway, provider, queue and worker in one process (embedded queue by default)');
  addStackFlags(addNetworkFlags(addCommonFlags(up)));
  up.option('--nats', 'start and supervise a local nats-server for the queue');
  up.option('--max-inflight <n>', 'calls the worker runs at once', parseWholeNumber);
  up.action((opts: ServerFlags) => start('up', opts, ctx));

  const gateway = program.command('gateway').description('run the gateway (and local provider) without a worker');
  addStackFlags(addNetworkFlags(addCommonFlags(gateway)));
  gateway.action((opts: ServerFlags) => start('gateway', opts, ctx));

  const worker = program.command('worker').description('run a queue worker');
  addCommonFlags(worker);
  worker.option('--queue-name <name>', 'consume only this queue');
  worker.option('--max-inflight <n>', 'calls this worker runs at once', parseWholeNumber);
  worker.option('--functions-url <url>', 'gateway or faas-provider URL to invoke functions through');
  worker.option('-f, --stack <file>', 'read function annotations (retry policy, concurrency) from this stack file instead of the gateway');
  worker.option('--metrics-port <port>', 'serve GET /metrics and /healthz on this port (default: off)', parseWholeNumber);
  worker.option('--host <host>', 'address the metrics port listens on (default 127.0.0.1)');
  worker.action((opts: ServerFlags) => start('worker', opts, ctx));
}

function addCommonFlags(cmd: Command): Command {
  return cmd
    .option('--queue <url>', 'queue backend: embedded, memory or nats://host:port[,nats://…]')
    .option('--stream-replicas <n>', 'JetStream stream replicas (1, 3 or 5)', parseWholeNumber)
    .option('--data-dir <dir>', 'data folder (embedded queue, function state)')
    .addOption(new Option('--log-format <format>', 'log format').choices(['json', 'console']))
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']))
    .option('--config <file>', 'YAML config file');
}

function addNetworkFlags(cmd: Command): Command {
  return cmd
    .option('--port <port>', 'port to listen on (default 8080)', parseWholeNumber)
    .option('--host <host>', 'address to listen on (default 127.0.0.1)');
}

function addStackFlags(cmd: Command): Command {
  return cmd
    .option('-f, --stack <file>', 'stack file with the functions to run (default: stack.yml, stack.yaml or examples/stack.yml, the first present)')
    .option('--yaml <file>', 'same as --stack (faas-cli spelling)');
}

async function start(role: Role, opts: ServerFlags, ctx: CliContext): Promise<void> {
  const { loadConfig } = await import('../../config/index.js');
  const flags: Record<string, string | number | boolean | undefined> = {
    port: opts.port,
    host: opts.host,
    dataDir: opts.dataDir,
    stackFile: opts.stack ?? opts.yaml,
    'queue.url': opts.queue,
    'queue.streamReplicas': opts.streamReplicas,
    'log.format': opts.logFormat,
    'log.level': opts.logLevel,
    'worker.maxInflight': opts.maxInflight,
    'worker.queueName': opts.queueName,
    'provider.functionsUrl': opts.functionsUrl,
    'worker.metricsPort': opts.metricsPort,
  };
  let config = loadConfig({ flags: flags, configFile: opts.config });
  if (role !== 'worker' && config.stackFile === undefined) {
    // No stack named anywhere: use the one in the current folder when there is one, as faas-cli
    // does; in a faasq checkout, the examples, so `npx faasq up` shows something at once.
    const found = ['stack.yml', 'stack.yaml', 'examples/stack.yml'].find((f) => existsSync(f));
    if (found) config = loadConfig({ flags: { ...flags, stackFile: found }, configFile: opts.config });
  }
  const { runRole } = await import('../../app/index.js');
  const running = await runRole(role, config, { startNats: Boolean(opts.nats), handleSignals: true });
  if (running.adminCredentials && running.port > 0) {
    try {
      const urls = await recordGateway(ctx.store(), config.host, running.port, running.adminCredentials);
      ctx.io.stderr.write(`faasq ${role}: credentials for ${urls[0]} recorded in ${ctx.store().file}\n`);
    } catch (err) {
      // A read-only home must not stop the gateway: the CLI can still use FAASQ_PASSWORD or login.
      ctx.io.stderr.write(`faasq ${role}: warning: could not record credentials in ${ctx.store().file}: ${(err as Error).message}\n`);
    }
  }
  if (running.port > 0) ctx.io.stderr.write(`faasq ${role}: listening on http://${config.host}:${running.port}\n`);
  else {
    const metricsAt = config.worker.metricsPort > 0 ? `; metrics on http://${config.host}:${config.worker.metricsPort}/metrics` : '';
    ctx.io.stderr.write(`faasq ${role}: consuming ${config.worker.queueName ?? 'every queue'} from ${config.queue.url}${metricsAt}\n`);
  }
}
