// Reading the in-replica watchdog's answers at the gateway's edge. A fork-mode watchdog marks the
// failures faasq must report itself (exec timeout, output cap, a command that cannot start) with
// an `x-faasq-error` header and a one-line body; a fork function writes only a body, so it cannot
// forge one, and http-mode answers are never read this way. Any failure of a replica whose cgroup
// saw a memory kill becomes E_FUNCTION_MEMORY_LIMIT.
import type { Readable } from 'node:stream';
import { FaasqError, type ErrorCode } from '../../shared/errors.js';
import type { InvocationResponse, ResponseSink, StreamControl } from '../provider.js';

/** The codes a watchdog may report; anything else is not trusted. */
const REPORTED: ReadonlySet<string> = new Set<ErrorCode>(['E_FUNCTION_TIMEOUT', 'E_FUNCTION_OUTPUT_TOO_LARGE', 'E_FUNCTION_UNREACHABLE']);
const ERROR_HEADER = 'x-faasq-error';
const SIGNAL_HEADER = 'x-faasq-signal';
/** A report body is one line; more is not read. */
const MAX_REPORT_BYTES = 4096;

export interface ReplicaErrors {
  readonly fn: string;
  readonly maxOutputBytes: number;
  /** E_FUNCTION_MEMORY_LIMIT when the replica's cgroup saw a memory kill, else undefined. */
  memoryError(): FaasqError | undefined;
}

function reportedError(errors: ReplicaErrors, code: string, text: string): FaasqError {
  if (!REPORTED.has(code)) return new FaasqError('E_FUNCTION_UNREACHABLE', `function "${errors.fn}" failed: its watchdog reported ${code.slice(0, 64)}`);
  const detail = code === 'E_FUNCTION_OUTPUT_TOO_LARGE' ? { maxBytes: errors.maxOutputBytes } : {};
  const hint = code === 'E_FUNCTION_OUTPUT_TOO_LARGE' ? ' (FAASQ_MAX_FORK_OUTPUT); process killed' : '';
  return new FaasqError(code as ErrorCode, `function "${errors.fn}" ${text.trim()}${hint}`, { detail });
}

/** The promise path: a report becomes a thrown error; a SIGKILL at the memory limit too. */
export async function watchdogResponse(res: InvocationResponse, errors: ReplicaErrors): Promise<InvocationResponse> {
  const code = res.headers[ERROR_HEADER];
  const signal = res.headers[SIGNAL_HEADER];
  delete res.headers[ERROR_HEADER];
  delete res.headers[SIGNAL_HEADER];
  if (typeof code === 'string') throw reportedError(errors, code, await readSome(res.body));
  if (signal === 'SIGKILL') {
    const memory = errors.memoryError();
    if (memory) {
      discard(res.body);
      throw memory;
    }
  }
  return res;
}

/** Drops a body nobody will read; undici reports that as an error, which is expected here. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

async function readSome(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= MAX_REPORT_BYTES) break;
  }
  discard(body);
  return Buffer.concat(chunks).subarray(0, MAX_REPORT_BYTES).toString('utf8');
}

/** The streaming path: the same translation in front of the caller's sink. */
export class WatchdogSink implements ResponseSink {
  private report: string | undefined;
  private replacement: FaasqError | undefined;
  private readonly held: Buffer[] = [];
  private heldBytes = 0;

  constructor(
    private readonly sink: ResponseSink,
    private readonly errors: ReplicaErrors,
    private readonly isFork: boolean,
    private readonly onSettled: () => void,
  ) {}

  onStart(control: StreamControl): void {
    this.sink.onStart(control);
  }

  onResponse(status: number, headers: Record<string, string | string[]>): void {
    if (this.isFork) {
      const code = headers[ERROR_HEADER];
      const signal = headers[SIGNAL_HEADER];
      delete headers[ERROR_HEADER];
      delete headers[SIGNAL_HEADER];
      if (typeof code === 'string') {
        this.report = code;
        return;
      }
      if (signal === 'SIGKILL') this.replacement = this.errors.memoryError();
      if (this.replacement) return;
    }
    this.sink.onResponse(status, headers);
  }

  onData(chunk: Buffer): boolean {
    if (this.report === undefined && !this.replacement) return this.sink.onData(chunk);
    if (this.heldBytes < MAX_REPORT_BYTES) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
    }
    return true;
  }

  onEnd(): void {
    if (this.report !== undefined) this.sink.onError(reportedError(this.errors, this.report, Buffer.concat(this.held).toString('utf8')));
    else if (this.replacement) this.sink.onError(this.replacement);
    else this.sink.onEnd();
    this.onSettled();
  }

  onError(err: unknown): void {
    this.sink.onError(this.errors.memoryError() ?? err);
    this.onSettled();
  }
}
