// Runs one attempt's invocation and keeps its whole response (body capped at the result limit).
// Through the invoker's streaming hot path when it has one: the response lands in a small sink
// instead of a Readable read by an async iterator, which is most of a no-op call's invoke cost.
// Any other invoker (the remote one) goes through invoke() and readCapped().
import type { InvocationRequest, Invoker, ResponseSink, StreamControl } from '../provider/index.js';
import { CappedBody, readCapped } from './read-capped.js';

export interface CollectedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
  readonly isTruncated: boolean;
}

/** Hands the caller a function that aborts the invocation (cancel, shutdown), as soon as it starts. */
export type OnAbortable = (abort: (reason: Error) => void) => void;

export async function collectResponse(invoker: Invoker, fn: string, namespace: string, request: InvocationRequest, maxBytes: number, onAbortable: OnAbortable): Promise<CollectedResponse> {
  if (!invoker.stream) {
    // invoke() takes an AbortSignal; only this path pays for one.
    const controller = new AbortController();
    onAbortable((reason) => controller.abort(reason));
    const res = await invoker.invoke(fn, namespace, { ...request, signal: controller.signal });
    const { body, isTruncated } = await readCapped(res.body, maxBytes);
    return { status: res.status, headers: res.headers, body, isTruncated };
  }
  const stream = invoker.stream.bind(invoker);
  return new Promise<CollectedResponse>((resolve, reject) => {
    const sink = new CappedSink(maxBytes, resolve, reject);
    onAbortable((reason) => sink.abort(reason));
    if (sink.isFinished) return; // aborted before it began
    stream(fn, namespace, request, sink);
  });
}

class CappedSink implements ResponseSink {
  private control: StreamControl | undefined;
  private status = 0;
  private headers: Record<string, string | string[]> = {};
  private readonly body: CappedBody;
  isFinished = false;

  constructor(
    maxBytes: number,
    private readonly resolve: (response: CollectedResponse) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.body = new CappedBody(maxBytes);
  }

  /** Cancel or shutdown: the invocation is dropped and the attempt ends with `reason`. */
  abort(reason: Error): void {
    this.control?.abort(reason);
    this.finish(reason);
  }

  onStart(control: StreamControl): void {
    this.control = control;
    // Aborted while the runtime waited for a ready replica: let the invocation go at once.
    if (this.isFinished) control.abort(new Error('invocation aborted'));
  }

  onResponse(status: number, headers: Record<string, string | string[]>): void {
    this.status = status;
    this.headers = headers;
  }

  onData(chunk: Buffer): boolean {
    this.body.push(chunk);
    return true;
  }

  onEnd(): void {
    this.finish();
  }

  onError(err: unknown): void {
    this.finish(err);
  }

  private finish(err?: unknown): void {
    if (this.isFinished) return;
    this.isFinished = true;
    if (err !== undefined) {
      this.reject(err);
      return;
    }
    this.resolve({ status: this.status, headers: this.headers, ...this.body.take() });
  }
}
