// OpenFaaS (Kubernetes) resource quantities, compiled once at deploy: `limits.memory` as bytes
// (128Mi, 1Gi, 500M, 134217728) and `limits.cpu` as thousandths of a core (500m, 1, 0.25).
import { FaasqError } from '../../../shared/errors.js';
import type { FunctionResources } from '../../provider.js';

export interface ResourceLimits {
  readonly memoryBytes?: number;
  /** Thousandths of a core: 500 = half a core. */
  readonly cpuMillis?: number;
  /** As deployed, for messages ("128Mi"). */
  readonly memoryText?: string;
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
};
/** Below this a replica cannot even start its watchdog; refused at deploy rather than crash-looping. */
export const MIN_MEMORY_BYTES = 32 * 2 ** 20;

export function parseMemory(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(raw.trim());
  if (!match) throw new FaasqError('E_DEPLOY_FAILED', `limits.memory must be a quantity such as 128Mi, 1Gi or 500M, got "${raw}"`, { detail: { field: 'limits.memory' } });
  return Math.floor(Number(match[1]) * MEMORY_UNITS[match[2] ?? '']);
}

export function parseCpu(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(m)?$/.exec(raw.trim());
  const millis = match ? (match[2] ? Number(match[1]) : Number(match[1]) * 1000) : NaN;
  if (!match || !(millis >= 1)) throw new FaasqError('E_DEPLOY_FAILED', `limits.cpu must be cores such as 500m, 1 or 0.25, got "${raw}"`, { detail: { field: 'limits.cpu' } });
  return Math.round(millis);
}

export function resourceLimits(limits: FunctionResources | undefined): ResourceLimits {
  const out: { memoryBytes?: number; cpuMillis?: number; memoryText?: string } = {};
  if (limits?.memory) {
    out.memoryBytes = parseMemory(limits.memory);
    out.memoryText = limits.memory;
    if (out.memoryBytes < MIN_MEMORY_BYTES) throw new FaasqError('E_DEPLOY_FAILED', `limits.memory "${limits.memory}" is below the 32Mi a replica needs`, { detail: { field: 'limits.memory' } });
  }
  if (limits?.cpu) out.cpuMillis = parseCpu(limits.cpu);
  return out;
}
