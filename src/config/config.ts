// The one module that reads process.env. Precedence: defaults < config file (--config / FAASQ_CONFIG,
// YAML with the same keys as the table below) < env FAASQ_* < flags. Loose input ("30s", "1MiB")
// is compiled once into a frozen Config with ...Ms / ...Bytes numbers; every bad key is named.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FaasqError } from '../shared/errors.js';
import { parseBytes, parseDurationMs } from '../shared/durations.js';
import type { LogFormat } from '../shared/logger.js';

import type { JitterMode } from '../shared/backoff.js';

export type { JitterMode };

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly stackFile?: string;
  readonly log: { readonly level: string; readonly format: LogFormat };
  readonly auth: {
    readonly user?: string;
    readonly password?: string;
    readonly isInvokeAuth: boolean;
    /** Invocation credentials (FAASQ_INVOKE_AUTH), separate from the admin pair; generated when unset. */
    readonly invokeUser?: string;
    readonly invokePassword?: string;
  };
  readonly gateway: {
    readonly upstreamTimeoutMs: number;
    readonly maxHeaderBytes: number;
    readonly maxAsyncBodyBytes: number;
    /** Largest sync request body (413 past it). */
    readonly maxBodyBytes: number;
    /** Request bytes the gateway may hold in memory at once across in-flight calls (bodies read whole). */
    readonly maxBufferedBytes: number;
    /** Default per-function concurrency for sync calls (0 = unlimited); annotation com.faasq.concurrency overrides. */
    readonly concurrency: number;
    readonly maxWaiting: number;
    readonly maxWaitMs: number;
    readonly callbackDenyList: readonly string[];
    /** Host names the gateway answers besides loopback ones (a loopback-bound gateway answers only those; 421 otherwise). */
    readonly allowedHosts: readonly string[];
    readonly shutdownGraceMs: number;
    /** Serve simple sync calls on the express lane (raw sockets); false sends every request through Node's http server. */
    readonly isExpressLane: boolean;
    /**
     * A connection to a function rests this long after a reply before another call may use it (both
     * sync paths), so bytes the function sends after its reply find it idle (docs/security.md).
     */
    readonly upstreamQuietMs: number;
  };
  readonly provider: {
    readonly secretsDir: string;
    readonly execTimeoutMs: number;
    readonly readyTimeoutMs: number;
    readonly healthIntervalMs: number;
    readonly restartMinMs: number;
    readonly restartMaxMs: number;
    readonly shutdownGraceMs: number;
    /** Base URL of a gateway or faas-provider to invoke through when no local runtime runs (faasq worker). */
    readonly functionsUrl?: string;
    /** Fork mode buffers a call's stdout (the exit code decides the status); beyond this the process is killed, 502. */
    readonly maxForkOutputBytes: number;
    /** auto: sandbox functions when bubblewrap can; on: refuse to start without a sandbox; off: never. */
    readonly sandbox: 'auto' | 'on' | 'off';
    /** The user sandboxed functions run as when faasq runs as root (name, uid or uid:gid). */
    readonly functionUser: string;
    /**
     * outbound: each replica its own network namespace with outbound calls through slirp4netns, the
     * host's loopback out of reach; private: its own namespace with lo only; host: the machine's
     * network; auto: outbound when slirp4netns is installed, else private.
     */
    readonly sandboxNetwork: 'auto' | 'outbound' | 'private' | 'host';
    /** With outbound: 10.0.2.2 inside a sandbox reaches the host's 127.0.0.1 (faasq's own services too). */
    readonly sandboxHostLoopback: boolean;
  };
  readonly queue: {
    /** embedded | memory | nats://host:port[,nats://...] */
    readonly url: string;
    readonly maxDepth: number;
    readonly leaseMs: number;
    readonly dedupeWindowMs: number;
    /** How long an accept keeps trying to store a call (same message id, any server) before it refuses. */
    readonly acceptTimeoutMs: number;
    readonly retentionMs: number;
    readonly maxResultBytes: number;
    readonly streamReplicas: number;
    /** Client port of the nats-server `faasq up --nats` starts (0 = a free port). */
    readonly natsPort: number;
  };
  readonly worker: {
    readonly isEnabled: boolean;
    readonly maxInflight: number;
    readonly queueName?: string;
    readonly retry: { readonly attempts: number; readonly codes: readonly number[]; readonly minWaitMs: number; readonly maxWaitMs: number; readonly jitter: JitterMode };
    readonly callback: { readonly secret?: string; readonly attempts: number; readonly minWaitMs: number; readonly maxWaitMs: number; readonly timeoutMs: number };
    readonly shutdownGraceMs: number;
    /** A call still running after this long gets its `running` record; quicker ones go straight to final (0 = before the call). */
    readonly runningRecordDelayMs: number;
    /** Port of the worker's own /metrics and /healthz listener on `host` (faasq worker only; 0 = none). */
    readonly metricsPort: number;
  };
}

type Parser = (raw: string | number | boolean) => unknown;

interface KeySpec {
  /** Dotted path in Config. */
  readonly path: string;
  readonly env: string;
  readonly default?: string | number | boolean;
  readonly parse: Parser;
}

const str: Parser = (v) => String(v);
const int: Parser = (v) => {
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a whole number >= 0, got "${v}"`);
  return n;
};
const port: Parser = (v) => {
  const n = int(v) as number;
  if (n > 65535) throw new Error(`expected a port 0-65535, got "${v}"`);
  return n;
};
const ms: Parser = (v) => parseDurationMs(typeof v === 'boolean' ? String(v) : v);
const bytes: Parser = (v) => parseBytes(typeof v === 'boolean' ? String(v) : v);
const bool: Parser = (v) => {
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  throw new Error(`expected true or false, got "${v}"`);
};
const oneOf = (...values: string[]): Parser => (v) => {
  const s = String(v);
  if (!values.includes(s)) throw new Error(`expected one of ${values.join(', ')}, got "${v}"`);
  return s;
};
const list: Parser = (v) => String(v).split(',').map((s) => s.trim()).filter(Boolean);
const codes: Parser = (v) =>
  (list(v) as string[]).map((c) => {
    const n = Number(c);
    if (!Number.isInteger(n) || n < 100 || n > 599) throw new Error(`expected HTTP status codes, got "${c}"`);
    return n;
  });
const jitter: Parser = (v) => {
  const s = String(v);
  if (s === 'exponential') return 'none'; // OpenFaaS Pro's name for "no jitter"
  return oneOf('none', 'full', 'equal')(s);
};
const queueUrl: Parser = (v) => {
  const s = String(v);
  if (s === 'embedded' || s === 'memory') return s;
  if (s.split(',').every((u) => /^nats:\/\/[^\s,/]+(:\d+)?\/?$/.test(u.trim()))) return s;
  throw new Error(`expected embedded, memory or nats://host:port[,nats://...], got "${v}"`);
};
const replicas: Parser = (v) => {
  const n = int(v);
  if (n !== 1 && n !== 3 && n !== 5) throw new Error(`expected 1, 3 or 5, got "${v}"`);
  return n;
};

export const DEFAULT_CALLBACK_DENY_LIST = ['169.254.0.0/16', 'fe80::/10', '100.100.100.200/32', 'fd00:ec2::254/128', 'metadata.google.internal'];

/** Every config key: where it lives, its env variable, its default. docs/configuration.md lists the same. */
export const CONFIG_KEYS: readonly KeySpec[] = [
  { path: 'host', env: 'FAASQ_HOST', default: '127.0.0.1', parse: str },
  { path: 'port', env: 'FAASQ_PORT', default: 8080, parse: port },
  { path: 'dataDir', env: 'FAASQ_DATA_DIR', default: '.faasq', parse: str },
  { path: 'stackFile', env: 'FAASQ_STACK', parse: str },
  { path: 'log.level', env: 'FAASQ_LOG_LEVEL', default: 'info', parse: oneOf('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent') },
  { path: 'log.format', env: 'FAASQ_LOG_FORMAT', default: 'json', parse: oneOf('json', 'console') },
  { path: 'auth.user', env: 'FAASQ_USER', parse: str },
  { path: 'auth.password', env: 'FAASQ_PASSWORD', parse: str },
  { path: 'auth.isInvokeAuth', env: 'FAASQ_INVOKE_AUTH', default: false, parse: bool },
  { path: 'auth.invokeUser', env: 'FAASQ_INVOKE_USER', parse: str },
  { path: 'auth.invokePassword', env: 'FAASQ_INVOKE_PASSWORD', parse: str },
  { path: 'gateway.upstreamTimeoutMs', env: 'FAASQ_UPSTREAM_TIMEOUT', default: '60s', parse: ms },
  { path: 'gateway.maxHeaderBytes', env: 'FAASQ_MAX_HEADER_SIZE', default: '16KiB', parse: bytes },
  { path: 'gateway.maxAsyncBodyBytes', env: 'FAASQ_MAX_ASYNC_BODY', default: '1MiB', parse: bytes },
  { path: 'gateway.maxBodyBytes', env: 'FAASQ_MAX_BODY', default: '128MiB', parse: bytes },
  { path: 'gateway.maxBufferedBytes', env: 'FAASQ_MAX_BUFFERED', default: '64MiB', parse: bytes },
  { path: 'gateway.concurrency', env: 'FAASQ_CONCURRENCY', default: 0, parse: int },
  { path: 'gateway.maxWaiting', env: 'FAASQ_MAX_WAITING', default: 100, parse: int },
  { path: 'gateway.maxWaitMs', env: 'FAASQ_MAX_WAIT', default: '30s', parse: ms },
  { path: 'gateway.callbackDenyList', env: 'FAASQ_CALLBACK_DENY', default: DEFAULT_CALLBACK_DENY_LIST.join(','), parse: list },
  { path: 'gateway.allowedHosts', env: 'FAASQ_ALLOWED_HOSTS', default: '', parse: list },
  { path: 'gateway.shutdownGraceMs', env: 'FAASQ_GATEWAY_GRACE', default: '10s', parse: ms },
  { path: 'gateway.isExpressLane', env: 'FAASQ_EXPRESS_LANE', default: true, parse: bool },
  { path: 'gateway.upstreamQuietMs', env: 'FAASQ_UPSTREAM_QUIET', default: '5ms', parse: ms },
  { path: 'provider.secretsDir', env: 'FAASQ_SECRETS_DIR', parse: str },
  { path: 'provider.execTimeoutMs', env: 'FAASQ_EXEC_TIMEOUT', default: '60s', parse: ms },
  { path: 'provider.readyTimeoutMs', env: 'FAASQ_READY_TIMEOUT', default: '10s', parse: ms },
  { path: 'provider.healthIntervalMs', env: 'FAASQ_HEALTH_INTERVAL', default: '2s', parse: ms },
  { path: 'provider.restartMinMs', env: 'FAASQ_RESTART_MIN', default: '200ms', parse: ms },
  { path: 'provider.restartMaxMs', env: 'FAASQ_RESTART_MAX', default: '30s', parse: ms },
  { path: 'provider.shutdownGraceMs', env: 'FAASQ_PROCESS_GRACE', default: '5s', parse: ms },
  { path: 'provider.functionsUrl', env: 'FAASQ_FUNCTIONS_URL', parse: str },
  { path: 'queue.url', env: 'FAASQ_QUEUE', default: 'embedded', parse: queueUrl },
  { path: 'queue.maxDepth', env: 'FAASQ_QUEUE_MAX_DEPTH', default: 10_000_000, parse: int },
  { path: 'queue.leaseMs', env: 'FAASQ_ACK_WAIT', default: '30s', parse: ms },
  { path: 'queue.dedupeWindowMs', env: 'FAASQ_DEDUPE_WINDOW', default: '24h', parse: ms },
  { path: 'queue.acceptTimeoutMs', env: 'FAASQ_ACCEPT_TIMEOUT', default: '15s', parse: ms },
  { path: 'queue.retentionMs', env: 'FAASQ_RETENTION', default: '24h', parse: ms },
  { path: 'queue.maxResultBytes', env: 'FAASQ_MAX_RESULT', default: '1MiB', parse: bytes },
  { path: 'queue.streamReplicas', env: 'FAASQ_STREAM_REPLICAS', default: 1, parse: replicas },
  { path: 'queue.natsPort', env: 'FAASQ_NATS_PORT', default: 0, parse: port },
  { path: 'worker.isEnabled', env: 'FAASQ_WORKER', default: true, parse: bool },
  { path: 'worker.maxInflight', env: 'FAASQ_MAX_INFLIGHT', default: 50, parse: int },
  { path: 'worker.queueName', env: 'FAASQ_QUEUE_NAME', parse: str },
  { path: 'worker.retry.attempts', env: 'FAASQ_RETRY_ATTEMPTS', default: 10, parse: int },
  { path: 'worker.retry.codes', env: 'FAASQ_RETRY_CODES', default: '408,429,500,502,503,504', parse: codes },
  { path: 'worker.retry.minWaitMs', env: 'FAASQ_RETRY_MIN_WAIT', default: '10s', parse: ms },
  { path: 'worker.retry.maxWaitMs', env: 'FAASQ_RETRY_MAX_WAIT', default: '120s', parse: ms },
  { path: 'worker.retry.jitter', env: 'FAASQ_RETRY_JITTER', default: 'none', parse: jitter },
  { path: 'worker.callback.secret', env: 'FAASQ_CALLBACK_SECRET', parse: str },
  { path: 'worker.callback.attempts', env: 'FAASQ_CALLBACK_ATTEMPTS', default: 5, parse: int },
  { path: 'worker.callback.minWaitMs', env: 'FAASQ_CALLBACK_MIN_WAIT', default: '1s', parse: ms },
  { path: 'worker.callback.maxWaitMs', env: 'FAASQ_CALLBACK_MAX_WAIT', default: '30s', parse: ms },
  { path: 'worker.callback.timeoutMs', env: 'FAASQ_CALLBACK_TIMEOUT', default: '10s', parse: ms },
  { path: 'worker.shutdownGraceMs', env: 'FAASQ_WORKER_GRACE', default: '30s', parse: ms },
  { path: 'provider.maxForkOutputBytes', env: 'FAASQ_MAX_FORK_OUTPUT', default: '64MiB', parse: bytes },
  { path: 'provider.sandbox', env: 'FAASQ_SANDBOX', default: 'auto', parse: oneOf('auto', 'on', 'off') },
  { path: 'provider.functionUser', env: 'FAASQ_FUNCTION_USER', default: 'nobody', parse: str },
  { path: 'provider.sandboxNetwork', env: 'FAASQ_SANDBOX_NETWORK', default: 'auto', parse: oneOf('auto', 'outbound', 'private', 'host') },
  { path: 'provider.sandboxHostLoopback', env: 'FAASQ_SANDBOX_HOST_LOOPBACK', default: false, parse: bool },
  { path: 'worker.metricsPort', env: 'FAASQ_METRICS_PORT', default: 0, parse: port },
  { path: 'worker.runningRecordDelayMs', env: 'FAASQ_RUNNING_RECORD_DELAY', default: '100ms', parse: ms },
];

export type ConfigOverrides = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * Builds the frozen Config. `flags` uses the dotted paths of CONFIG_KEYS (e.g. { port: 9090,
 * 'queue.url': 'memory' }); `env` defaults to process.env; `configFile` is read when given or
 * when FAASQ_CONFIG is set. Throws E_CONFIG naming every bad key at once.
 */
export function loadConfig(options: { flags?: ConfigOverrides; env?: NodeJS.ProcessEnv; configFile?: string } = {}): Config {
  const env = options.env ?? process.env;
  const fileValues = readConfigFile(options.configFile ?? env.FAASQ_CONFIG);
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of CONFIG_KEYS) {
    const flag = options.flags?.[key.path];
    const envValue = env[key.env];
    const fileValue = fileValues[key.path];
    const [raw, source] =
      flag !== undefined ? [flag, `flag for ${key.path}`]
        : envValue !== undefined && envValue !== '' ? [envValue, key.env]
      : fileValue !== undefined ? [fileValue, `config file key ${key.path}`]
      : [key.default, 'default'];
    if (raw === undefined) continue;
    try {
      setPath(out, key.path, key.parse(raw as string | number | boolean));
    } catch (err) {
      problems.push(`${source}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new FaasqError('E_CONFIG', `invalid configuration:\n  ${problems.join('\n  ')}`);
  const cfg = out as unknown as Config & { dataDir: string; provider: { secretsDir?: string } };
  const dataDir = path.resolve(cfg.dataDir);
  setPath(out, 'dataDir', dataDir);
  if (!cfg.provider.secretsDir) setPath(out, 'provider.secretsDir', path.join(dataDir, 'secrets'));
  return deepFreeze(out) as unknown as Config;
}

function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FaasqError('E_CONFIG', `cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const flat: Record<string, unknown> = {};
  const known = new Set(CONFIG_KEYS.map((k) => k.path));
  const walk = (node: unknown, prefix: string): void => {
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      for (const [k, v] of Object.entries(node)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else if (known.has(prefix)) {
      flat[prefix] = Array.isArray(node) ? node.join(',') : node;
    } else if (prefix) {
      throw new FaasqError('E_CONFIG', `config file ${file}: unknown key "${prefix}"`);
    }
  };
  walk(doc ?? {}, '');
  return flat;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
