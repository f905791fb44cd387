// `faasq new NAME --lang LANG`: copies a template into <dir>/<name>/ (the sample handler of the
// project's template/<lang>/ when there is one, as faas-cli new does; else faasq's own node
// template) and adds the function to the stack file through the yaml Document API, so comments and
// layout of an existing file survive.
import { copyFile, mkdir, readFile, readdir, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, isMap, YAMLMap } from 'yaml';
import { FaasqError } from '../shared/errors.js';
import { assertDeployableName } from '../shared/names.js';
import { copySampleHandler, hasTemplate } from './templates/index.js';

/** Languages with a template folder under templates/ and the fprocess that runs them. */
const LANGS: Readonly<Record<string, { fprocess: string }>> = {
  node: { fprocess: 'node runner.mjs' },
};

export interface ScaffoldOptions {
  name: string;
  lang: string;
  /** Folder that gets the <name>/ handler folder. */
  dir: string;
  /** Stack file to create or extend. */
  stackFile: string;
  /** Where the templates live; defaults to the package's templates/ folder. */
  templatesDir?: string;
}

export async function scaffoldFunction(options: ScaffoldOptions): Promise<{ files: string[] }> {
  const name = assertDeployableName(options.name, 'name');
  const projectDir = path.dirname(path.resolve(options.stackFile));
  // A template/<lang>/ folder in the project (faas-cli template pull) wins, as with faas-cli new.
  if (hasTemplate(projectDir, options.lang)) return scaffoldFromTemplate(options, name, projectDir);
  const lang = LANGS[options.lang];
  if (!lang) throw new FaasqError('E_BAD_REQUEST', `unknown language "${options.lang}": available: ${Object.keys(LANGS).join(', ')}, or a template/<lang>/ folder beside the stack file (faas-cli template store pull ${options.lang})`);
  const templateDir = path.join(options.templatesDir ?? defaultTemplatesDir(), options.lang);
  const target = path.join(options.dir, name);
  if (await exists(target)) throw new FaasqError('E_CONFLICT', `folder ${target} already exists`);
  await mkdir(target, { recursive: true });
  const files: string[] = [];
  for (const entry of await readdir(templateDir)) {
    const to = path.join(target, entry);
    await copyFile(path.join(templateDir, entry), to);
    files.push(to);
  }
  await addToStack(options.stackFile, name, lang.fprocess, options.lang, path.relative(path.dirname(path.resolve(options.stackFile)), target) || '.');
  files.push(options.stackFile);
  return { files };
}

/** The handler folder from the template's sample; the stack entry as faas-cli new writes it (lang, handler, image). */
async function scaffoldFromTemplate(options: ScaffoldOptions, name: string, projectDir: string): Promise<{ files: string[] }> {
  const target = path.join(options.dir, name);
  if (await exists(target)) throw new FaasqError('E_CONFLICT', `folder ${target} already exists`);
  const files = copySampleHandler(projectDir, options.lang, target);
  const handler = path.relative(projectDir, path.resolve(target)) || '.';
  await addEntry(options.stackFile, name, { lang: options.lang, handler: `./${handler.split(path.sep).join('/')}`, image: `${name}:latest` });
  return { files: [...files, options.stackFile] };
}

async function addToStack(stackFile: string, name: string, fprocess: string, lang: string, handler: string): Promise<void> {
  await addEntry(stackFile, name, { lang, handler: `./${handler.split(path.sep).join('/')}`, fprocess, environment: { mode: 'http' } });
}

async function addEntry(stackFile: string, name: string, entry: Record<string, unknown>): Promise<void> {
  const text = (await exists(stackFile)) ? await readFile(stackFile, 'utf8') : 'version: "1.0"\nprovider:\n  name: openfaas\n  gateway: http://127.0.0.1:8080\nfunctions: {}\n';
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new FaasqError('E_STACK_FILE', `${stackFile}: invalid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  let functions = doc.get('functions');
  if (!isMap(functions)) {
    functions = new YAMLMap();
    doc.set('functions', functions);
  }
  const map = functions as YAMLMap;
  if (map.has(name)) throw new FaasqError('E_CONFLICT', `${stackFile}: function "${name}" already exists`);
  // An empty flow map `functions: {}` would keep flow style; entries read better in block style.
  map.flow = false;
  map.set(name, doc.createNode(entry));
  await writeFile(stackFile, doc.toString());
}

function defaultTemplatesDir(): string {
  // src/stack/ and dist/stack/ both sit two levels below the package root.
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}
