import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfileEnv } from '../../src/stack/index.js';

test('dockerfile env - both ENV forms, quotes, continuations and the final stage only', () => {
  const parsed = parseDockerfileEnv([
    'FROM base AS build',
    'ENV only_in_build=1',
    '# a comment',
    'FROM node:20 AS ship',
    'ENV fprocess="node index.js"',
    'env mode=http \\',
    '    upstream_url="http://127.0.0.1:3000"',
    'ENV legacy some value with spaces',
    "ENV single='a $b c' escaped=a\\ b quoted=\"say \\\"hi\\\"\"",
    'RUN exit 1',
    'WORKDIR /home/app',
    'WORKDIR function',
  ].join('\n'));
  assert.deepEqual(parsed.env, {
    fprocess: 'node index.js',
    mode: 'http',
    upstream_url: 'http://127.0.0.1:3000',
    legacy: 'some value with spaces',
    single: 'a $b c',
    escaped: 'a b',
    quoted: 'say "hi"',
  });
  assert.equal(parsed.workdir, '/home/app/function');
  assert.equal(parsed.stages, 2);
});

test('dockerfile env - ARG defaults, build args, global ARGs and earlier ENV are substituted', () => {
  const text = [
    'ARG VERSION=20',
    'FROM node:${VERSION}',
    'ARG VERSION',
    'ARG NAME=world',
    'ARG EMPTY',
    'ENV greeting="hello ${NAME}" version=$VERSION',
    'ENV both="${greeting}!" fallback=${UNSET_ARG:-dflt} empty="[$EMPTY]" plus=${NAME:+set}',
  ].join('\n');
  assert.deepEqual(parseDockerfileEnv(text).env, {
    greeting: 'hello world', version: '20', both: 'hello world!', fallback: 'dflt', empty: '[]', plus: 'set',
  });
  assert.equal(parseDockerfileEnv(text, { NAME: 'faasq', VERSION: '22' }).env.greeting, 'hello faasq');
  assert.equal(parseDockerfileEnv(text, { NAME: 'faasq', VERSION: '22' }).env.version, '22');
});

test('dockerfile env - a value naming a base-image variable is skipped, not guessed', () => {
  // One ENV line sees the variables as they were before it (docker's rule), so b's $a is unknown.
  const parsed = parseDockerfileEnv('FROM x\nENV PATH="/home/app/bin:${PATH}" ok=1\nENV a=1 b=$a\nENV c=$a\n');
  assert.deepEqual(parsed.env, { ok: '1', a: '1', c: '1' });
  assert.deepEqual(parsed.skipped, ['PATH', 'b']);
});

test('dockerfile env - a stage built FROM an earlier stage starts with its ENV and WORKDIR', () => {
  const parsed = parseDockerfileEnv([
    'ARG PY=3.12',
    'FROM --platform=${TARGETPLATFORM:-linux/amd64} python:${PY}-alpine AS build',
    'ENV from_build=yes PIP_NO_CACHE_DIR=1',
    'WORKDIR /home/app/function/',
    'FROM build as test',
    'ENV only_in_test=1',
    'FROM build AS ship',
    'ENV fprocess="python index.py" mode=http',
  ].join('\n'));
  assert.deepEqual(parsed.env, { from_build: 'yes', PIP_NO_CACHE_DIR: '1', fprocess: 'python index.py', mode: 'http' });
  assert.equal(parsed.workdir, '/home/app/function/');
});
