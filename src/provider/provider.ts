// The Provider seam: the function registry and runtime the gateway and worker talk to.
// In the contract: deploy/update/remove/scale of function specs (applied in order per function),
// status as OpenFaaS FunctionStatus, logs, secrets, and invoke() — the one invoker both the
// gateway's sync path and the async worker use (no extra HTTP hop).
// Not in the contract: how functions run (local processes, HTTP upstreams, a remote
// faas-provider) and gateway concerns (auth, call ids, admission, metrics).
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** A function as faasq stores it; the OpenFaaS FunctionDeployment fields, normalised. */
export interface FunctionSpec {
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  /** The watchdog `fprocess` (FunctionDeployment `envProcess`). Empty for upstream functions. */
  readonly fprocess: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
  readonly constraints: readonly string[];
  readonly limits?: FunctionResources;
  readonly requests?: FunctionResources;
  readonly readOnlyRootFilesystem?: boolean;
  /** Working directory for the process (stack file's folder, or the handler folder). */
  readonly workingDir?: string;
}

export interface FunctionResources {
  readonly memory?: string;
  readonly cpu?: string;
}

/** OpenFaaS FunctionStatus (camelCase JSON). */
export interface FunctionStatus {
  name: string;
  namespace: string;
  image: string;
  envProcess: string;
  /** Empty collections are left out, as the OpenFaaS providers (omitempty) do. */
  envVars?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  secrets?: string[];
  constraints?: string[];
  limits?: FunctionResources;
  requests?: FunctionResources;
  readOnlyRootFilesystem?: boolean;
  replicas: number;
  availableReplicas: number;
  invocationCount: number;
  createdAt: string;
}

export interface InvocationRequest {
  readonly method: string;
  /** Path after the function name, always starting with "/". */
  readonly path: string;
  /** Raw query string without the leading "?" ("" when none). */
  readonly query: string;
  /** Headers to forward, lower-case names, hop-by-hop headers already removed. */
  readonly headers: Readonly<Record<string, string | string[]>>;
  /** Request body: a stream (sync path) or a buffer (async replay). */
  readonly body: Readable | Buffer | null;
  readonly callId: string;
  /** Aborts the invocation (cancel, client gone, shutdown). */
  readonly signal?: AbortSignal;
}

export interface InvocationResponse {
  readonly status: number;
  /** Response headers, lower-case names, hop-by-hop headers removed. */
  readonly headers: Record<string, string | string[]>;
  /** Streamed response body; the caller must consume or destroy it. */
  readonly body: Readable;
}

/** Flow control a streaming invocation hands its sink (undici's dispatch controls underneath). */
export interface StreamControl {
  /** Stop reading the function's response until resume(). */
  pause(): void;
  resume(): void;
  /** Abandon the invocation (client gone, timeout); the sink gets no more calls. */
  abort(reason: Error): void;
}

/**
 * Receives a function's response as it arrives: the gateway's sync hot path, with no stream
 * objects or promises per request. onStart comes first unless the call fails at once; then
 * either onError, or onResponse, onData*, and onEnd or onError (the body broke).
 */
export interface ResponseSink {
  onStart(control: StreamControl): void;
  onResponse(status: number, headers: Record<string, string | string[]>): void;
  /** Return false to apply backpressure; call control.resume() when ready for more. */
  onData(chunk: Buffer): boolean;
  onEnd(): void;
  onError(err: unknown): void;
}

/**
 * Where a function answers plain HTTP/1.1 right now, for the gateway's express lane (which then
 * talks to it over its own sockets). One object per replica, reused: route() counts the call on
 * that replica, and the caller must call release() exactly once when the call is over.
 */
export interface DirectRoute {
  readonly host: string;
  readonly port: number;
  /** A Unix socket to connect to instead of host:port. */
  readonly socketPath?: string;
  /**
   * Set for a sandboxed replica: opens a new connection to it (a socket already connected inside
   * the replica), used instead of socketPath and host:port. Rejects when the replica cannot be reached.
   */
  readonly dial?: () => Promise<Socket>;
  /** The Host header to send. */
  readonly authority: string;
  /** Prepended to the request path ("" for http-mode replicas). */
  readonly pathPrefix: string;
  /** The function's exec timeout (0: none); the of-watchdog X-Timeout header may shorten it. */
  readonly execTimeoutMs: number;
  release(): void;
}

/** Invokes a function. Throws FaasqError E_FUNCTION_NOT_FOUND, E_FUNCTION_UNREACHABLE,
 *  E_FUNCTION_TIMEOUT, E_FUNCTION_NOT_READY; any HTTP status the function answers is returned. */
export interface Invoker {
  invoke(fn: string, namespace: string, request: InvocationRequest): Promise<InvocationResponse>;
  /** The same invocation with the response pushed into `sink`: no stream objects (the hot path, where offered). */
  stream?(fn: string, namespace: string, request: InvocationRequest, sink: ResponseSink): void;
}

export interface LogEntry {
  name: string;
  namespace: string;
  instance: string;
  timestamp: string;
  text: string;
}

export interface LogQuery {
  name: string;
  namespace: string;
  tail?: number;
  since?: Date;
  follow?: boolean;
  signal?: AbortSignal;
}

export interface SecretInput {
  name: string;
  namespace: string;
  value: Buffer;
}

export interface Provider extends Invoker {
  readonly name: string;
  /** invoke() for the sync path: the response goes straight into `sink` (same errors, via onError). */
  stream(fn: string, namespace: string, request: InvocationRequest, sink: ResponseSink): void;
  /**
   * A ready replica's address, counted as one invocation, when the function can be called directly
   * over HTTP/1.1 now; undefined when not (fork mode, https, no ready replica, stopping, not
   * found), and the caller then goes through stream(), which waits or reports the error.
   */
  route?(fn: string, namespace: string): DirectRoute | undefined;
  /**
   * When route() found no ready replica: a promise of one (counted as route() counts), rejected
   * with the error stream() would report (E_FUNCTION_NOT_READY after the ready timeout, scaled to
   * zero, shutting down) or the signal's reason; undefined when the function cannot be called
   * directly at all (the caller then goes through stream()).
   */
  waitForRoute?(fn: string, namespace: string, signal: AbortSignal): Promise<DirectRoute> | undefined;
  /** Whether calls to the function can go through route() and waitForRoute() at all (its runtime serves plain HTTP/1.1). */
  isDirect?(fn: string, namespace: string): boolean;
  readonly orchestration: string;
  start(): Promise<void>;
  close(): Promise<void>;
  /** Deploy a new function; rejects E_CONFLICT if it exists (POST), or replaces it when `upsert`. */
  deploy(spec: FunctionSpec, options?: { upsert?: boolean }): Promise<void>;
  /** Update an existing function; E_FUNCTION_NOT_FOUND if missing (faas-cli then POSTs). */
  update(spec: FunctionSpec): Promise<void>;
  remove(name: string, namespace: string): Promise<void>;
  scale(name: string, namespace: string, replicas: number): Promise<void>;
  get(name: string, namespace: string): Promise<FunctionStatus>;
  /** The stored spec, for annotations (queue, retry policy, concurrency). E_FUNCTION_NOT_FOUND if missing. */
  getSpec(name: string, namespace: string): FunctionSpec | undefined;
  list(namespace: string): Promise<FunctionStatus[]>;
  namespaces(): Promise<string[]>;
  logs(query: LogQuery): AsyncIterable<LogEntry>;
  listSecrets(namespace: string): Promise<{ name: string; namespace: string }[]>;
  putSecret(secret: SecretInput, options: { create: boolean }): Promise<void>;
  removeSecret(name: string, namespace: string): Promise<void>;
  /** Summary for /healthz. */
  health(): { isReady: boolean; functions: number; availableReplicas: number };
}
