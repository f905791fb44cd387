// The sync hot path to http-mode and upstream functions: one undici dispatch per invocation whose
// handler writes straight into the caller's ResponseSink. Compared with pool.request() it saves
// the response Readable, a promise and a header object per call, which is most of the gateway's
// own cost per request. Errors are translated at this edge exactly as in http-proxy.ts.
import type { Dispatcher } from 'undici';
import { HOP_BY_HOP } from '../../shared/http.js';
import type { InvocationRequest, ResponseSink, StreamControl } from '../provider.js';
import { durationSeconds, translateError } from './http-proxy.js';

/** Headers undici refuses to send or that must not be forwarded. */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'expect', 'host']);

export function dispatchRequest(
  pool: Dispatcher,
  pathPrefix: string,
  request: InvocationRequest,
  timeoutMs: number,
  startedAt: number,
  fn: string,
  sink: ResponseSink,
  onDone?: () => void,
): void {
  const headers: string[] = [];
  for (const name in request.headers) {
    if (NOT_FORWARDED.has(name)) continue;
    const value = request.headers[name];
    if (typeof value === 'string') headers.push(name, value);
    else for (const v of value) headers.push(name, v);
  }
  const path = pathPrefix + request.path;
  const handler = new SinkHandler(sink, startedAt, fn, timeoutMs, onDone);
  try {
    pool.dispatch(
      {
        path: request.query ? `${path}?${request.query}` : path,
        method: request.method,
        headers,
        body: request.body ?? undefined,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      handler,
    );
  } catch (err) {
    handler.onError(err as Error);
  }
}

/** undici's dispatch handler (the core, non-wrapped API) bridged onto a ResponseSink. */
class SinkHandler implements Dispatcher.DispatchHandler, StreamControl {
  private abortFn: ((err: Error) => void) | undefined;
  private resumeFn: (() => void) | undefined;
  private isPaused = false;
  private isFinished = false;

  constructor(
    private readonly sink: ResponseSink,
    private readonly startedAt: number,
    private readonly fn: string,
    private readonly timeoutMs: number,
    private readonly onDone: (() => void) | undefined,
  ) {}

  // --- StreamControl, handed to the sink ---
  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    this.resumeFn?.();
  }

  abort(reason: Error): void {
    if (this.isFinished) return;
    this.isFinished = true;
    this.onDone?.();
    this.abortFn?.(reason);
  }

  // --- undici handler ---
  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    this.sink.onStart(this);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.isFinished) return false;
    if (statusCode < 200) return true; // 1xx interim responses are not forwarded
    this.resumeFn = resume;
    const headers: Record<string, string | string[]> = {};
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i].toString('latin1').toLowerCase();
      if (HOP_BY_HOP.has(name)) continue;
      const value = rawHeaders[i + 1].toString('latin1');
      const prev = headers[name];
      headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
    headers['x-duration-seconds'] = durationSeconds(this.startedAt);
    this.sink.onResponse(statusCode, headers);
    return !this.isPaused;
  }

  onData(chunk: Buffer): boolean {
    if (this.isFinished) return false;
    if (!this.sink.onData(chunk)) this.isPaused = true;
    return !this.isPaused;
  }

  onComplete(): void {
    if (this.isFinished) return;
    this.isFinished = true;
    this.onDone?.();
    this.sink.onEnd();
  }

  onError(err: Error): void {
    if (this.isFinished) return;
    this.isFinished = true;
    this.onDone?.();
    this.sink.onError(translateError(err, this.fn, this.timeoutMs));
  }
}
