// Assembling `lang:` functions from a project's template/<lang>/ folder: layout, npm install of a
// local dependency, rebuild only on change, bounded and contained copying, clear errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, readdir, symlink, writeFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStackFile, readStackFunctions, buildStackFunction, scaffoldFunction } from '../../src/stack/index.js';
import { isFaasqError } from '../../src/shared/errors.js';
import { makeTempDir } from '../support/temp-dir.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/openfaas-project');

describe('template assembly', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let project = '';
  let dataDir = '';
  let n = 0;

  before(async () => {
    tmp = await makeTempDir('faasq-templates-');
  });
  after(async () => {
    await tmp.cleanup();
  });

  /** A fresh copy of the fixture project per test. */
  const freshProject = async (): Promise<string> => {
    n += 1;
    project = path.join(tmp.dir, `p${n}`);
    dataDir = path.join(project, '.faasq');
    await cp(FIXTURE, project, { recursive: true });
    return project;
  };
  const build = (extra: Record<string, unknown> = {}) => buildStackFile(path.join(project, 'stack.yml'), { dataDir, ...extra });

  test('templates - assembled like faas-cli build --shrinkwrap, with the Dockerfile ENV under the function environment', async () => {
    await freshProject();
    const specs = await build();
    const hello = specs.find((s) => s.name === 'hello');
    assert.ok(hello?.workingDir);
    const root = hello.workingDir;
    assert.ok(root.startsWith(path.join(dataDir, 'functions', 'openfaas-fn', 'hello')), root);
    // The template's files, the handler over function/ (the sample handler replaced), deps installed.
    assert.ok(existsSync(path.join(root, 'index.js')));
    assert.match(await readFile(path.join(root, 'function', 'handler.js'), 'utf8'), /require\('greeting'\)/);
    assert.ok(existsSync(path.join(root, 'function', 'node_modules', 'greeting', 'index.js')), 'the file: dependency is installed');
    assert.equal(hello.fprocess, 'node index.js');
    assert.equal(hello.image, 'example/hello:latest');
    assert.deepEqual(hello.environment, {
      NPM_CONFIG_LOGLEVEL: 'warn', mode: 'http', upstream_url: 'http://127.0.0.1:3000', exec_timeout: '10s',
      greeting_word: 'hello', node_version: '20', GREETING_SUFFIX: '!',
    });
    const fork = specs.find((s) => s.name === 'fork-hello');
    assert.equal(fork?.fprocess, 'node index.js');
    assert.deepEqual(fork?.environment, { exec_timeout: '5s' });
  });

  test('templates - the function environment and fprocess win over the template; build_args feed ARG', async () => {
    await freshProject();
    await writeFile(path.join(project, 'stack.yml'), [
      'functions:',
      '  hello:',
      '    lang: node-port',
      '    handler: ./hello',
      '    fprocess: node index.js --flag',
      '    build_args:',
      '      GREETING: hi',
      '    environment:',
      '      exec_timeout: 3s',
    ].join('\n'));
    const [hello] = await build();
    assert.equal(hello.fprocess, 'node index.js --flag');
    assert.equal(hello.environment.exec_timeout, '3s');
    assert.equal(hello.environment.greeting_word, 'hi');
  });

  test('templates - an unchanged function is reused, a changed handler rebuilt, the build before it kept, older ones removed', async () => {
    await freshProject();
    const seen: Array<{ name: string; isRebuilt: boolean; root: string }> = [];
    const onAssembled = (name: string, b: { isRebuilt: boolean; root: string }) => seen.push({ name, isRebuilt: b.isRebuilt, root: b.root });
    const filter = (name: string) => name === 'hello';
    await build({ onAssembled, filter });
    await build({ onAssembled, filter });
    assert.deepEqual(seen.map((s) => s.isRebuilt), [true, false]);
    assert.equal(seen[0].root, seen[1].root);

    await writeFile(path.join(project, 'hello', 'handler.js'), "'use strict';\nmodule.exports = async () => 'v2\\n';\n");
    await build({ onAssembled, filter });
    assert.equal(seen[2].isRebuilt, true);
    assert.notEqual(seen[2].root, seen[0].root);
    assert.match(await readFile(path.join(seen[2].root, 'function', 'handler.js'), 'utf8'), /v2/);
    assert.ok(existsSync(seen[0].root), 'the previous build stays while its replicas may still run');

    await writeFile(path.join(project, 'hello', 'handler.js'), "'use strict';\nmodule.exports = async () => 'v3\\n';\n");
    await build({ onAssembled, filter });
    assert.ok(!existsSync(seen[0].root), 'the build two changes back is removed');
    const left = (await readdir(path.dirname(seen[0].root))).filter((e) => !e.startsWith('.')).sort();
    assert.deepEqual(left, ['current', path.basename(seen[2].root), path.basename(seen[3].root)].sort());

    // A build left half done by a killed faasq is removed; one of a live process is not.
    const base = path.dirname(seen[0].root);
    await mkdir(path.join(base, '.tmp-999999999-dead'));
    await mkdir(path.join(base, `.tmp-${process.pid}-live`));
    // A template change rebuilds too.
    await writeFile(path.join(project, 'template', 'node-port', 'index.js'), '// changed\n', { flag: 'a' });
    await build({ onAssembled, filter });
    assert.equal(seen[4].isRebuilt, true);
    assert.ok(!existsSync(path.join(base, '.tmp-999999999-dead')));
    assert.ok(existsSync(path.join(base, `.tmp-${process.pid}-live`)));
  });

  test('templates - a missing install tool is named, and nothing is left half built', async () => {
    await freshProject();
    const emptyBin = path.join(tmp.dir, 'empty-bin');
    await mkdir(emptyBin, { recursive: true });
    await assert.rejects(build({ env: { PATH: emptyBin } }), (err: unknown) => {
      assert.ok(isFaasqError(err, 'E_TEMPLATE_TOOL_MISSING'), String(err));
      assert.equal(err.detail.tool, 'npm');
      assert.match(err.message, /function "hello" \(function package\.json\) needs "npm", which is not installed/);
      return true;
    });
    const base = path.join(dataDir, 'functions', 'openfaas-fn', 'hello');
    assert.deepEqual(existsSync(base) ? (await readdir(base)).filter((e) => e !== 'current') : [], []);
    // A template with nothing to install needs no tool at all.
    const fn = readStackFunctions(path.join(project, 'stack.yml')).find((f) => f.spec.name === 'fork-hello');
    assert.ok(fn);
    const spec = await buildStackFunction(fn, { dataDir, env: { PATH: emptyBin } });
    assert.equal(spec.fprocess, 'node index.js');
  });

  test('templates - a rebuild reuses installed dependencies whose manifest is unchanged; install scripts are off', async () => {
    await freshProject();
    // A stand-in npm that records its arguments, so the test needs neither the registry nor npm.
    const fakeBin = path.join(tmp.dir, `fake-npm-${n}`);
    await mkdir(fakeBin);
    await writeFile(path.join(fakeBin, 'npm'), '#!/bin/sh\n/bin/mkdir -p node_modules && echo "$@" > node_modules/args.txt && echo "$PWD" >> node_modules/args.txt\n', { mode: 0o755 });
    const emptyBin = path.join(tmp.dir, `empty-${n}`);
    await mkdir(emptyBin);
    await writeFile(path.join(project, 'template', 'node-port', 'package.json'), JSON.stringify({ name: 't', dependencies: { express: '^4.0.0' } }));
    await writeFile(path.join(project, 'hello', 'package.json'), JSON.stringify({ name: 'hello' }));
    const filter = (name: string) => name === 'hello';
    const [first] = await build({ filter, env: { PATH: fakeBin } });
    const args = await readFile(path.join(first.workingDir as string, 'node_modules', 'args.txt'), 'utf8');
    assert.match(args, /^install --ignore-scripts /);
    // Installed in a folder beside the build, which is renamed into place only once complete.
    assert.match(args.trim().split('\n')[1], /\/\.tmp-\d+-[0-9a-f]+$/);

    // The handler changed, the template's package.json did not: no npm needed.
    await writeFile(path.join(project, 'hello', 'handler.js'), "'use strict';\nmodule.exports = async () => 'v2\\n';\n");
    const [second] = await build({ filter, env: { PATH: emptyBin } });
    assert.notEqual(second.workingDir, first.workingDir);
    assert.equal(await readFile(path.join(second.workingDir as string, 'node_modules', 'args.txt'), 'utf8'), args, 'node_modules copied from the build before');

    // The manifest changed: npm must run again (and is missing here).
    await writeFile(path.join(project, 'template', 'node-port', 'package.json'), JSON.stringify({ name: 't', dependencies: { express: '^5.0.0' } }));
    await assert.rejects(build({ filter, env: { PATH: emptyBin } }), (err: unknown) => isFaasqError(err, 'E_TEMPLATE_TOOL_MISSING'));
  });

  test('templates - a failing install reports its output', async () => {
    await freshProject();
    // A registry dependency with npm held offline: npm itself fails, fast and without the network.
    await writeFile(path.join(project, 'hello', 'package.json'), JSON.stringify({ name: 'hello', dependencies: { 'faasq-test-not-cached': '1.0.0' } }));
    await assert.rejects(build({ filter: (name: string) => name === 'hello', env: { ...process.env, npm_config_offline: 'true' } }), (err: unknown) => {
      assert.ok(isFaasqError(err, 'E_TEMPLATE_BUILD'), String(err));
      assert.match(err.message, /function "hello": function package\.json: `npm install .*` exited with code \d+:\n[^]*ENOTCACHED/);
      return true;
    });
  });

  test('templates - symlinks out of the project, bad lang names and missing templates are refused by name', async () => {
    await freshProject();
    await symlink('/etc/hostname', path.join(project, 'template', 'node-port', 'leak.txt'));
    await assert.rejects(build(), (err: unknown) => isFaasqError(err, 'E_TEMPLATE_BUILD') && /leak\.txt: a symlink pointing out of the folder/.test(err.message));
    await rm(path.join(project, 'template', 'node-port', 'leak.txt'));
    // A symlink to a file inside the folder is followed (copied as a file).
    await symlink('index.js', path.join(project, 'template', 'node-port', 'alias.js'));
    const [hello] = await build({ filter: (name: string) => name === 'hello' });
    assert.ok(existsSync(path.join(hello.workingDir as string, 'alias.js')));

    await writeFile(path.join(project, 'stack.yml'), 'functions:\n  a:\n    lang: ../../etc\n    handler: ./hello\n');
    await assert.rejects(build(), (err: unknown) => isFaasqError(err, 'E_TEMPLATE_BUILD') && /no template\/\.\.\/\.\.\/etc\/ folder/.test(err.message));
    await writeFile(path.join(project, 'stack.yml'), 'functions:\n  a:\n    lang: python3-http\n    handler: ./hello\n');
    await assert.rejects(build(), (err: unknown) => isFaasqError(err, 'E_TEMPLATE_BUILD') && /faas-cli template store pull python3-http/.test(err.message));
    // faasq's own node template and fprocess functions are left as they were.
    await writeFile(path.join(project, 'stack.yml'), 'functions:\n  a:\n    lang: node\n    handler: ./hello\n    fprocess: node runner.mjs\n  b:\n    lang: python3\n    fprocess: cat\n');
    const specs = await build();
    assert.deepEqual(specs.map((s) => [s.fprocess, s.workingDir]), [['node runner.mjs', path.join(project, 'hello')], ['cat', project]]);
  });

  test('templates - a template too large is refused', async () => {
    await freshProject();
    const many = path.join(project, 'hello', 'many');
    await mkdir(many);
    await Promise.all(Array.from({ length: 10_001 }, (_, i) => writeFile(path.join(many, `f${i}`), '')));
    await assert.rejects(build({ filter: (name: string) => name === 'hello' }), (err: unknown) => isFaasqError(err, 'E_TEMPLATE_BUILD') && /more than 10000 files/.test(err.message));
  });

  test('templates - faasq new with a project template copies its sample handler and writes the entry faas-cli new writes', async () => {
    await freshProject();
    const stackFile = path.join(project, 'stack.yml');
    const { files } = await scaffoldFunction({ name: 'fresh', lang: 'node-port', dir: project, stackFile });
    assert.deepEqual(files.map((f) => path.relative(project, f)).sort(), ['fresh/handler.js', 'fresh/package.json', 'stack.yml']);
    const fresh = readStackFunctions(stackFile).find((f) => f.spec.name === 'fresh');
    assert.ok(fresh);
    assert.equal(fresh?.lang, 'node-port');
    assert.equal(fresh?.handlerPath, path.join(project, 'fresh'));
    assert.equal(fresh?.spec.image, 'fresh:latest');
    const spec = await buildStackFunction(fresh, { dataDir });
    assert.equal(spec.fprocess, 'node index.js');
    assert.match(await readFile(path.join(spec.workingDir as string, 'function', 'handler.js'), 'utf8'), /sample handler/);
    await assert.rejects(scaffoldFunction({ name: 'fresh', lang: 'node-port', dir: project, stackFile }), (err: unknown) => isFaasqError(err, 'E_CONFLICT'));
  });

  test('templates - a dockerfile-language template is refused with what to do instead', async () => {
    await freshProject();
    await mkdir(path.join(project, 'template', 'dockerfile'));
    await writeFile(path.join(project, 'template', 'dockerfile', 'Dockerfile'), 'FROM scratch\n');
    await writeFile(path.join(project, 'stack.yml'), 'functions:\n  a:\n    lang: dockerfile\n    handler: ./hello\n');
    await assert.rejects(build(), (err: unknown) => isFaasqError(err, 'E_TEMPLATE_BUILD') && /cannot be run from its folder by faasq/.test(err.message));
  });
});
