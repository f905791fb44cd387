// Per-function log buffer: the last N lines of a function's processes, with live followers.
// Bounded so a chatty function cannot grow the gateway's memory.
import type { LogEntry } from '../provider.js';

export class LogRing {
  private readonly entries: (LogEntry | undefined)[];
  private next = 0;
  private size = 0;
  private readonly followers = new Set<(entry: LogEntry) => void>();

  constructor(private readonly maxEntries = 1000) {
    this.entries = new Array<LogEntry | undefined>(maxEntries);
  }

  push(entry: LogEntry): void {
    this.entries[this.next] = entry;
    this.next = (this.next + 1) % this.maxEntries;
    if (this.size < this.maxEntries) this.size += 1;
    for (const follower of this.followers) follower(entry);
  }

  /** Oldest first. */
  snapshot(): LogEntry[] {
    const out: LogEntry[] = [];
    const start = (this.next - this.size + this.maxEntries) % this.maxEntries;
    for (let i = 0; i < this.size; i += 1) out.push(this.entries[(start + i) % this.maxEntries] as LogEntry);
    return out;
  }

  follow(listener: (entry: LogEntry) => void): () => void {
    this.followers.add(listener);
    return () => this.followers.delete(listener);
  }
}

/** Splits a byte stream into lines, keeping a partial last line until its newline arrives. */
export function lineSplitter(onLine: (text: string) => void, maxLineBytes = 16 * 1024): { write(chunk: Buffer): void; end(): void } {
  let pending = '';
  return {
    write(chunk: Buffer): void {
      const text = pending + chunk.toString('utf8');
      const lines = text.split('\n');
      pending = lines.pop() ?? '';
      if (pending.length > maxLineBytes) {
        lines.push(pending);
        pending = '';
      }
      for (const line of lines) onLine(line.length > maxLineBytes ? line.slice(0, maxLineBytes) : line.replace(/\r$/, ''));
    },
    end(): void {
      if (pending) onLine(pending);
      pending = '';
    },
  };
}
