// Reads an OpenFaaS stack.yml into FunctionSpecs: envsubst, then YAML, then a strict check of
// every known key so a bad file fails with the file, the function and the key named.
// Unknown keys (build_options, skip_build, ...) are ignored, as faas-cli ignores what it does not use.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FaasqError, isFaasqError } from '../shared/errors.js';
import { DEFAULT_NAMESPACE, assertDeployableName, isValidFunctionName } from '../shared/names.js';
import type { FunctionSpec } from '../provider/provider.js';
import { substituteEnv } from './substitute-env.js';
import { optionalBoolean, optionalString, resources, stringList, stringMap, type Check } from './field-checks.js';

const PROVIDER_NAMES = new Set(['openfaas', 'faasq']);

/** A stack function with what building it needs beside its spec (`lang`, `handler`, `build_args`). */
export interface StackFunction {
  readonly spec: FunctionSpec;
  readonly lang: string | undefined;
  /** `handler:` resolved against the stack file's folder (may not exist). */
  readonly handlerPath: string | undefined;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** The stack file's folder: the project, holding template/<lang>/. */
  readonly projectDir: string;
}

export function loadStackFile(file: string, env: NodeJS.ProcessEnv = process.env): FunctionSpec[] {
  return readStackFunctions(file, env).map((f) => f.spec);
}

export function readStackFunctions(file: string, env: NodeJS.ProcessEnv = process.env): StackFunction[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FaasqError('E_STACK_FILE', `${file}: cannot read stack file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return parseStackFunctions(substituteEnv(text, env), file);
}

/** Parses stack file text; `file` names it in errors and anchors relative paths. */
export function parseStack(text: string, file: string): FunctionSpec[] {
  return parseStackFunctions(text, file).map((f) => f.spec);
}

function parseStackFunctions(text: string, file: string): StackFunction[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new FaasqError('E_STACK_FILE', `${file}: invalid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const fail = (msg: string): never => { throw new FaasqError('E_STACK_FILE', `${file}: ${msg}`); };
  if (!isMap(doc)) return fail('expected a YAML map with a "functions" key');
  const version = doc.version;
  if (version !== undefined && version !== null && version !== '1.0' && version !== 1 && version !== '1') fail(`"version" must be "1.0", got ${JSON.stringify(version)}`);
  if (doc.provider !== undefined && doc.provider !== null) {
    if (!isMap(doc.provider)) fail('"provider" must be a map with "name" and "gateway"');
    const provider = doc.provider as Record<string, unknown>;
    if (provider.name !== undefined && (typeof provider.name !== 'string' || !PROVIDER_NAMES.has(provider.name))) fail(`"provider.name" must be "openfaas" or "faasq", got ${JSON.stringify(provider.name)}`);
  }
  if (!isMap(doc.functions)) return fail('"functions" must be a map of function name to function');
  const baseDir = path.dirname(path.resolve(file));
  return Object.entries(doc.functions).map(([name, body]) => readFunction(file, baseDir, name, body));
}

function readFunction(file: string, baseDir: string, name: string, body: unknown): StackFunction {
  const where = `${file}: function "${name}"`;
  try {
    assertDeployableName(name, 'functions');
  } catch (err) {
    if (isFaasqError(err)) throw new FaasqError('E_STACK_FILE', `${where}: invalid name: ${err.message}`, { cause: err });
    throw err;
  }
  if (!isMap(body)) throw new FaasqError('E_STACK_FILE', `${where}: must be a map of settings`);
  const need = <T>(key: string, check: Check<T>): T => {
    if (!check.ok) throw new FaasqError('E_STACK_FILE', `${where}: "${key}" must be ${check.expected}`);
    return check.value;
  };
  const namespace = need('namespace', optionalString(body.namespace)) || DEFAULT_NAMESPACE;
  if (!isValidFunctionName(namespace) || namespace.includes('.')) throw new FaasqError('E_STACK_FILE', `${where}: "namespace" is not a valid namespace: "${namespace}"`);
  const inline = need('environment', stringMap(body.environment));
  const envFiles = need('environment_file', stringList(body.environment_file));
  const environment = { ...inline };
  for (const envFile of envFiles) Object.assign(environment, readEnvironmentFile(where, baseDir, envFile));
  const handler = need('handler', optionalString(body.handler));
  const limits = need('limits', resources(body.limits));
  const requests = need('requests', resources(body.requests));
  const readOnly = need('readonly_root_filesystem', optionalBoolean(body.readonly_root_filesystem));
  const lang = need('lang', optionalString(body.lang));
  const buildArgs = need('build_args', stringMap(body.build_args));
  const spec: FunctionSpec = {
    name,
    namespace,
    image: need('image', optionalString(body.image)) ?? '',
    fprocess: need('fprocess', optionalString(body.fprocess)) ?? '',
    environment,
    labels: need('labels', stringMap(body.labels)),
    annotations: need('annotations', stringMap(body.annotations)),
    secrets: need('secrets', stringList(body.secrets)),
    constraints: need('constraints', stringList(body.constraints)),
    ...(limits ? { limits } : {}),
    ...(requests ? { requests } : {}),
    ...(readOnly !== undefined ? { readOnlyRootFilesystem: readOnly } : {}),
    workingDir: handlerDir(baseDir, handler),
  };
  // faas-cli normalises `lang: Dockerfile` to `dockerfile`.
  const normalLang = lang === 'Dockerfile' ? 'dockerfile' : lang || undefined;
  return { spec, lang: normalLang, handlerPath: handler ? path.resolve(baseDir, handler) : undefined, buildArgs, projectDir: baseDir };
}

/** faas-cli's environment_file format: a YAML file with an `environment:` map. */
function readEnvironmentFile(where: string, baseDir: string, envFile: string): Record<string, string> {
  const full = path.resolve(baseDir, envFile);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(full, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0];
    throw new FaasqError('E_STACK_FILE', `${where}: "environment_file" ${envFile}: cannot read: ${reason}`, { cause: err });
  }
  const check = stringMap(isMap(doc) ? doc.environment : undefined, false);
  if (!isMap(doc) || !check.ok) throw new FaasqError('E_STACK_FILE', `${where}: "environment_file" ${envFile}: must hold an "environment" map of strings`);
  return check.value;
}

function handlerDir(baseDir: string, handler: string | undefined): string {
  if (!handler) return baseDir;
  const full = path.resolve(baseDir, handler);
  try {
    if (statSync(full).isDirectory()) return full;
  } catch {
    // a handler folder that does not exist locally (built elsewhere) leaves the stack folder
  }
  return baseDir;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
