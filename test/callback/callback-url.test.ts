import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_CALLBACK_DENY_LIST } from '../../src/config/index.js';
import { createCallbackUrlCheck } from '../../src/callback/index.js';
import { isFaasqError } from '../../src/shared/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(isFaasqError(err));
    return err.code;
  }
}

describe('callback url check', () => {
  const check = createCallbackUrlCheck([...DEFAULT_CALLBACK_DENY_LIST, '10.0.0.0/8', '.corp.example', 'bad.example.com']);

  test('callback url - allowed URLs pass through normalised', () => {
    assert.equal(check('http://127.0.0.1:9000/hook?a=1'), 'http://127.0.0.1:9000/hook?a=1');
    assert.equal(check('https://Example.com/x'), 'https://example.com/x');
    assert.equal(codeOf(() => check('http://[::1]/x')), undefined);
    assert.equal(codeOf(() => check('http://169.253.255.255/x')), undefined);
    assert.equal(codeOf(() => check('http://corp.example/x')), undefined);
  });

  test('callback url - not absolute http(s) is invalid', () => {
    for (const raw of ['', 'hook', '/x', 'ftp://a/b', 'file:///etc/passwd', 'javascript:alert(1)', 'http://']) {
      assert.equal(codeOf(() => check(raw)), 'E_INVALID_CALLBACK_URL', raw);
    }
  });

  test('callback url - denied CIDRs, mapped and numeric forms, names and suffixes', () => {
    for (const raw of [
      'http://169.254.169.254/', 'http://169.254.0.1:8080/', 'http://[fe80::abcd]/', 'http://[FE80::1%25eth0]/',
      'http://[::ffff:169.254.169.254]/', 'http://[::ffff:a9fe:a9fe]/', 'http://2852039166/', 'http://0xa9.254.169.254/',
      'http://10.1.2.3/', 'http://100.100.100.200/', 'http://[fd00:ec2::254]/',
      'http://metadata.google.internal/', 'http://metadata.google.internal./', 'http://x.corp.example/', 'http://BAD.example.com/',
    ]) {
      const code = codeOf(() => check(raw));
      assert.ok(code === 'E_CALLBACK_URL_DENIED' || (raw.includes('%25') && code === 'E_INVALID_CALLBACK_URL'), `${raw}: ${code}`);
    }
  });
});
