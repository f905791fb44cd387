import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderAnnotationsDoc, renderConfigDoc, renderErrorsDoc } from '../../scripts/gen-docs.js';

test('docs - configuration.md, errors.md and annotations.md match the code (run scripts/gen-docs.ts)', () => {
  assert.equal(readFileSync(new URL('../../docs/annotations.md', import.meta.url), 'utf8'), renderAnnotationsDoc());
  assert.equal(readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8'), renderConfigDoc());
  assert.equal(readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8'), renderErrorsDoc());
});
