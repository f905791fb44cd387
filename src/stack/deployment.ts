// Converts between the OpenFaaS wire shapes and FunctionSpec: a FunctionDeployment body
// (POST/PUT /system/functions) in, a FunctionStatus out. Errors name the offending JSON field.
import path from 'node:path';
import { FaasqError } from '../shared/errors.js';
import { DEFAULT_NAMESPACE, assertDeployableName, isValidFunctionName } from '../shared/names.js';
import type { FunctionSpec } from '../provider/provider.js';
import { wireFields } from '../provider/function-status.js';
import { optionalBoolean, optionalString, resources, stringList, stringMap, type Check } from './field-checks.js';
import { ANNOTATIONS } from '../shared/annotations.js';

/**
 * Annotation naming the folder a local function process runs in. `faasq deploy -f` sets it to the
 * stack file's (or handler's) folder, since FunctionDeployment has no field for it; it must be an
 * absolute path. Only authenticated /system callers can set it, and they can set fprocess anyway.
 */
export const WORKDIR_ANNOTATION = ANNOTATIONS.workdir.name;

export function deploymentToSpec(json: unknown): FunctionSpec {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FaasqError('E_INVALID_JSON', 'expected a FunctionDeployment JSON object');
  }
  const body = json as Record<string, unknown>;
  const need = <T>(field: string, check: Check<T>): T => {
    if (!check.ok) throw new FaasqError('E_INVALID_FIELD', `field "${field}" must be ${check.expected}`, { detail: { field } });
    return check.value;
  };
  const name = assertDeployableName(body.service, 'service');
  const namespace = need('namespace', optionalString(body.namespace)) || DEFAULT_NAMESPACE;
  if (!isValidFunctionName(namespace) || namespace.includes('.')) {
    throw new FaasqError('E_INVALID_FIELD', `field "namespace" is not a valid namespace: "${namespace}"`, { detail: { field: 'namespace' } });
  }
  const limits = need('limits', resources(body.limits));
  const requests = need('requests', resources(body.requests));
  const readOnly = need('readOnlyRootFilesystem', optionalBoolean(body.readOnlyRootFilesystem));
  const annotations = need('annotations', stringMap(body.annotations));
  const workingDir = annotations[WORKDIR_ANNOTATION];
  if (workingDir !== undefined && !path.isAbsolute(workingDir)) {
    throw new FaasqError('E_INVALID_FIELD', `annotation ${WORKDIR_ANNOTATION} must be an absolute path, got "${workingDir}"`, { detail: { field: 'annotations' } });
  }
  return {
    name,
    namespace,
    image: need('image', optionalString(body.image)) ?? '',
    fprocess: need('envProcess', optionalString(body.envProcess)) ?? '',
    environment: need('envVars', stringMap(body.envVars)),
    labels: need('labels', stringMap(body.labels)),
    annotations,
    secrets: need('secrets', stringList(body.secrets)),
    constraints: need('constraints', stringList(body.constraints)),
    ...(limits ? { limits } : {}),
    ...(requests ? { requests } : {}),
    ...(readOnly !== undefined ? { readOnlyRootFilesystem: readOnly } : {}),
    ...(workingDir !== undefined ? { workingDir } : {}),
  };
}

/** OpenFaaS FunctionDeployment JSON, the body of POST/PUT /system/functions. */
export interface FunctionDeployment {
  service: string;
  image?: string;
  namespace?: string;
  envProcess?: string;
  envVars?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  secrets?: string[];
  constraints?: string[];
  limits?: { memory?: string; cpu?: string };
  requests?: { memory?: string; cpu?: string };
  readOnlyRootFilesystem?: boolean;
}

/** The inverse of deploymentToSpec: what `faasq deploy -f` sends for a stack function. */
export function specToDeployment(spec: FunctionSpec): FunctionDeployment {
  const fields = wireFields(spec);
  // The gateway runs local processes in this folder; FunctionDeployment has no field for it.
  if (spec.workingDir) fields.annotations = { ...fields.annotations, [WORKDIR_ANNOTATION]: spec.workingDir };
  return { service: spec.name, ...fields };
}
