// splitCommand: the fprocess word splitter (quotes and backslashes, no shell expansion).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommand } from '../../src/provider/local/split-command.js';
import { isFaasqError } from '../../src/shared/index.js';

describe('splitCommand', () => {
  test('fprocess - plain words split on runs of whitespace, as the classic watchdog did', () => {
    assert.deepEqual(splitCommand('node  index.js\t--flag\n x'), ['node', 'index.js', '--flag', 'x']);
    assert.deepEqual(splitCommand('  cat  '), ['cat']);
    assert.deepEqual(splitCommand(''), []);
  });

  test('fprocess - double quotes keep spaces and join with adjacent text', () => {
    assert.deepEqual(splitCommand('sh -c "echo hi"'), ['sh', '-c', 'echo hi']);
    assert.deepEqual(splitCommand('a"b c"d'), ['ab cd']);
    assert.deepEqual(splitCommand('x "it\'s"'), ['x', "it's"]);
  });

  test('fprocess - single quotes are literal, backslashes and double quotes included', () => {
    assert.deepEqual(splitCommand(`sh -c 'printf "%s\\n" $HOME'`), ['sh', '-c', 'printf "%s\\n" $HOME']);
  });

  test('fprocess - inside double quotes a backslash escapes only " \\ $ ` and is kept before anything else', () => {
    assert.deepEqual(splitCommand('x "a\\"b" "c\\\\d" "\\$HOME" "\\n"'), ['x', 'a"b', 'c\\d', '$HOME', '\\n']);
  });

  test('fprocess - outside quotes a backslash makes the next character literal', () => {
    assert.deepEqual(splitCommand('cat my\\ file \\"q\\" \\\\'), ['cat', 'my file', '"q"', '\\']);
  });

  test('fprocess - backslash-newline continues the line', () => {
    assert.deepEqual(splitCommand('node \\\nindex.js'), ['node', 'index.js']);
    assert.deepEqual(splitCommand('x "a\\\nb"'), ['x', 'ab']);
  });

  test('fprocess - empty quotes give an empty argument', () => {
    assert.deepEqual(splitCommand(`cmd '' "" x`), ['cmd', '', '', 'x']);
  });

  test('fprocess - no shell expansion: $VAR, globs and operators stay as they are', () => {
    assert.deepEqual(splitCommand('echo $HOME *.js | wc > out'), ['echo', '$HOME', '*.js', '|', 'wc', '>', 'out']);
  });

  test('fprocess - an unterminated quote or a trailing backslash fails E_DEPLOY_FAILED', () => {
    for (const bad of ['sh -c "echo hi', "sh -c 'echo", 'echo \\']) {
      assert.throws(() => splitCommand(bad), (err) => isFaasqError(err, 'E_DEPLOY_FAILED') && err.status === 400, bad);
    }
  });
});
