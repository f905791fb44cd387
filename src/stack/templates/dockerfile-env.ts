// Reads what a template's Dockerfile gives the running process without running any of it: the
// final stage's ENV (both `ENV a=b c="d e"` and legacy `ENV key value`), with ARG and earlier ENV
// values substituted where that is plain string work, and its last WORKDIR. RUN, COPY and every
// other instruction are ignored; they describe how an image is built, which faasq does not do.

export interface DockerfileEnv {
  /** ENV values of the final stage, in order of definition (later ones win). */
  readonly env: Record<string, string>;
  /** The final stage's last WORKDIR ("" when it sets none). */
  readonly workdir: string;
  /** ENV keys left out because their value names a variable the Dockerfile does not define (base image values such as $PATH). */
  readonly skipped: string[];
  /** How many FROM lines (stages) the file has. */
  readonly stages: number;
}

/** A stage's state, kept by name so a later `FROM <name>` starts from it. */
interface Stage {
  vars: Map<string, string | undefined>;
  env: Record<string, string>;
  skipped: string[];
  workdir: string;
}

interface Instruction {
  readonly keyword: string;
  readonly rest: string;
}

/** `buildArgs` are stack.yml `build_args`: they override ARG defaults, as `docker build --build-arg` does. */
export function parseDockerfileEnv(text: string, buildArgs: Readonly<Record<string, string>> = {}): DockerfileEnv {
  const globalArgs = new Map<string, string | undefined>();
  let vars = new Map<string, string | undefined>();
  let env: Record<string, string> = {};
  let skipped: string[] = [];
  let workdir = '';
  let stages = 0;
  const named = new Map<string, Stage>();
  let current: Stage | undefined;
  for (const { keyword, rest } of instructions(text)) {
    if (current) Object.assign(current, { vars, env, skipped, workdir });
    if (keyword === 'FROM') {
      stages += 1;
      // `FROM build AS ship` starts from the earlier stage `build`: its ENV and WORKDIR carry over.
      const { base, name } = fromLine(rest);
      const parent = base === undefined ? undefined : named.get(base.toLowerCase());
      vars = new Map(parent?.vars);
      env = { ...parent?.env };
      skipped = [...(parent?.skipped ?? [])];
      workdir = parent?.workdir ?? '';
      current = { vars, env, skipped, workdir };
      if (name !== undefined) named.set(name.toLowerCase(), current);
      continue;
    }
    if (keyword === 'ARG') {
      for (const word of splitWords(rest, vars)) {
        const eq = word.indexOf('=');
        const name = eq < 0 ? word : word.slice(0, eq);
        const fallback = eq < 0 ? (stages === 0 ? undefined : globalArgs.get(name)) : word.slice(eq + 1);
        // A declared ARG without a value expands to "", as in docker build.
        const value = Object.hasOwn(buildArgs, name) ? buildArgs[name] : (fallback ?? '');
        if (stages === 0) globalArgs.set(name, value);
        else if (!Object.hasOwn(env, name)) vars.set(name, value); // an ENV of the same name wins
      }
      continue;
    }
    if (stages === 0) continue;
    if (keyword === 'ENV') {
      // Values on one ENV line see the variables as they were before the line.
      const before = new Map(vars);
      for (const [key, value] of envPairs(rest, before)) {
        if (value === undefined) {
          if (!skipped.includes(key)) skipped.push(key);
          delete env[key];
          vars.set(key, undefined);
          continue;
        }
        env[key] = value;
        vars.set(key, value);
        skipped = skipped.filter((k) => k !== key);
      }
    } else if (keyword === 'WORKDIR') {
      const dir = expand(rest.trim(), vars) ?? rest.trim();
      workdir = dir.startsWith('/') || workdir === '' ? dir : `${workdir.replace(/\/+$/, '')}/${dir}`;
    }
  }
  return { env, workdir, skipped, stages };
}

/** `FROM [--platform=…] image [AS name]`: the image (or earlier stage) and the stage's name. */
function fromLine(rest: string): { base: string | undefined; name: string | undefined } {
  const words = rest.trim().split(/\s+/).filter((w) => !w.startsWith('--'));
  const as = words.findIndex((w) => w.toLowerCase() === 'as');
  return { base: words[0], name: as >= 0 ? words[as + 1] : undefined };
}

/** Logical lines: comments dropped, `\` continuations joined, keyword upper-cased. */
function* instructions(text: string): Generator<Instruction> {
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimStart();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    // A comment line inside a continued instruction is dropped too, as BuildKit does.
    if (pending !== '' && line.startsWith('#')) continue;
    if (/\\\s*$/.test(line)) {
      pending += `${line.replace(/\\\s*$/, '')} `;
      continue;
    }
    const full = pending + line;
    pending = '';
    const match = /^(\S+)\s*(.*)$/s.exec(full);
    if (match) yield { keyword: match[1].toUpperCase(), rest: match[2] };
  }
  if (pending !== '') {
    const match = /^(\S+)\s*(.*)$/s.exec(pending);
    if (match) yield { keyword: match[1].toUpperCase(), rest: match[2] };
  }
}

/** ENV's two forms: `key=value ...` pairs, or legacy `key value with spaces`. */
function envPairs(rest: string, vars: Map<string, string | undefined>): Array<[string, string | undefined]> {
  const trimmed = rest.trim();
  const first = /^[^\s=]+/.exec(trimmed)?.[0] ?? '';
  if (first !== '' && trimmed[first.length] !== '=') {
    // Legacy form: the first word is the key, the rest of the line (quotes processed) the value.
    const value = trimmed.slice(first.length).trim();
    return [[first, joinWords(value, vars)]];
  }
  const pairs: Array<[string, string | undefined]> = [];
  for (const word of splitRaw(trimmed)) {
    const eq = word.indexOf('=');
    if (eq <= 0) continue;
    pairs.push([word.slice(0, eq), unquote(word.slice(eq + 1), vars)]);
  }
  return pairs;
}

function joinWords(value: string, vars: Map<string, string | undefined>): string | undefined {
  const words = splitRaw(value).map((w) => unquote(w, vars));
  if (words.some((w) => w === undefined)) return undefined;
  // Docker keeps the original spacing between words of a legacy value; one space is close enough.
  return words.join(' ');
}

function splitWords(rest: string, vars: Map<string, string | undefined>): string[] {
  return splitRaw(rest.trim()).map((w) => unquote(w, vars) ?? '');
}

/** Splits on unquoted whitespace, keeping quotes and escapes in each word for unquote(). */
function splitRaw(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\\' && quote !== "'" && i + 1 < text.length) {
      word += c + text[i + 1];
      i += 1;
      continue;
    }
    if (quote) {
      if (c === quote) quote = undefined;
      word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      word += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (word !== '') words.push(word);
      word = '';
      continue;
    }
    word += c;
  }
  if (word !== '') words.push(word);
  return words;
}

/**
 * Removes quotes, resolves escapes and expands `$VAR` / `${VAR}` / `${VAR:-x}` / `${VAR:+x}`
 * outside single quotes. Undefined when a variable the Dockerfile never defines is named.
 */
function unquote(word: string, vars: Map<string, string | undefined>): string | undefined {
  let out = '';
  let quote: '"' | "'" | undefined;
  let segment = '';
  let isUnknown = false;
  const flush = (): void => {
    const value = expand(segment, vars);
    if (value === undefined) isUnknown = true;
    else out += value;
    segment = '';
  };
  for (let i = 0; i < word.length; i += 1) {
    const c = word[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else out += c;
      continue;
    }
    if (c === '\\' && i + 1 < word.length) {
      // An escaped `$` stays literal: push what we have, then the character itself.
      flush();
      out += word[i + 1];
      i += 1;
      continue;
    }
    if (c === '"') {
      flush();
      quote = quote === '"' ? undefined : '"';
      continue;
    }
    if (c === "'" && quote === undefined) {
      flush();
      quote = "'";
      continue;
    }
    segment += c;
  }
  flush();
  return isUnknown ? undefined : out;
}

const REFERENCE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

function expand(text: string, vars: Map<string, string | undefined>): string | undefined {
  let isUnknown = false;
  const out = text.replace(REFERENCE, (_m, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    const value = vars.get(name);
    const isSet = value !== undefined && value !== '';
    if (op === '-') return isSet ? value : (word ?? '');
    if (op === '+') return isSet ? (word ?? '') : '';
    if (value === undefined) {
      isUnknown = true;
      return '';
    }
    return value;
  });
  return isUnknown ? undefined : out;
}
