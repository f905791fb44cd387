// Replica bookkeeping for runtimes with no standing process (fork mode, upstream functions): a
// replica is only a count, every one of them is available, and zero replicas refuses calls.
import { FaasqError } from '../../shared/errors.js';

export abstract class CountedReplicas {
  private desired: number;
  protected isStopped = false;

  constructor(protected readonly name: string, replicas: number) {
    this.desired = replicas;
  }

  async start(): Promise<void> {}

  async scale(replicas: number): Promise<void> {
    this.desired = replicas;
  }

  replicas(): number {
    return this.desired;
  }

  availableReplicas(): number {
    return this.isStopped ? 0 : this.desired;
  }

  /** Why a call cannot start now (stopping, scaled to zero), or undefined when it can. */
  protected refusal(): FaasqError | undefined {
    if (this.isStopped) return new FaasqError('E_SHUTTING_DOWN', `function "${this.name}" is stopping`);
    if (this.desired === 0) return new FaasqError('E_FUNCTION_NOT_READY', `function "${this.name}" is scaled to zero replicas`);
    return undefined;
  }
}
