// Cancels reach every process: a cancel is announced on a core NATS subject (at most once is
// enough: the record already says "cancelled" and the worker checks it) and every queue instance
// fires its onCancel listeners; the announcing instance fires its own directly, even offline.
import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '../../shared/index.js';

export class CancelBroadcast {
  private readonly listeners = new Set<(callId: string) => void>();
  private readonly instanceId = randomUUID();
  private subscription: Subscription | undefined;
  private connection: NatsConnection | undefined;

  constructor(private readonly subject: string, private readonly logger: Logger) {}

  attach(nc: NatsConnection): void {
    this.connection = nc;
    this.subscription = nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const { callId, from } = msg.json<{ callId: string; from: string }>();
          if (from !== this.instanceId) this.fire(callId);
        } catch (parseErr) {
          this.logger.warn({ err: parseErr }, 'bad cancel broadcast');
        }
      },
    });
  }

  detach(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.connection = undefined;
  }

  announce(callId: string): void {
    this.connection?.publish(this.subject, JSON.stringify({ callId, from: this.instanceId }));
    this.fire(callId);
  }

  listen(listener: (callId: string) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private fire(callId: string): void {
    for (const listener of this.listeners) {
      try {
        listener(callId);
      } catch (err) {
        this.logger.error({ err, callId }, 'cancel listener threw');
      }
    }
  }
}
