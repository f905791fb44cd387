// The gateway-wide cap on request bytes held in memory (FAASQ_MAX_BUFFERED). Bodies normally
// stream from caller to function and are never held whole; the two places that do read a body
// whole take its size from here first: a small sync body (read whole to save a stream per call,
// which then simply streams when the budget is spent) and an async body (it must be stored,
// so a spent budget answers 503 E_GATEWAY_BUSY with Retry-After).
import { FaasqError } from '../shared/errors.js';

export class MemoryBudget {
  private held = 0;

  /** `maxBytes` 0: no cap. */
  constructor(readonly maxBytes: number) {}

  get heldBytes(): number {
    return this.held;
  }

  /** Takes `bytes` when they fit; the caller gives them back with give() once it let go of them. */
  tryTake(bytes: number): boolean {
    if (this.maxBytes > 0 && this.held + bytes > this.maxBytes) return false;
    this.held += bytes;
    return true;
  }

  /** tryTake, or the 503 a caller should get when the bytes do not fit. */
  take(bytes: number): void {
    if (!this.tryTake(bytes)) {
      throw new FaasqError('E_GATEWAY_BUSY', `the gateway already holds its limit of ${this.maxBytes} bytes of request bodies in memory (FAASQ_MAX_BUFFERED); retry shortly`, { headers: { 'Retry-After': '1' } });
    }
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}
