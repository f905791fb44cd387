// Serves Provider.stream() from invoke() for runtimes without a dispatch path of their own
// (fork mode, test providers): the Readable body is forwarded into the sink with backpressure.
import type { Readable } from 'node:stream';
import type { InvocationRequest, InvocationResponse, ResponseSink, StreamControl } from './provider.js';

export function streamViaInvoke(
  invoke: (request: InvocationRequest) => Promise<InvocationResponse>,
  request: InvocationRequest,
  sink: ResponseSink,
): void {
  const controller = new AbortController();
  let body: Readable | undefined;
  let isAborted = false;
  const control: StreamControl = {
    pause: () => body?.pause(),
    resume: () => body?.resume(),
    abort: (reason) => {
      if (isAborted) return;
      isAborted = true;
      controller.abort(reason);
      body?.destroy();
    },
  };
  sink.onStart(control);
  const signal = request.signal ? AbortSignal.any([request.signal, controller.signal]) : controller.signal;
  let pending: Promise<InvocationResponse>;
  try {
    pending = invoke({ ...request, signal });
  } catch (err) {
    pending = Promise.reject(err);
  }
  pending.then(
    (res) => {
      if (isAborted) {
        res.body.destroy();
        return;
      }
      body = res.body;
      sink.onResponse(res.status, res.headers);
      body.on('data', (chunk: Buffer) => {
        if (!sink.onData(chunk)) body?.pause();
      });
      body.once('end', () => sink.onEnd());
      body.once('error', (err) => {
        if (!isAborted) sink.onError(err);
      });
    },
    (err: unknown) => {
      if (!isAborted) sink.onError(err);
    },
  );
}
