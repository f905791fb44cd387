// The local provider: a registry of function specs (control plane) and the runtimes that run
// them as child processes or forward to upstreams (data plane). Changes to one function are
// applied strictly in order through a per-function op queue; different functions in parallel.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../config/config.js';
import type { EventBus } from '../../shared/events.js';
import { FaasqError } from '../../shared/errors.js';
import { DEFAULT_NAMESPACE, assertDeployableName } from '../../shared/names.js';
import type { Logger } from '../../shared/logger.js';
import type { DirectRoute, FunctionSpec, FunctionStatus, InvocationRequest, InvocationResponse, LogEntry, LogQuery, Provider, ResponseSink, SecretInput } from '../provider.js';
import { streamViaInvoke } from '../stream-adapter.js';
import { specToStatus } from '../function-status.js';
import { MAX_REPLICAS, buildRuntime, minReplicas } from './build-runtime.js';
import { LogRing } from './log-ring.js';
import { followLogs } from './follow-logs.js';
import { createOpQueue } from './op-queue.js';
import type { FunctionRuntime, RuntimeLimits } from './runtime.js';
import { createSecretStore } from './secret-store.js';
import { createLiveSecrets, detectSandbox, type LaunchContext } from './sandbox/index.js';

export interface LocalProviderDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly events: EventBus;
  /** Environment every function process inherits; defaults to this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  readonly maxLogLines?: number;
}

interface Entry {
  spec: FunctionSpec;
  runtime: FunctionRuntime;
  createdAt: Date;
  invocationCount: number;
}

const keyOf = (name: string, namespace: string): string => `${namespace}/${name}`;
const notFound = (name: string, namespace: string): FaasqError =>
  new FaasqError('E_FUNCTION_NOT_FOUND', `function "${name}" not found in namespace "${namespace}"`);

export function createLocalProvider(deps: LocalProviderDeps): Provider {
  const { config } = deps;
  // The caller passes a child logger already bound to { component }.
  const log = deps.logger;
  const baseEnv = inheritedEnv(deps.env ?? process.env);
  const limits: RuntimeLimits = config.provider;
  const functions = new Map<string, Entry>();
  const rings = new Map<string, LogRing>();
  const ops = createOpQueue();
  const secrets = createSecretStore(config.provider.secretsDir);
  const liveSecrets = createLiveSecrets();
  let isStarted = false;
  let isClosing = false;
  let closed: Promise<void> | undefined;
  let launchContext: LaunchContext | undefined;
  let launching: Promise<LaunchContext> | undefined;

  /** Decided once, at start (or at the first deploy before it), and said once in the log. */
  const launchContextOf = (): Promise<LaunchContext> => {
    launching ??= (async () => {
      const host = detectSandbox(config.provider.sandbox, config.provider.functionUser, config.provider.sandboxNetwork, config.provider.sandboxHostLoopback);
      // A short folder of its own (Unix socket paths are limited to 107 bytes), named with this
      // process's id so that folders left by a faasq that was killed can be recognised and removed.
      await removeStaleRunFolders(os.tmpdir());
      const runBase = await mkdtemp(path.join(os.tmpdir(), `faasq-run-${process.pid}-`));
      launchContext = { host, runBase, hidden: [config.dataDir, config.provider.secretsDir, runBase], secrets: liveSecrets };
      if (host.isOn) {
        log.info({ sandbox: 'bubblewrap', user: host.user?.name, cgroups: host.cgroups.kind, network: host.outbound ? 'outbound' : host.isPrivateNetwork ? 'private' : 'host' }, `functions are sandboxed: ${host.reason}`);
        if (host.networkFallback) {
          log.warn({ network: 'private', reason: host.networkFallback }, `sandboxed functions cannot make outbound calls: ${host.networkFallback}; install slirp4netns, or set FAASQ_SANDBOX_NETWORK=private to say this is meant`);
        }
      } else {
        log.warn(
          { sandbox: 'off', reason: host.reason, cgroups: host.cgroups.kind },
          `functions are not sandboxed (${host.reason}): they run as faasq's user with its environment (minus FAASQ_*), secrets are in the folder named by env secret_mount_path, and each http-mode replica gets a free port in PORT and http_port with upstream_url rewritten to it`,
        );
      }
      return launchContext;
    })();
    return launching;
  };

  const ringOf = (spec: FunctionSpec): LogRing => {
    const key = keyOf(spec.name, spec.namespace);
    let ring = rings.get(key);
    if (!ring) {
      ring = new LogRing(deps.maxLogLines ?? 1000);
      rings.set(key, ring);
    }
    return ring;
  };

  const startRuntime = async (spec: FunctionSpec, replicas: number): Promise<FunctionRuntime> => {
    const ring = ringOf(spec);
    const launch = await launchContextOf();
    const secretFiles = launch.host.isOn && spec.secrets.length > 0 ? await secrets.files(spec.namespace, spec.secrets) : [];
    const secretsPath = !launch.host.isOn && spec.secrets.length > 0 ? await secrets.mount(spec.name, spec.namespace, spec.secrets) : undefined;
    const runtime = buildRuntime(spec, replicas, {
      baseEnv,
      defaultDir: process.cwd(),
      limits,
      secretsPath,
      secretFiles,
      launch,
      log: (instance, text) => ring.push({ name: spec.name, namespace: spec.namespace, instance, timestamp: new Date().toISOString(), text }),
      onOomKill: (instance) => {
        log.warn({ fn: spec.name, namespace: spec.namespace, instance, limit: spec.limits?.memory }, 'function killed at its memory limit');
        deps.events.emit('function.oom_killed', { fn: spec.name, namespace: spec.namespace, instance });
      },
      onStray: (fnLabel, reason) => deps.events.emit('upstream.anomaly', { fn: fnLabel, path: 'full', reason }),
      quietMs: config.gateway.upstreamQuietMs,
    });
    try {
      await runtime.start();
    } catch (err) {
      await runtime.stop();
      throw err;
    }
    return runtime;
  };

  /** Runs one control-plane op for a function in order, logging its start and end at debug. */
  const queued = <T>(op: string, name: string, namespace: string, fn: () => Promise<T>): Promise<T> =>
    ops.run(keyOf(name, namespace), async () => {
      if (isClosing) throw new FaasqError('E_SHUTTING_DOWN', 'provider is shutting down');
      log.debug({ op, fn: name, namespace }, 'op started');
      try {
        return await fn();
      } finally {
        log.debug({ op, fn: name, namespace }, 'op finished');
      }
    });

  const replace = async (entry: Entry, spec: FunctionSpec): Promise<void> => {
    const replicas = minReplicas(spec) ?? entry.runtime.replicas();
    const runtime = await startRuntime(spec, replicas);
    const old = entry.runtime;
    entry.spec = spec;
    entry.runtime = runtime;
    await old.stop();
  };

  const statusOf = (entry: Entry): FunctionStatus =>
    specToStatus(entry.spec, entry.runtime.replicas(), entry.runtime.availableReplicas(), entry.createdAt, entry.invocationCount);

  return {
    name: 'faasq',
    orchestration: 'local',

    async start() {
      await mkdir(config.provider.secretsDir, { recursive: true, mode: 0o700 });
      await launchContextOf();
      isStarted = true;
    },

    close() {
      closed ??= (async () => {
        isClosing = true;
        await ops.idle();
        const entries = [...functions.values()];
        functions.clear();
        await Promise.all(entries.map((entry) => entry.runtime.stop()));
        if (launchContext) await rm(launchContext.runBase, { recursive: true, force: true });
      })();
      return closed;
    },

    deploy(spec, options = {}) {
      return queued('deploy', spec.name, spec.namespace, async () => {
        assertDeployableName(spec.name, 'service');
        const key = keyOf(spec.name, spec.namespace);
        const existing = functions.get(key);
        if (existing) {
          if (!options.upsert) throw new FaasqError('E_CONFLICT', `function "${spec.name}" already exists in namespace "${spec.namespace}"`);
          await replace(existing, spec);
          return;
        }
        const runtime = await startRuntime(spec, minReplicas(spec) ?? 1);
        functions.set(key, { spec, runtime, createdAt: new Date(), invocationCount: 0 });
        log.info({ fn: spec.name, namespace: spec.namespace }, 'function deployed');
      });
    },

    update(spec) {
      return queued('update', spec.name, spec.namespace, async () => {
        assertDeployableName(spec.name, 'service');
        const existing = functions.get(keyOf(spec.name, spec.namespace));
        if (!existing) throw notFound(spec.name, spec.namespace);
        await replace(existing, spec);
        log.info({ fn: spec.name, namespace: spec.namespace }, 'function updated');
      });
    },

    remove(name, namespace) {
      return queued('remove', name, namespace, async () => {
        const key = keyOf(name, namespace);
        const existing = functions.get(key);
        if (!existing) throw notFound(name, namespace);
        functions.delete(key);
        rings.delete(key);
        await existing.runtime.stop();
        await secrets.unmount(name, namespace);
        log.info({ fn: name, namespace }, 'function removed');
      });
    },

    scale(name, namespace, replicas) {
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) {
        return Promise.reject(new FaasqError('E_INVALID_FIELD', `replicas must be a whole number 0-${MAX_REPLICAS}`, { detail: { field: 'replicas' } }));
      }
      return queued('scale', name, namespace, async () => {
        const existing = functions.get(keyOf(name, namespace));
        if (!existing) throw notFound(name, namespace);
        await existing.runtime.scale(replicas);
      });
    },

    async get(name, namespace) {
      const entry = functions.get(keyOf(name, namespace));
      if (!entry) throw notFound(name, namespace);
      return statusOf(entry);
    },

    getSpec(name, namespace) {
      return functions.get(keyOf(name, namespace))?.spec;
    },

    async list(namespace) {
      const out: FunctionStatus[] = [];
      for (const entry of functions.values()) if (entry.spec.namespace === namespace) out.push(statusOf(entry));
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },

    async namespaces() {
      const names = new Set([DEFAULT_NAMESPACE]);
      for (const entry of functions.values()) names.add(entry.spec.namespace);
      return [...names].sort();
    },

    invoke(fn: string, namespace: string, request: InvocationRequest): Promise<InvocationResponse> {
      const startedAt = performance.now();
      if (isClosing) return Promise.reject(new FaasqError('E_SHUTTING_DOWN', 'provider is shutting down'));
      const entry = functions.get(keyOf(fn, namespace));
      if (!entry) return Promise.reject(notFound(fn, namespace));
      entry.invocationCount += 1;
      return entry.runtime.invoke(request, startedAt);
    },

    stream(fn: string, namespace: string, request: InvocationRequest, sink: ResponseSink): void {
      const startedAt = performance.now();
      if (isClosing) return sink.onError(new FaasqError('E_SHUTTING_DOWN', 'provider is shutting down'));
      const entry = functions.get(keyOf(fn, namespace));
      if (!entry) return sink.onError(notFound(fn, namespace));
      entry.invocationCount += 1;
      const runtime = entry.runtime;
      if (runtime.stream) runtime.stream(request, startedAt, sink);
      else streamViaInvoke((req) => runtime.invoke(req, startedAt), request, sink);
    },

    route(fn: string, namespace: string): DirectRoute | undefined {
      if (isClosing) return undefined;
      const entry = functions.get(keyOf(fn, namespace));
      const route = entry?.runtime.route?.();
      if (route && entry) entry.invocationCount += 1;
      return route;
    },

    isDirect(fn: string, namespace: string): boolean {
      return !isClosing && (functions.get(keyOf(fn, namespace))?.runtime.isDirect?.() ?? false);
    },

    waitForRoute(fn: string, namespace: string, signal: AbortSignal): Promise<DirectRoute> | undefined {
      if (isClosing) return undefined;
      const entry = functions.get(keyOf(fn, namespace));
      const waiting = entry?.runtime.waitForRoute?.(signal);
      if (!waiting || !entry) return undefined;
      return waiting.then((route) => {
        entry.invocationCount += 1;
        return route;
      });
    },

    logs(query: LogQuery): AsyncIterable<LogEntry> {
      const key = keyOf(query.name, query.namespace);
      return followLogs(() => (functions.has(key) ? rings.get(key) : undefined), query, () => notFound(query.name, query.namespace));
    },

    listSecrets: (namespace) => secrets.list(namespace),
    async putSecret(secret: SecretInput, options) {
      await secrets.put(secret, options);
      // As Kubernetes updates mounted secrets: running sandboxed replicas see the new value (unsandboxed ones follow the store's file through their links).
      const [{ file }] = await secrets.files(secret.namespace, [secret.name]);
      const { written, failed } = await liveSecrets.refresh(file);
      if (written > 0) log.info({ secretName: secret.name, namespace: secret.namespace, replicas: written }, 'secret rewritten in running replicas');
      // The store holds the new value either way; a replica that missed it gets it at its next start.
      for (const err of failed) log.warn({ secretName: secret.name, namespace: secret.namespace, err }, 'secret not rewritten in a running replica');
    },
    removeSecret: (name, namespace) => secrets.remove(name, namespace),

    health() {
      let available = 0;
      for (const entry of functions.values()) available += entry.runtime.availableReplicas();
      return { isReady: isStarted && !isClosing, functions: functions.size, availableReplicas: available };
    },
  };
}

/** Runtime folders of faasq processes that are gone (killed before they could clean up). */
async function removeStaleRunFolders(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = /^faasq-run-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
    if (!match || isProcessAlive(Number(match[1]))) continue;
    await rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** faasq's own settings (FAASQ_PASSWORD, ...) are not the functions' business: they are not inherited. */
function inheritedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) if (!key.startsWith('FAASQ_')) out[key] = value;
  return out;
}
