// Chooses and configures the runtime for a spec: upstream (annotation), or replicas in http mode
// (environment `mode: http`) or fork mode (the default), with the process environment, exec
// timeout, limits and secrets the watchdog contracts promise.
import { FaasqError } from '../../shared/errors.js';
import { parseDurationMs } from '../../shared/durations.js';
import type { FunctionSpec } from '../provider.js';
import { assertDirectory, resolveCommand } from './command.js';
import { ReplicaRuntime } from './replica-runtime.js';
import type { FunctionRuntime, RuntimeLimits } from './runtime.js';
import { functionEnv, resourceLimits, type LaunchContext } from './sandbox/index.js';
import { UPSTREAM_ANNOTATION, UpstreamRuntime } from './upstream-runtime.js';
import { ANNOTATIONS } from '../../shared/annotations.js';
import type { StrayReason } from './quiet-pool.js';

export const SCALE_MIN_KEY = ANNOTATIONS.scaleMin.name;
export const MAX_REPLICAS = 100;

export interface RuntimeContext {
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly defaultDir: string;
  readonly limits: RuntimeLimits;
  readonly log: (instance: string, text: string) => void;
  /** Folder holding the function's secrets, when it has any (no sandbox). */
  readonly secretsPath: string | undefined;
  /** The function's secret files, copied into its sandbox. */
  readonly secretFiles: readonly { name: string; file: string }[];
  readonly launch: LaunchContext;
  readonly onOomKill: (instance: string) => void;
  /** A function (`name.namespace`) sent bytes on a full-path connection no request was using. */
  readonly onStray?: (fnLabel: string, reason: StrayReason) => void;
  /** How long a function connection rests after a reply before reuse (gateway.upstreamQuietMs). */
  readonly quietMs: number;
}

/** `com.openfaas.scale.min` from labels or annotations, default 1. */
export function minReplicas(spec: FunctionSpec): number | undefined {
  const raw = spec.labels[SCALE_MIN_KEY] ?? spec.annotations[SCALE_MIN_KEY];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > MAX_REPLICAS) throw new FaasqError('E_DEPLOY_FAILED', `${SCALE_MIN_KEY} must be a whole number 0-${MAX_REPLICAS}, got "${raw}"`);
  return n;
}

export function buildRuntime(spec: FunctionSpec, replicas: number, ctx: RuntimeContext): FunctionRuntime {
  const limits: RuntimeLimits = { ...ctx.limits, execTimeoutMs: execTimeoutMs(spec, ctx.limits.execTimeoutMs) };
  const upstream = spec.annotations[UPSTREAM_ANNOTATION];
  const { onStray } = ctx;
  const onStrayBytes = onStray ? (reason: StrayReason) => onStray(`${spec.name}.${spec.namespace}`, reason) : undefined;
  const pooling = { onStray: onStrayBytes, quietMs: ctx.quietMs };
  if (upstream) return new UpstreamRuntime(spec.name, upstream, replicas, limits, pooling);
  const cwd = spec.workingDir ?? ctx.defaultDir;
  assertDirectory(cwd);
  const isSandboxed = ctx.launch.host.isOn;
  const env = functionEnv(spec, { isSandboxed, inherited: ctx.baseEnv, secretsPath: ctx.secretsPath });
  const command = resolveCommand(spec.fprocess, cwd, env.PATH);
  const mode = spec.environment.mode ?? 'fork';
  if (mode !== 'http' && mode !== 'fork' && mode !== 'streaming' && mode !== 'serializing') {
    throw new FaasqError('E_DEPLOY_FAILED', `environment "mode" must be http or fork, got "${mode}"`);
  }
  const plan = {
    name: spec.name,
    mode: mode === 'http' ? ('http' as const) : ('fork' as const),
    command,
    workDir: spec.workingDir,
    defaultDir: ctx.defaultDir,
    env,
    secrets: ctx.secretFiles,
    isReadOnlyRoot: spec.readOnlyRootFilesystem === true,
    limits: resourceLimits(spec.limits),
    execTimeoutMs: limits.execTimeoutMs,
    maxOutputBytes: limits.maxForkOutputBytes,
  };
  return new ReplicaRuntime({ name: spec.name, namespace: spec.namespace, plan, launch: ctx.launch, replicas, limits, log: ctx.log, onOomKill: ctx.onOomKill, pooling });
}

/** The function's own `exec_timeout` (OpenFaaS duration, "0" disables) or the provider default. */
function execTimeoutMs(spec: FunctionSpec, fallbackMs: number): number {
  const raw = spec.environment.exec_timeout;
  if (raw === undefined || raw === '') return fallbackMs;
  try {
    return parseDurationMs(raw);
  } catch {
    throw new FaasqError('E_DEPLOY_FAILED', `environment "exec_timeout" is not a duration: "${raw}"`);
  }
}
