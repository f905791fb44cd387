// A Queue whose backend is built in start(): lets createQueue stay synchronous while the
// JetStream backend (and the NATS client) is imported only when a nats:// URL asks for it.
import { FaasqError } from '../shared/errors.js';
import type {
  CallMessage, CallRecord, CallResult, Consumer, ConsumeOptions, DeadLetter, DeadLetterFilter, Delivery,
  EnqueueOptions, EnqueueResult, Queue, QueueStats, RecordGuard,
} from './queue.js';

export class DeferredQueue implements Queue {
  private inner: Queue | undefined;
  private loading: Promise<Queue> | undefined;

  constructor(
    readonly backend: Queue['backend'],
    private readonly load: () => Promise<Queue>,
  ) {}

  async start(): Promise<void> {
    this.loading ??= this.load();
    this.inner = await this.loading;
    await this.inner.start();
  }

  async close(): Promise<void> {
    await this.inner?.close();
  }

  isHealthy(): boolean {
    return this.inner?.isHealthy() ?? false;
  }

  /** Before start(): assumed true, the careful answer (the worker consumes only after start). */
  get hasStaleFirstDeliveries(): boolean {
    return this.inner?.hasStaleFirstDeliveries ?? true;
  }

  enqueue(message: CallMessage, options?: EnqueueOptions): Promise<EnqueueResult> {
    return this.q().enqueue(message, options);
  }

  consume(options: ConsumeOptions, handler: (delivery: Delivery) => void): Consumer {
    return this.q().consume(options, handler);
  }

  getRecord(callId: string): Promise<CallRecord | undefined> {
    return this.q().getRecord(callId);
  }

  updateRecord(callId: string, patch: Partial<CallRecord>, guard?: RecordGuard): Promise<CallRecord | undefined> {
    return this.q().updateRecord(callId, patch, guard);
  }

  putResult(callId: string, result: CallResult): Promise<void> {
    return this.q().putResult(callId, result);
  }

  getResult(callId: string): Promise<CallResult | undefined> {
    return this.q().getResult(callId);
  }

  cancel(callId: string): Promise<CallRecord | undefined> {
    return this.q().cancel(callId);
  }

  onCancel(listener: (callId: string) => void): () => void {
    return this.q().onCancel(listener);
  }

  listDeadLetters(filter?: DeadLetterFilter): Promise<DeadLetter[]> {
    return this.q().listDeadLetters(filter);
  }

  getDeadLetter(callId: string): Promise<DeadLetter | undefined> {
    return this.q().getDeadLetter(callId);
  }

  replayDeadLetters(ids: readonly string[] | undefined, filter?: DeadLetterFilter): Promise<number> {
    return this.q().replayDeadLetters(ids, filter);
  }

  purgeDeadLetters(ids: readonly string[] | undefined, filter?: DeadLetterFilter): Promise<number> {
    return this.q().purgeDeadLetters(ids, filter);
  }

  ensureQueue(name: string): Promise<void> {
    return this.q().ensureQueue(name);
  }

  listQueues(): Promise<string[]> {
    return this.q().listQueues();
  }

  stats(): Promise<QueueStats[]> {
    return this.q().stats();
  }

  private q(): Queue {
    if (!this.inner) throw new FaasqError('E_QUEUE_UNAVAILABLE', 'the queue is not started');
    return this.inner;
  }
}
