// The sync hot path: `ANY /function/{name}[/{path...}]` streamed through provider.stream() and back.
// Per-request state lives on one SyncCall object; nothing here parses JSON, only small bodies of a
// declared length are read whole (large and chunked ones stream), and the one log line is written
// after the response is done.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Config } from '../config/index.js';
import type { FunctionSpec, Provider, ResponseSink, StreamControl } from '../provider/provider.js';
import { framingAnomalyOf } from '../provider/index.js';
import { FaasqError, isFaasqError } from '../shared/errors.js';
import type { EventBus } from '../shared/events.js';
import { forwardableHeaders, nowNs } from '../shared/http.js';
import type { Logger } from '../shared/logger.js';
import { parseFunctionRef } from '../shared/names.js';
import type { ConcurrencyLimiter } from './concurrency-limiter.js';
import { DeadlineQueue, type Deadline, type DeadlineOwner } from '../shared/deadline-queue.js';
import type { FunctionLimits } from './function-limits.js';
import { normaliseFunctionPath } from './function-path.js';
import { bodyTooLarge, LimitedBody } from './limited-body.js';
import type { MemoryBudget } from './memory-budget.js';
import { sendError } from './reply.js';
import { crossSiteProblem } from './admin-guard.js';
import type { UpstreamAnomalies } from './upstream-anomaly.js';

/** Hands a `/function/{name}` request with `X-Invoke-Mode: async` to the async enqueue path. */
export type AsyncEnqueue = (req: IncomingMessage, res: ServerResponse, fnRaw: string, path: string) => void;

export interface SyncInvokeDeps {
  readonly gateway: Config['gateway'];
  readonly provider: Provider;
  readonly events: EventBus;
  /** Child logger for the one line per request. */
  readonly logger: Logger;
  readonly limits: FunctionLimits;
  readonly isAccepting: () => boolean;
  /** Basic-auth check when invocations are protected (FAASQ_INVOKE_AUTH); undefined = open. */
  readonly isAuthorized?: (authorization: string | undefined) => boolean;
  /** True for an Authorization value that is one of faasq's own credentials: it is not forwarded to the function. */
  readonly isGatewayCredential: (authorization: string | undefined) => boolean;
  /** The Host check (host-check.ts) when one applies; the gateway's server runs it before this handler, the lane itself. */
  readonly isAllowedHost?: (host: string | undefined) => boolean;
  /** Set when a queue is configured. */
  readonly getAsyncEnqueue: () => AsyncEnqueue | undefined;
  /** Call ids, shared with the express lane. */
  readonly newCallId: () => string;
  /** Gateway-wide cap on request bytes held in memory; a small body read whole counts while its call runs. */
  readonly budget?: MemoryBudget;
  /** Where both paths report a function that broke HTTP framing. */
  readonly anomalies: UpstreamAnomalies;
}

const PREFIX = '/function/';

/**
 * Request bodies with a Content-Length up to this size are read whole before the function is
 * called: undici then gets a Buffer instead of driving a stream per request, which measured ~5 µs
 * less gateway CPU per request (bench/RESULTS.md). Larger and chunked bodies stream as before.
 */
const MAX_BUFFERED_BODY_BYTES = 64 * 1024;

/** Returns the request handler for every URL starting with `/function/`. */
export function createSyncInvokeHandler(deps: SyncInvokeDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { newCallId } = deps;
  const deadlines = new DeadlineQueue(deps.gateway.upstreamTimeoutMs);
  return (req, res) => {
    const url = req.url as string;
    const queryAt = url.indexOf('?', PREFIX.length);
    const pathEnd = queryAt === -1 ? url.length : queryAt;
    let slashAt = url.indexOf('/', PREFIX.length);
    if (slashAt === -1 || slashAt > pathEnd) slashAt = pathEnd;
    const fnRaw = url.slice(PREFIX.length, slashAt);
    const path = slashAt < pathEnd ? url.slice(slashAt, pathEnd) : '/';

    if (!deps.isAccepting()) return reject(deps, req, res, newCallId, fnRaw, new FaasqError('E_SHUTTING_DOWN', 'the gateway is shutting down', { headers: { 'Retry-After': '1' } }));
    if (deps.isAuthorized && !deps.isAuthorized(req.headers.authorization)) {
      return reject(deps, req, res, newCallId, fnRaw, new FaasqError('E_UNAUTHORIZED', 'invalid credentials', { headers: { 'WWW-Authenticate': 'Basic realm="Restricted"' } }));
    }
    // The credentials may be a browser's (the dashboard's): they do not invoke for a page on another site.
    const crossSite = deps.isAuthorized ? crossSiteProblem(req) : undefined;
    if (crossSite) return reject(deps, req, res, newCallId, fnRaw, crossSite);
    const mode = req.headers['x-invoke-mode'];
    if (typeof mode === 'string' && mode.toLowerCase() === 'async') {
      const enqueue = deps.getAsyncEnqueue();
      if (!enqueue) return reject(deps, req, res, newCallId, fnRaw, new FaasqError('E_NOT_IMPLEMENTED', 'async invocation needs a queue; none is configured'));
      enqueue(req, res, fnRaw, path);
      return;
    }
    let name: string;
    let namespace: string;
    try {
      ({ name, namespace } = parseFunctionRef(fnRaw));
    } catch {
      // As the OpenFaaS gateway, whose route only matches a valid name: an empty or malformed one
      // (`/function/`, `/function/.openfaas-fn`) is a function that does not exist.
      return reject(deps, req, res, newCallId, fnRaw, new FaasqError('E_FUNCTION_NOT_FOUND', `function "${fnRaw}" not found`));
    }
    let fnPath: string;
    try {
      fnPath = normaliseFunctionPath(path);
    } catch (err) {
      return reject(deps, req, res, newCallId, fnRaw, err);
    }
    const maxBody = deps.gateway.maxBodyBytes;
    const length = req.headers['content-length'];
    if (maxBody > 0 && length !== undefined && Number(length) > maxBody) {
      return reject(deps, req, res, newCallId, fnRaw, bodyTooLarge(maxBody, Number(length)));
    }
    new SyncCall(deps, deadlines, req, res, callIdOf(req, newCallId), name, namespace, fnPath, queryAt === -1 ? '' : url.slice(queryAt + 1)).run();
  };
}

/** Error before any invocation started: still carries the call headers every invocation reply has. */
function reject(deps: SyncInvokeDeps, req: IncomingMessage, res: ServerResponse, newCallId: () => string, fnRaw: string, err: unknown): void {
  const callId = callIdOf(req, newCallId);
  req.resume();
  res.setHeader('X-Call-Id', callId);
  res.setHeader('X-Start-Time', nowNs());
  sendError(req, res, err);
  deps.logger.info({ function: fnRaw, status: res.statusCode, durationMs: 0, callId, method: req.method }, 'invocation rejected');
}

function callIdOf(req: IncomingMessage, newCallId: () => string): string {
  const given = req.headers['x-call-id'];
  return typeof given === 'string' && given !== '' ? given : newCallId();
}

/** How the request body travels: none, read whole first, or streamed. */
function bodyModeOf(req: IncomingMessage): 'none' | 'buffer' | 'stream' {
  const length = req.headers['content-length'];
  // Node's parser has already rejected a Content-Length that is not a number.
  if (length !== undefined) return length === '0' ? 'none' : Number(length) <= MAX_BUFFERED_BODY_BYTES ? 'buffer' : 'stream';
  return req.headers['transfer-encoding'] !== undefined ? 'stream' : 'none';
}

/** The headers the function gets: the caller's forwardable ones plus the call headers. */
function upstreamHeaders(req: IncomingMessage, callId: string, startNs: string, isGatewayCredential: SyncInvokeDeps['isGatewayCredential']): Record<string, string | string[]> {
  const out = forwardableHeaders(req.headers);
  // A credential faasq checked is faasq's: a function that saw it could call /system or invoke as the caller.
  if (out.authorization !== undefined && isGatewayCredential(req.headers.authorization)) delete out.authorization;
  out['x-call-id'] = callId;
  out['x-start-time'] = startNs;
  // As a proxy does (and the express lane, express-call.ts): the caller's address appended to the
  // chain, the Host and scheme it used kept when a proxy in front already named them.
  const remote = req.socket.remoteAddress;
  const forwardedFor = out['x-forwarded-for'];
  if (remote) out['x-forwarded-for'] = forwardedFor === undefined || forwardedFor === '' ? remote : `${String(forwardedFor)}, ${remote}`;
  if (out['x-forwarded-host'] === undefined && req.headers.host) out['x-forwarded-host'] = req.headers.host;
  if (out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = 'http';
  return out;
}

class SyncCall implements ResponseSink, DeadlineOwner {
  private readonly startNs: string;
  private readonly startedAt = performance.now();
  private control: StreamControl | undefined;
  private limiter: ConcurrencyLimiter | undefined;
  /** Aborts a wait for a limiter slot when the client leaves. */
  private waitController: AbortController | undefined;
  private heldSince = 0;
  private isHoldingSlot = false;
  private isClosed = false;
  private isTimedOut = false;
  /** A reply (the function's or an error) has been started; later outcomes are dropped. */
  private isSettled = false;
  private isBodyDone = false;
  private isKnown = false;
  private deadline: Deadline | undefined;
  /** Bytes of a body read whole, taken from the memory budget until the call is over. */
  private bufferedBytes = 0;

  constructor(
    private readonly deps: SyncInvokeDeps,
    private readonly deadlines: DeadlineQueue,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly callId: string,
    private readonly fn: string,
    private readonly namespace: string,
    private readonly path: string,
    private readonly query: string,
  ) {
    this.startNs = nowNs();
  }

  run(): void {
    const { deps } = this;
    this.res.on('close', this.onClose);
    let spec: FunctionSpec | undefined;
    try {
      spec = deps.provider.getSpec(this.fn, this.namespace);
    } catch {
      spec = undefined; // stream() below reports a missing function with the right error
    }
    // Only deployed functions are counted: a metric series per random URL would grow without bound.
    this.isKnown = spec !== undefined;
    if (this.isKnown) deps.events.emit('invocation.started', { fn: this.fn, namespace: this.namespace });
    // Unknown names get no limiter, so random URLs cannot grow the limiter table.
    const limiter = spec ? deps.limits.limiterFor(`${this.namespace}/${this.fn}`, spec) : undefined;
    if (limiter && !limiter.tryAcquire()) {
      this.waitController = new AbortController();
      limiter.acquire(this.waitController.signal).then(
        () => {
          if (this.isClosed) return limiter.release();
          this.hold(limiter);
          this.start();
        },
        (err: unknown) => this.onError(err),
      );
      return;
    }
    if (limiter) this.hold(limiter);
    this.start();
  }

  private hold(limiter: ConcurrencyLimiter): void {
    this.limiter = limiter;
    this.isHoldingSlot = true;
    this.heldSince = performance.now();
  }

  private start(): void {
    this.deadline = this.deadlines.add(this);
    const { req } = this;
    const mode = bodyModeOf(req);
    if (mode === 'buffer') {
      const length = Number(req.headers['content-length']);
      // With the memory budget spent, a small body streams like a large one instead of waiting.
      if (!this.deps.budget || this.deps.budget.tryTake(length)) {
        this.bufferedBytes = this.deps.budget ? length : 0;
        return this.readBody();
      }
      return this.invoke(req);
    }
    if (mode === 'none') return this.invoke(null);
    const maxBody = this.deps.gateway.maxBodyBytes;
    // A length over the limit was refused before the call; only a chunked body needs counting.
    if (maxBody === 0 || req.headers['content-length'] !== undefined) return this.invoke(req);
    const limited = new LimitedBody(maxBody, this.onBodyOverflow);
    req.pipe(limited);
    this.invoke(limited);
  }

  /** A chunked body grew past FAASQ_MAX_BODY: stop the function, answer 413 (or cut a reply under way). */
  private readonly onBodyOverflow = (err: FaasqError): void => {
    this.req.unpipe();
    if (this.isSettled) {
      this.control?.abort(err);
      if (!this.isClosed) this.res.destroy();
      return;
    }
    this.fail(err);
    this.control?.abort(err);
  };

  /** Collects a small body; the call starts on its end (a client that leaves ends in onClose). */
  private readBody(): void {
    const chunks: Buffer[] = [];
    this.req.on('data', (chunk: Buffer) => chunks.push(chunk));
    this.req.once('end', () => {
      if (!this.isClosed && !this.isSettled) this.invoke(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
  }

  private invoke(body: Readable | Buffer | null): void {
    const { deps, req } = this;
    try {
      deps.provider.stream(this.fn, this.namespace, {
        method: req.method ?? 'GET',
        path: this.path,
        query: this.query,
        headers: upstreamHeaders(req, this.callId, this.startNs, deps.isGatewayCredential),
        body,
        callId: this.callId,
      }, this);
    } catch (err) {
      this.onError(err);
    }
  }

  // --- ResponseSink ---
  onStart(control: StreamControl): void {
    this.control = control;
    if (this.isClosed) control.abort(new FaasqError('E_BAD_REQUEST', 'client closed the connection'));
  }

  onResponse(status: number, headers: Record<string, string | string[]>): void {
    if (this.isClosed || this.isSettled) {
      this.control?.abort(new FaasqError('E_BAD_REQUEST', 'reply already settled'));
      return;
    }
    this.isSettled = true;
    headers['x-call-id'] = this.callId;
    headers['x-start-time'] = this.startNs;
    this.res.writeHead(status, headers);
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  onEnd(): void {
    this.isBodyDone = true;
    if (!this.isClosed) this.res.end();
  }

  onError(err: unknown): void {
    this.isBodyDone = true;
    if (this.isClosed) return;
    const anomaly = framingAnomalyOf(err, this.isSettled) ?? (this.isSettled && !this.isTimedOut ? 'truncated' : undefined);
    if (anomaly) this.deps.anomalies.report(`${this.fn}.${this.namespace}`, 'full', anomaly);
    if (this.isSettled) {
      // A body that breaks mid-way can only be reported by cutting the connection.
      this.res.destroy();
      return;
    }
    this.fail(err);
  }

  private fail(err: unknown): void {
    const { req, res } = this;
    if (this.isClosed || this.isSettled) return;
    this.isSettled = true;
    let error: unknown = err;
    if (this.isTimedOut) {
      error = new FaasqError('E_FUNCTION_TIMEOUT', `function ${this.fn}.${this.namespace} did not answer within ${this.deps.gateway.upstreamTimeoutMs}ms`, { cause: err });
    } else if (!isFaasqError(err)) {
      // Anything the provider did not classify is a transport failure, as the OpenFaaS proxy treats it.
      error = new FaasqError('E_FUNCTION_UNREACHABLE', `cannot reach function ${this.fn}.${this.namespace}`, { cause: err });
    }
    if (!res.headersSent) {
      res.setHeader('X-Call-Id', this.callId);
      res.setHeader('X-Start-Time', this.startNs);
    }
    sendError(req, res, error);
  }

  private readonly onDrain = (): void => {
    this.control?.resume();
  };

  /** The upstream timeout (DeadlineOwner). */
  onDeadline(): void {
    this.deadline = undefined;
    this.isTimedOut = true;
    const reason = new FaasqError('E_FUNCTION_TIMEOUT', 'upstream timeout');
    this.control?.abort(reason);
    // Headers already went out: the only way to tell the caller is to cut the response.
    if (this.res.headersSent) {
      if (!this.res.writableFinished) this.res.destroy();
    } else {
      this.fail(reason);
    }
  }

  private readonly onClose = (): void => {
    const { deps, res } = this;
    this.isClosed = true;
    if (this.deadline) this.deadlines.remove(this.deadline);
    this.waitController?.abort(new FaasqError('E_BAD_REQUEST', 'client closed the connection'));
    // The caller left before the function finished: release the function's connection too.
    if (!this.isBodyDone) this.control?.abort(new FaasqError('E_BAD_REQUEST', 'client closed the connection'));
    if (this.bufferedBytes > 0) {
      deps.budget?.give(this.bufferedBytes);
      this.bufferedBytes = 0;
    }
    const now = performance.now();
    if (this.isHoldingSlot && this.limiter) {
      this.isHoldingSlot = false;
      this.limiter.release(now - this.heldSince);
    }
    const durationMs = now - this.startedAt;
    // 499 (nginx's "client closed request") when the caller left before the reply was complete.
    const status = res.writableFinished ? res.statusCode : 499;
    if (this.isKnown) deps.events.emit('invocation.completed', { fn: this.fn, namespace: this.namespace, status, durationMs, callId: this.callId });
    // The line's fields are only built when it is written (a gateway at level warn skips it).
    if (deps.logger.isLevelEnabled('info')) deps.logger.info({ function: this.fn, namespace: this.namespace, status, durationMs: Math.round(durationMs * 1000) / 1000, callId: this.callId, method: this.req.method }, 'invocation');
  };
}
