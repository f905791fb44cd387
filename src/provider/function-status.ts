// A spec as the OpenFaaS API shows it: the FunctionStatus fields (shared with the FunctionDeployment
// that `faasq deploy -f` sends), with what the OpenFaaS providers leave out when empty left out.
import type { FunctionSpec, FunctionStatus } from './provider.js';

/** The fields FunctionDeployment and FunctionStatus share, copied from a spec (unset ones left out). */
export function wireFields(spec: FunctionSpec): Omit<FunctionStatus, 'name' | 'replicas' | 'availableReplicas' | 'invocationCount' | 'createdAt'> {
  return {
    namespace: spec.namespace,
    image: spec.image,
    envProcess: spec.fprocess,
    envVars: { ...spec.environment },
    labels: { ...spec.labels },
    annotations: { ...spec.annotations },
    secrets: [...spec.secrets],
    constraints: [...spec.constraints],
    ...(spec.limits ? { limits: { ...spec.limits } } : {}),
    ...(spec.requests ? { requests: { ...spec.requests } } : {}),
    ...(spec.readOnlyRootFilesystem !== undefined ? { readOnlyRootFilesystem: spec.readOnlyRootFilesystem } : {}),
  };
}

/** The label the Kubernetes provider (faas-netes) puts on every function; tools select by it. */
export const FUNCTION_LABEL = 'faas_function';

/** The collection fields the OpenFaaS providers mark `omitempty`, left out when empty (tools that
 *  compare what they deployed with what they read back see no difference). */
const OMITTED_WHEN_EMPTY = ['envVars', 'labels', 'annotations', 'secrets', 'constraints', 'limits', 'requests'] as const;

function withoutEmpty<T extends Partial<Record<(typeof OMITTED_WHEN_EMPTY)[number], unknown>>>(fields: T): T {
  const out = { ...fields };
  for (const key of OMITTED_WHEN_EMPTY) {
    const value = out[key];
    if (value === undefined) continue;
    const isEmpty = Array.isArray(value) ? value.length === 0 : Object.values(value as object).every((v) => v === undefined || v === '');
    if (isEmpty) delete out[key];
  }
  return out;
}

export function specToStatus(spec: FunctionSpec, replicas: number, available: number, createdAt: Date | string, invocationCount: number): FunctionStatus {
  const fields = wireFields(spec);
  // Always the function's own name, as on a faas-netes Deployment, whatever labels were deployed.
  fields.labels = { ...fields.labels, [FUNCTION_LABEL]: spec.name };
  return {
    name: spec.name,
    ...withoutEmpty(fields),
    replicas,
    availableReplicas: available,
    invocationCount,
    createdAt: typeof createdAt === 'string' ? createdAt : createdAt.toISOString(),
  };
}
