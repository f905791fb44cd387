// Splits a watchdog `fprocess` into argv with shell-like quoting, so `sh -c "echo hi"` runs
// `sh` with the two arguments `-c` and `echo hi` (the classic watchdog's split on spaces would
// pass `"echo` and `hi"`). It is quoting only, not a shell: no $VAR, globs, pipes or redirects —
// an fprocess that needs those says `sh -c '…'`.
import { FaasqError } from '../../shared/errors.js';

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
/** Inside double quotes a backslash escapes only these (POSIX); before anything else it is kept. */
const DOUBLE_QUOTE_ESCAPES = new Set(['"', '\\', '$', '`']);

/**
 * Words of `fprocess`: whitespace separates them outside quotes; '…' is literal; "…" is literal
 * except \" \\ \$ \` (and backslash-newline, which is dropped); outside quotes a backslash makes the
 * next character literal. `''` and `""` give an empty argument. An unterminated quote or a
 * trailing backslash fails E_DEPLOY_FAILED, since guessing would run a different command.
 */
export function splitCommand(fprocess: string): string[] {
  const words: string[] = [];
  let word = '';
  let hasWord = false;
  let i = 0;
  const fail = (why: string): never => {
    throw new FaasqError('E_DEPLOY_FAILED', `fprocess ${why}: ${fprocess}`, { detail: { field: 'fprocess' } });
  };
  while (i < fprocess.length) {
    const c = fprocess[i];
    if (WHITESPACE.has(c)) {
      if (hasWord) words.push(word);
      word = '';
      hasWord = false;
      i += 1;
    } else if (c === "'") {
      const end = fprocess.indexOf("'", i + 1);
      if (end < 0) fail('has an unterminated single quote');
      word += fprocess.slice(i + 1, end);
      hasWord = true;
      i = end + 1;
    } else if (c === '"') {
      i = readDoubleQuoted(fprocess, i + 1, (text) => { word += text; }, () => fail('has an unterminated double quote'));
      hasWord = true;
    } else if (c === '\\') {
      if (i + 1 >= fprocess.length) fail('ends with a lone backslash');
      // Backslash-newline is a line continuation, as in a shell.
      if (fprocess[i + 1] !== '\n') {
        word += fprocess[i + 1];
        hasWord = true;
      }
      i += 2;
    } else {
      word += c;
      hasWord = true;
      i += 1;
    }
  }
  if (hasWord) words.push(word);
  return words;
}

/** Reads a "…" body starting after the opening quote; returns the index after the closing one. */
function readDoubleQuoted(text: string, from: number, append: (s: string) => void, onUnterminated: () => never): number {
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') return i + 1;
    if (c === '\\' && i + 1 < text.length) {
      const next = text[i + 1];
      if (next === '\n') {
        i += 2;
        continue;
      }
      append(DOUBLE_QUOTE_ESCAPES.has(next) ? next : `\\${next}`);
      i += 2;
      continue;
    }
    append(c);
    i += 1;
  }
  return onUnterminated();
}
