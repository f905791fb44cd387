// The path after /function/{name} is resolved before it reaches a function, so a caller can never
// climb above the function's root: with an upstream at http://host/base, `/function/up/../../admin`
// must not become `/base/../../admin`, which the upstream (or a proxy in front of it) would resolve
// to `/admin`. `.` and `..` segments, plain or percent-encoded in any case, are resolved as RFC 3986
// removes dot segments; a `..` that would climb above the root is refused (400, E_INVALID_PATH),
// and so is a `..` next to an encoded slash or a backslash, which some servers treat as a separator.
import { FaasqError } from '../shared/errors.js';

/** Characters without which a path cannot hold a dot segment in any spelling. */
const MAY_HOLD_DOTS = /[.%\\]/;
const HIDDEN_SEPARATOR = /%2f|%5c|\\/i;
/** Longest spelling of a dot segment: `%2e%2e`. */
const MAX_DOT_SEGMENT_LENGTH = 6;

/** `.` or `..` when the segment is one, in any mix of plain and %2e spellings. */
function dotSegment(segment: string): '.' | '..' | undefined {
  if (segment.length === 0 || segment.length > MAX_DOT_SEGMENT_LENGTH) return undefined;
  const plain = segment.replace(/%2e/gi, '.');
  return plain === '.' || plain === '..' ? plain : undefined;
}

function escapeError(path: string): FaasqError {
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return new FaasqError('E_INVALID_PATH', `path "${shown}" climbs above the function's root`, { detail: { path: shown } });
}

/** Returns `path` (starting with "/") with its dot segments resolved; throws E_INVALID_PATH when it would escape. */
export function normaliseFunctionPath(path: string): string {
  if (!MAY_HOLD_DOTS.test(path)) return path;
  const segments = path.split('/');
  const kept: string[] = [];
  // A path ending in a dot segment names a folder: "/a/b/.." is "/a/", as in RFC 3986.
  let endsAsFolder = false;
  for (let i = 1; i < segments.length; i += 1) {
    const segment = segments[i];
    const dots = dotSegment(segment);
    if (dots === '..') {
      if (kept.length === 0) throw escapeError(path);
      kept.pop();
      endsAsFolder = true;
    } else if (dots === '.') {
      endsAsFolder = true;
    } else {
      if (HIDDEN_SEPARATOR.test(segment) && segment.split(HIDDEN_SEPARATOR).some((part) => dotSegment(part) === '..')) throw escapeError(path);
      kept.push(segment);
      endsAsFolder = false;
    }
  }
  return `/${kept.join('/')}${endsAsFolder && kept.length > 0 ? '/' : ''}`;
}
