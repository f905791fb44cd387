// Assembles a function from the project's template/<lang>/ folder the way `faas-cli build
// --shrinkwrap` lays out a build context: the template's files with the handler folder copied over
// its `function/` folder. The result lives under <dataDir>/functions/<namespace>/<name>/<hash>/,
// keyed by a content hash of template and handler, so an unchanged function is not copied or
// installed again, and a changed one is built beside the running one before it is swapped in.
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FaasqError } from '../../shared/errors.js';
import { parseDockerfileEnv } from './dockerfile-env.js';
import { assertLanguageSupported, findTool, installSteps, PYTHON_PACKAGES, type InstallStep } from './install-steps.js';
import { runStep } from './run-step.js';
import { hashTrees, readTree, type Tree } from './source-tree.js';
import { isProcessAlive } from '../../shared/process-alive.js';

/** Bumped when the layout or install steps change, so older builds are not reused. */
const BUILD_VERSION = 'faasq-template-build-2';
const STAMP = '.faasq-build.json';
const MAX_SMALL_FILE_BYTES = 1024 * 1024;
const DEFAULT_INSTALL_TIMEOUT_MS = 10 * 60_000;
/** ENV keys that describe the image's own filesystem and user, never carried to a host process. */
const HOST_OWNED_ENV = new Set(['PATH', 'HOME', 'USER', 'HOSTNAME', 'PWD']);

export interface AssembleOptions {
  readonly name: string;
  readonly namespace: string;
  readonly lang: string;
  /** The project folder (the stack file's), which holds template/<lang>/. */
  readonly projectDir: string;
  /** The handler folder (stack.yml `handler:`), absolute. */
  readonly handlerDir: string;
  /** stack.yml `build_args`, used for ARG substitution in ENV values. */
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly dataDir: string;
  /** Environment for install tools (PATH decides which tools are present). */
  readonly env: NodeJS.ProcessEnv;
  readonly installTimeoutMs?: number;
  readonly onOutput?: (text: string) => void;
}

export interface AssembledFunction {
  /** The assembled build context. */
  readonly root: string;
  /** Where the process runs: the root, or its handler folder when the Dockerfile's last WORKDIR is that folder. */
  readonly workingDir: string;
  /** `fprocess` from the Dockerfile's ENV (or template.yml), when it sets one. */
  readonly fprocess: string | undefined;
  /** The Dockerfile's final-stage ENV (without fprocess and host-owned keys), plus what installs add (PYTHONPATH). */
  readonly environment: Record<string, string>;
  /** ENV keys left out, with why, for a log line. */
  readonly skippedEnv: string[];
  readonly hash: string;
  /** False when an earlier identical build was reused. */
  readonly isRebuilt: boolean;
}

export function templateDirFor(projectDir: string, lang: string): string {
  return path.join(projectDir, 'template', lang);
}

/** True when the project holds template/<lang>/ (a valid lang name only). */
export function hasTemplate(projectDir: string, lang: string): boolean {
  if (!isSafeName(lang)) return false;
  try {
    return statSync(templateDirFor(projectDir, lang)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `faas-cli new` for a project template: copies template/<lang>/'s sample handler folder to
 * `target` (which must not exist) and returns the files written.
 */
export function copySampleHandler(projectDir: string, lang: string, target: string): string[] {
  const templateDir = templateDirFor(projectDir, lang);
  const where = `template/${lang}`;
  const { handlerFolder } = readTemplateMeta(templateDir, where);
  const sample = path.join(templateDir, handlerFolder);
  const tree = isDirectory(sample) ? readTree(sample, `${where}/${handlerFolder}`) : { root: sample, entries: [], bytes: 0 };
  copyTree(tree, target);
  return tree.entries.filter((e) => !e.isDir).map((e) => path.join(target, ...e.rel.split('/')));
}

export async function assembleFunction(options: AssembleOptions): Promise<AssembledFunction> {
  const { name, namespace, lang } = options;
  if (!isSafeName(lang)) throw new FaasqError('E_TEMPLATE_BUILD', `function "${name}": "lang" must be a template folder name, got "${lang}"`);
  const templateDir = templateDirFor(options.projectDir, lang);
  const where = `function "${name}": template/${lang}`;
  const meta = readTemplateMeta(templateDir, where);
  assertLanguageSupported(lang, meta.language);
  const dockerfile = readSmallFile(path.join(templateDir, 'Dockerfile'), `${where}/Dockerfile`);
  if (dockerfile === undefined) throw new FaasqError('E_TEMPLATE_BUILD', `${where} has no Dockerfile (is it a complete template? try \`faas-cli template pull\`)`);
  if (!isDirectory(options.handlerDir)) throw new FaasqError('E_TEMPLATE_BUILD', `function "${name}": handler folder ${options.handlerDir} does not exist`);

  const template = readTree(templateDir, where);
  const handler = readTree(options.handlerDir, `function "${name}": handler ${options.handlerDir}`, new Set(['build', 'template']));
  const hash = hashTrees(BUILD_VERSION, [{ label: 'template', tree: template }, { label: meta.handlerFolder, tree: handler }]);
  const base = path.join(options.dataDir, 'functions', namespace, name);
  const root = path.join(base, hash.slice(0, 16));
  let isRebuilt = false;
  if (!existsSync(path.join(root, STAMP))) {
    await build(options, meta.handlerFolder, template, handler, base, root);
    isRebuilt = true;
  }
  pruneOldBuilds(base, root);

  const parsed = parseDockerfileEnv(dockerfile, options.buildArgs);
  const environment: Record<string, string> = {};
  const skippedEnv = parsed.skipped.map((key) => `${key} (names a variable of the base image)`);
  for (const [key, value] of Object.entries(parsed.env)) {
    if (key === 'fprocess' || key === 'function_process') continue;
    if (HOST_OWNED_ENV.has(key)) {
      skippedEnv.push(`${key} (the image's own)`);
      continue;
    }
    environment[key] = value;
  }
  if (existsSync(path.join(root, PYTHON_PACKAGES))) environment.PYTHONPATH = path.join(root, PYTHON_PACKAGES);
  const fprocess = parsed.env.fprocess ?? parsed.env.function_process ?? meta.fprocess;
  const lastDir = parsed.workdir.replace(/\/+$/, '');
  const workingDir = lastDir !== '' && path.posix.basename(lastDir) === meta.handlerFolder ? path.join(root, meta.handlerFolder) : root;
  return { root, workingDir, fprocess: fprocess || undefined, environment, skippedEnv, hash, isRebuilt };
}

async function build(options: AssembleOptions, handlerFolder: string, template: Tree, handler: Tree, base: string, root: string): Promise<void> {
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const tmp = path.join(base, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    copyTree(template, tmp);
    copyTree(handler, path.join(tmp, handlerFolder));
    const previous = previousBuild(base);
    const keys: Record<string, string> = {};
    for (const step of installSteps(tmp, handlerFolder)) {
      if (step.key !== undefined) keys[step.id] = step.key;
      if (previous && reuseStep(step, previous, tmp)) continue;
      const toolPath = findTool(step.tool, options.env.PATH, `function "${options.name}" (${step.what})`);
      await runStep(step, toolPath, options.name, { env: options.env, timeoutMs: options.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS, onOutput: options.onOutput });
    }
    const stamp: Stamp = { version: BUILD_VERSION, lang: options.lang, builtAt: new Date().toISOString(), steps: keys };
    writeFileSync(path.join(tmp, STAMP), `${JSON.stringify(stamp)}\n`);
    try {
      renameSync(tmp, root);
    } catch (err) {
      // Another faasq built the same content at the same time; its copy is as good as ours.
      if (!existsSync(path.join(root, STAMP))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

interface Stamp {
  readonly version: string;
  readonly lang: string;
  readonly builtAt: string;
  /** Each reusable install step's key (see InstallStep.key). */
  readonly steps: Readonly<Record<string, string>>;
}

/** The build `current` names, with its stamp, when it is complete and of this build version. */
function previousBuild(base: string): { dir: string; stamp: Stamp } | undefined {
  const marker = path.join(base, 'current');
  const name = readSmallFile(marker, marker)?.trim();
  if (!name || !isSafeName(name)) return undefined;
  const dir = path.join(base, name);
  try {
    const stamp = JSON.parse(readFileSync(path.join(dir, STAMP), 'utf8')) as Stamp;
    return stamp.version === BUILD_VERSION && typeof stamp.steps === 'object' && stamp.steps !== null ? { dir, stamp } : undefined;
  } catch {
    return undefined;
  }
}

/** Copies an unchanged step's outputs from the previous build (a warm rebuild skips npm install). */
function reuseStep(step: InstallStep, previous: { dir: string; stamp: Stamp }, root: string): boolean {
  if (step.key === undefined || previous.stamp.steps[step.id] !== step.key) return false;
  const from = path.join(previous.dir, path.relative(root, step.cwd));
  // The first output (node_modules, vendor) must be there; the others (lock files) are copied when present.
  if (step.outputs.length === 0 || !existsSync(path.join(from, step.outputs[0]))) return false;
  for (const out of step.outputs) {
    if (!existsSync(path.join(from, out))) continue;
    rmSync(path.join(step.cwd, out), { recursive: true, force: true });
    cpSync(path.join(from, out), path.join(step.cwd, out), { recursive: true, verbatimSymlinks: true });
  }
  return true;
}

function copyTree(tree: Tree, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of tree.entries) {
    const dest = path.join(to, ...entry.rel.split('/'));
    if (entry.isDir) {
      mkdirSync(dest, { recursive: true });
      continue;
    }
    // An overlaid handler file replaces the template's sample of the same name.
    rmSync(dest, { force: true });
    copyFileSync(entry.abs, dest);
    chmodSync(dest, entry.isExecutable ? 0o755 : 0o644);
  }
}

/** Keeps the new build and the one used before it (still running until the swap); removes the rest. */
function pruneOldBuilds(base: string, current: string): void {
  const marker = path.join(base, 'current');
  const previous = readSmallFile(marker, marker)?.trim();
  const keep = new Set([path.basename(current), previous]);
  for (const entry of readdirSync(base)) {
    if (entry === 'current' || keep.has(entry)) continue;
    // A temporary folder is another build in progress, unless its process is gone (killed mid-install).
    const builder = /^\.tmp-(\d+)-/.exec(entry);
    if (builder && isProcessAlive(Number(builder[1]))) continue;
    rmSync(path.join(base, entry), { recursive: true, force: true });
  }
  if (previous !== path.basename(current)) writeFileSync(marker, `${path.basename(current)}\n`);
}

interface TemplateMeta {
  readonly language: string;
  readonly fprocess: string | undefined;
  readonly handlerFolder: string;
}

/** template.yml: `language`, `fprocess`, `handler_folder` (optional; faas-cli's defaults otherwise). */
function readTemplateMeta(templateDir: string, where: string): TemplateMeta {
  const text = readSmallFile(path.join(templateDir, 'template.yml'), `${where}/template.yml`);
  let doc: Record<string, unknown> = {};
  if (text !== undefined) {
    try {
      const parsed: unknown = parseYaml(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) doc = parsed as Record<string, unknown>;
    } catch (err) {
      throw new FaasqError('E_TEMPLATE_BUILD', `${where}/template.yml: invalid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
  }
  const handlerFolder = typeof doc.handler_folder === 'string' && doc.handler_folder !== '' ? doc.handler_folder : 'function';
  if (!isSafeName(handlerFolder)) throw new FaasqError('E_TEMPLATE_BUILD', `${where}/template.yml: "handler_folder" must be a folder name, got "${handlerFolder}"`);
  return {
    language: typeof doc.language === 'string' ? doc.language : '',
    fprocess: typeof doc.fprocess === 'string' ? doc.fprocess : undefined,
    handlerFolder,
  };
}

function readSmallFile(file: string, what: string): string | undefined {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return undefined;
    size = st.size;
  } catch {
    return undefined;
  }
  if (size > MAX_SMALL_FILE_BYTES) throw new FaasqError('E_TEMPLATE_BUILD', `${what} is larger than ${MAX_SMALL_FILE_BYTES} bytes`);
  return readFileSync(file, 'utf8');
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function isSafeName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) && !name.includes('..');
}
