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

export async function collectResponse(invoker: Invoker, fn: string, namespace: string, request: InvocationRequest, maxBytes: number): Promise<CollectedResponse> {
  if (!invoker.stream) {
    const res = await invoker.invoke(fn, namespace, request);
    const { body, isTruncated } = await readCapped(res.body, maxBytes);
    return { status: res.status, headers: res.headers, body, isTruncated };
  }
  const stream = invoker.stream.bind(invoker);
  return new Promise<CollectedResponse>((resolve, reject) => {
    const sink = new CappedSink(maxBytes, resolve, reject, request.signal);
    stream(fn, namespace, request, sink);
  });
}

class CappedSink implements ResponseSink {
  private control: StreamControl | undefined;
  private status = 0;
  private headers: Record<string, string | string[]> = {};
  private readonly body: CappedBody;
  private isDone = false;
  private readonly onAbort = (): void => {
    const reason = this.signal?.reason instanceof Error ? this.signal.reason : new Error('invocation aborted');
    this.control?.abort(reason);
    this.finish(reason);
  };

  constructor(
    maxBytes: number,
    private readonly resolve: (response: CollectedResponse) => void,
    private readonly reject: (err: unknown) => void,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.body = new CappedBody(maxBytes);
    if (signal?.aborted) queueMicrotask(this.onAbort);
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  onStart(control: StreamControl): void {
    this.control = control;
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
    if (this.isDone) return;
    this.isDone = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    if (err !== undefined) {
      this.reject(err);
      return;
    }
    this.resolve({ status: this.status, headers: this.headers, ...this.body.take() });
  }
}
