// The dependency step for each template language, in place of the Dockerfile's RUN lines (which
// faasq never executes). A step is chosen by the manifest file the template or handler holds, runs
// only when its tool is on PATH, and fails with the tool named otherwise. Install scripts are off
// (npm --ignore-scripts, pip wheels only): installing runs on the host, outside any sandbox.
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { FaasqError } from '../../shared/errors.js';

export interface InstallStep {
  /** The program run (looked up on PATH). */
  readonly tool: string;
  readonly args: readonly string[];
  /** Folder it runs in, inside the assembled function. */
  readonly cwd: string;
  /** What it installs, for logs and errors ("template package.json"). */
  readonly what: string;
  /** Names the step across builds: its folder relative to the root, and its tool. */
  readonly id: string;
  /** Hash of the files that decide what it installs, when its result can be reused by a later build. */
  readonly key: string | undefined;
  /** What it leaves in its folder (the first one always), copied from an earlier build with the same key instead of running it. */
  readonly outputs: readonly string[];
}

interface LanguageRule {
  /** Manifest file whose presence in a folder calls for the step. */
  readonly manifest: string;
  readonly tool: string;
  /** The command, run in the folder holding the manifest; `root` is the assembled function's root. */
  args(root: string): string[];
  /** False when the manifest lists nothing to install (the step is skipped). */
  hasWork(file: string): boolean;
  /** Only in the root folder (a build step), not again in the handler folder. */
  readonly isRootOnly?: boolean;
  /** Files (beside the manifest) whose bytes decide the install; with `outputs`, makes a step reusable. */
  readonly inputs?: readonly string[];
  readonly outputs?: readonly string[];
}

/** Where pip installs (one folder for the template's and the handler's requirements), on PYTHONPATH at run time. */
export const PYTHON_PACKAGES = '.faasq-python';

/** The documented table (docs/porting.md): manifest, tool, command. */
export const LANGUAGE_RULES: readonly LanguageRule[] = [
  {
    manifest: 'package.json',
    tool: 'npm',
    args: () => ['install', '--ignore-scripts', '--install-links', '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=error'],
    hasWork: (file) => {
      const pkg = readJson(file);
      return ['dependencies', 'devDependencies', 'optionalDependencies'].some((k) => isNonEmptyMap(pkg?.[k]));
    },
    // Local `file:` packages live in vendor-like folders whose content the lock does not pin: not reused then.
    inputs: ['package-lock.json', 'npm-shrinkwrap.json', '.npmrc'],
    outputs: ['node_modules', 'package-lock.json'],
  },
  {
    manifest: 'requirements.txt',
    tool: 'python3',
    args: (root) => ['-m', 'pip', 'install', '--no-input', '--disable-pip-version-check', '--only-binary=:all:', '--upgrade', '--target', path.join(root, PYTHON_PACKAGES), '-r', 'requirements.txt'],
    hasWork: (file) => readText(file).split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#')),
  },
  {
    manifest: 'go.mod',
    tool: 'go',
    // The golang templates' Dockerfiles build `handler` from the root, with function/ replaced in by go.mod.
    args: () => ['build', '-o', 'handler', '.'],
    hasWork: () => true,
    isRootOnly: true,
  },
  {
    manifest: 'composer.json',
    tool: 'composer',
    args: () => ['install', '--no-interaction', '--no-scripts', '--no-plugins'],
    hasWork: () => true,
    inputs: ['composer.lock'],
    outputs: ['vendor', 'composer.lock'],
  },
];

/** Languages whose templates compile into a container faasq cannot reproduce; named in the error. */
const UNSUPPORTED = [/^dockerfile$/, /^java/, /^csharp/, /^dotnet/, /^kotlin/, /^rust/];

export function assertLanguageSupported(lang: string, language: string): void {
  if (UNSUPPORTED.some((re) => re.test(lang.toLowerCase()) || re.test(language.toLowerCase()))) {
    throw new FaasqError('E_TEMPLATE_BUILD', `template "${lang}" (${language}) cannot be run from its folder by faasq: build it with faas-cli and deploy the image through a remote provider, or give the function an fprocess (see docs/porting.md)`, { detail: { lang } });
  }
}

/** The steps for an assembled function: the root first, then the handler folder. */
export function installSteps(root: string, handlerFolder: string): InstallStep[] {
  const steps: InstallStep[] = [];
  for (const [dir, label] of [[root, 'template'], [path.join(root, handlerFolder), 'function']] as const) {
    for (const rule of LANGUAGE_RULES) {
      if (rule.isRootOnly && dir !== root) continue;
      const file = path.join(dir, rule.manifest);
      if (!isFile(file) || !rule.hasWork(file)) continue;
      const args = rule.args(root);
      const id = `${path.relative(root, dir) || '.'}:${rule.tool}`;
      steps.push({ tool: rule.tool, args, cwd: dir, what: `${label} ${rule.manifest}`, id, key: stepKey(rule, dir, file, args), outputs: rule.outputs ?? [] });
    }
  }
  return steps;
}

/** Reusable only with declared outputs and no local `file:` dependency (its folder's content is not in the key). */
function stepKey(rule: LanguageRule, dir: string, manifest: string, args: readonly string[]): string | undefined {
  if (!rule.outputs || rule.outputs.length === 0) return undefined;
  const text = readText(manifest);
  if (rule.manifest === 'package.json' && /"(file|link):/.test(text)) return undefined;
  const hash = createHash('sha256').update(rule.tool).update('\0').update(args.join('\0')).update('\0').update(text);
  for (const input of rule.inputs ?? []) {
    const file = path.join(dir, input);
    hash.update(`\0${input}\0`);
    if (existsSync(file)) hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

/** The absolute path of `tool` on `pathVar`, or E_TEMPLATE_TOOL_MISSING naming it. */
export function findTool(tool: string, pathVar: string | undefined, forWhat: string): string {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  throw new FaasqError('E_TEMPLATE_TOOL_MISSING', `${forWhat} needs "${tool}", which is not installed (not found on PATH): install ${tool}, or build the function with faas-cli instead`, { detail: { tool } });
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(readText(file));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch (err) {
    throw new FaasqError('E_TEMPLATE_BUILD', `${file}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function isNonEmptyMap(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}
