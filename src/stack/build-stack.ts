// Turns stack functions into runnable specs: a function whose `lang:` names a template folder in
// the project (template/<lang>/, as `faas-cli new` and `faas-cli template pull` leave it) is
// assembled and installed under the data dir, and runs with its Dockerfile's ENV beneath its own
// `environment`. Used by `faasq up` and by `faasq deploy -f`, so both build the same way.
import { FaasqError } from '../shared/errors.js';
import type { FunctionSpec } from '../provider/provider.js';
import { readStackFunctions, type StackFunction } from './stack-file.js';
import { assembleFunction, hasTemplate, type AssembledFunction } from './templates/index.js';

export interface StackBuildOptions {
  readonly dataDir: string;
  /** Environment for install tools; PATH decides which are present. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Only functions this returns true for are read and built (`faasq deploy --filter`). */
  readonly filter?: (name: string) => boolean;
  /** Told about each assembled function (built or reused), for a log line. */
  readonly onAssembled?: (name: string, assembled: AssembledFunction) => void;
  readonly onOutput?: (name: string, text: string) => void;
}

export async function buildStackFile(file: string, options: StackBuildOptions): Promise<FunctionSpec[]> {
  const env = options.env ?? process.env;
  const specs: FunctionSpec[] = [];
  for (const fn of readStackFunctions(file, env)) {
    if (options.filter && !options.filter(fn.spec.name)) continue;
    specs.push(await buildStackFunction(fn, { ...options, env }));
  }
  return specs;
}

/** The spec to deploy for one stack function; unchanged unless it uses a template folder. */
export async function buildStackFunction(fn: StackFunction, options: StackBuildOptions): Promise<FunctionSpec> {
  const { spec, lang } = fn;
  if (lang === undefined || !hasTemplate(fn.projectDir, lang)) {
    // faasq's own `lang: node` (runner.mjs in the handler), or a function run by its fprocess or
    // built elsewhere (`image:`): as before. Only a lang with nothing to run it by is an error.
    if (lang !== undefined && lang !== 'node' && lang !== 'dockerfile' && spec.fprocess === '' && spec.image === '') {
      throw new FaasqError('E_TEMPLATE_BUILD', `function "${spec.name}": no template/${lang}/ folder in ${fn.projectDir}: run \`faas-cli template store pull ${lang}\` (or \`faas-cli template pull <repo>\`) there, or give the function an fprocess`);
    }
    return spec;
  }
  if (fn.handlerPath === undefined) throw new FaasqError('E_TEMPLATE_BUILD', `function "${spec.name}": "lang: ${lang}" needs a "handler" folder`);
  const assembled = await assembleFunction({
    name: spec.name,
    namespace: spec.namespace,
    lang,
    projectDir: fn.projectDir,
    handlerDir: fn.handlerPath,
    buildArgs: fn.buildArgs,
    dataDir: options.dataDir,
    env: options.env ?? process.env,
    onOutput: options.onOutput ? (text) => options.onOutput?.(spec.name, text) : undefined,
  });
  options.onAssembled?.(spec.name, assembled);
  const fprocess = spec.fprocess || assembled.fprocess || '';
  if (fprocess === '') throw new FaasqError('E_TEMPLATE_BUILD', `function "${spec.name}": template/${lang} sets no fprocess (no ENV fprocess in its Dockerfile, none in template.yml) and the function has none`);
  return {
    ...spec,
    fprocess,
    environment: { ...assembled.environment, ...spec.environment },
    workingDir: assembled.workingDir,
  };
}
