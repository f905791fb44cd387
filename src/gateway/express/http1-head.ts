// Strict HTTP/1.1 message heads for the express lane (RFC 9112). The lane only serves what these
// parsers accept; anything else (obs-fold, bare LF, odd framing, HTTP/1.0, oversized heads) makes
// the request parser answer `undefined`, and the connection goes to Node's own server, whose
// parser (llhttp) has the last word. So this parser can be narrow, but must never be lax.

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** field-value: visible characters, spaces and tabs; no CR, LF, NUL or other controls. */
const FIELD_VALUE = /^[^\x00-\x08\x0a-\x1f\x7f]*$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\/[^\x00-\x20\x7f]*) HTTP\/1\.1$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9][0-9][0-9])(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/;
const DIGITS = /^[0-9]{1,15}$/;

/** At most this many header fields in a head the lane serves (Node allows 2,000; real calls carry ~10). */
export const MAX_FIELDS = 100;

/** One parsed head: header lines kept as received (name case and all), plus what framing needs. */
export interface Head {
  /** Raw field names, as received. */
  readonly names: string[];
  /** Lower-cased field names, same order. */
  readonly lowerNames: string[];
  /** Field values without surrounding whitespace, same order. */
  readonly values: string[];
  /** The one Content-Length, or -1 when there is none. */
  readonly contentLength: number;
  readonly hasTransferEncoding: boolean;
  /** Lower-cased tokens of the Connection header(s). */
  readonly connection: readonly string[];
}

export interface RequestHead extends Head {
  readonly method: string;
  readonly target: string;
}

export interface ResponseHead extends Head {
  readonly status: number;
  /** The reason phrase as sent (may be empty). */
  readonly reason: string;
  readonly minorVersion: 0 | 1;
  /** Transfer-Encoding names chunked as its last coding. */
  readonly isChunked: boolean;
}

/** Every parsed head has this one shape (request and response fields both), so the code reading it stays monomorphic. */
class ParsedHead implements RequestHead, ResponseHead {
  readonly names: string[] = [];
  readonly lowerNames: string[] = [];
  readonly values: string[] = [];
  contentLength = -1;
  hasTransferEncoding = false;
  connection: string[] = [];
  isChunked = false;
  method = '';
  target = '';
  status = 0;
  reason = '';
  minorVersion: 0 | 1 = 1;
}

/**
 * Reads the field lines (all of `lines` but the first) into `head`; false when any line is not
 * strictly valid or the framing headers are ambiguous.
 */
function parseFields(lines: string[], head: ParsedHead): boolean {
  if (lines.length - 1 > MAX_FIELDS) return false;
  const { names, lowerNames, values } = head;
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) return false;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return false;
    // Only SP and HTAB are optional whitespace: String#trim() would also eat CR, LF, VT and NBSP.
    const value = trimOws(line.slice(colon + 1));
    if (!FIELD_VALUE.test(value)) return false;
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      // Two Content-Length fields (even equal ones) or a non-number are a smuggling risk: not ours.
      if (head.contentLength !== -1 || !DIGITS.test(value)) return false;
      head.contentLength = Number(value);
    } else if (lower === 'transfer-encoding') {
      head.hasTransferEncoding = true;
      // Chunked counts only as the last coding of the last Transfer-Encoding field.
      const codings = value.toLowerCase().split(',');
      head.isChunked = trimOws(codings[codings.length - 1]) === 'chunked';
    } else if (lower === 'connection') {
      for (const token of value.toLowerCase().split(',')) {
        const trimmed = trimOws(token);
        if (trimmed !== '') head.connection.push(trimmed);
      }
    }
    names.push(name);
    lowerNames.push(lower);
    values.push(value);
  }
  // Both framings at once is the classic smuggling shape.
  return !(head.hasTransferEncoding && head.contentLength !== -1);
}

/** A request head the lane may serve, or undefined (not valid, or not in the lane's subset). */
export function parseRequestHead(text: string): RequestHead | undefined {
  const lines = text.split('\r\n');
  const match = REQUEST_LINE.exec(lines[0]);
  if (!match) return undefined;
  const head = new ParsedHead();
  if (!parseFields(lines, head)) return undefined;
  head.method = match[1];
  head.target = match[2];
  head.isChunked = false;
  return head;
}

/** A response head, or undefined when the function's reply is not valid HTTP/1.x. */
export function parseResponseHead(text: string): ResponseHead | undefined {
  const lines = text.split('\r\n');
  const match = STATUS_LINE.exec(lines[0]);
  if (!match) return undefined;
  const head = new ParsedHead();
  if (!parseFields(lines, head)) return undefined;
  head.status = Number(match[2]);
  head.reason = match[3] ?? '';
  head.minorVersion = match[1] === '0' ? 0 : 1;
  return head;
}

function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text.charCodeAt(start) === 0x20 || text.charCodeAt(start) === 0x09)) start += 1;
  while (end > start && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end -= 1;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** The value of the first field named `lower`, or undefined. */
export function fieldOf(head: Head, lower: string): string | undefined {
  const at = head.lowerNames.indexOf(lower);
  return at === -1 ? undefined : head.values[at];
}

/** Every field named `lower`, joined with ", " as Node's server joins them, or undefined. */
export function joinedFieldOf(head: Head, lower: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < head.lowerNames.length; i += 1) {
    if (head.lowerNames[i] === lower) out = out === undefined ? head.values[i] : `${out}, ${head.values[i]}`;
  }
  return out;
}

/**
 * A LF not after a CR, or a CR before something other than LF, in the bytes of a head read so far:
 * llhttp refuses such a head at once, so the lane does not wait for the rest of it.
 */
export function hasBareLineEnd(buf: Buffer): boolean {
  for (let at = buf.indexOf(0x0a); at !== -1; at = buf.indexOf(0x0a, at + 1)) if (at === 0 || buf[at - 1] !== 0x0d) return true;
  for (let at = buf.indexOf(0x0d); at !== -1 && at + 1 < buf.length; at = buf.indexOf(0x0d, at + 1)) if (buf[at + 1] !== 0x0a) return true;
  return false;
}
