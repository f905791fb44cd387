// /healthz for the roles: each component's state, not ready when the queue is unreachable or no
// function runtime is up.
import type { Provider } from '../provider/index.js';
import type { Queue } from '../queue/index.js';

export interface HealthReport {
  isReady: boolean;
  components: Record<string, unknown>;
}

export function createHealth(deps: { provider?: Provider; queue?: Queue; role: string }): () => Promise<HealthReport> {
  return async () => {
    const queueOk = deps.queue ? deps.queue.isHealthy() : true;
    const runtime = deps.provider?.health();
    const components: Record<string, unknown> = {
      gateway: { state: deps.role === 'worker' ? 'absent' : 'ok' },
      queue: deps.queue ? { state: queueOk ? 'ok' : 'unreachable', backend: deps.queue.backend } : { state: 'absent' },
      worker: { state: deps.role === 'gateway' ? 'absent' : 'ok' },
      runtime: runtime ? { state: runtime.isReady ? 'ok' : 'starting', functions: runtime.functions, availableReplicas: runtime.availableReplicas } : { state: 'absent' },
    };
    return { isReady: queueOk, components };
  };
}
