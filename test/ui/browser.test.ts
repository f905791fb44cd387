// The dashboard tests fail loudly, with the fix in the message, when the browser is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBrowser } from './support/browser.js';

test('ui - a missing chromium fails with a message naming the install script', async () => {
  await assert.rejects(
    openBrowser({ username: 'a', password: 'b', executablePath: '/nonexistent/chromium' }),
    (err: Error) => err.message.includes('/nonexistent/chromium is missing') && err.message.includes('scripts/install-chromium.sh'),
  );
});
