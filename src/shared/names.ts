// Function names and namespaces as OpenFaaS spells them: `[-a-zA-Z_0-9.]+`, `name.namespace`
// split on the last dot, default namespace `openfaas-fn`.
import { FaasqError } from './errors.js';

/** `name` in the default namespace, `name.namespace` in any other (as OpenFaaS names them). */
export function qualifiedName(fn: string, namespace: string): string {
  return namespace === DEFAULT_NAMESPACE ? fn : `${fn}.${namespace}`;
}

export const DEFAULT_NAMESPACE = 'openfaas-fn';
export const FUNCTION_NAME_PATTERN = /^[-a-zA-Z_0-9.]+$/;

export interface FunctionRef {
  readonly name: string;
  readonly namespace: string;
}

export function isValidFunctionName(name: string): boolean {
  return name.length > 0 && name.length <= 253 && FUNCTION_NAME_PATTERN.test(name) && !name.startsWith('.') && !name.endsWith('.');
}

/** Splits `name.namespace` on the last dot; a bare name gets the default namespace. */
export function parseFunctionRef(raw: string, defaultNamespace = DEFAULT_NAMESPACE): FunctionRef {
  if (!isValidFunctionName(raw)) {
    throw new FaasqError('E_INVALID_FUNCTION_NAME', `invalid function name "${raw}": use letters, digits, '-', '_' and '.'`);
  }
  const dot = raw.lastIndexOf('.');
  if (dot === -1) return { name: raw, namespace: defaultNamespace };
  return { name: raw.slice(0, dot), namespace: raw.slice(dot + 1) };
}

/** A deployable name is stricter, as OpenFaaS requires: an RFC 1035 DNS label (lower-case letters,
 *  digits and '-', starting with a letter, at most 63 characters). */
export function assertDeployableName(name: unknown, field = 'service'): string {
  if (typeof name !== 'string' || name.length === 0) throw new FaasqError('E_MISSING_FIELD', `missing field "${field}"`);
  if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    throw new FaasqError('E_INVALID_FUNCTION_NAME', `invalid function name "${name}" in "${field}": use lower-case letters, digits and '-', start with a letter, at most 63 characters`);
  }
  return name;
}
