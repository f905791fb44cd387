// Reads the Prometheus text format into samples, so tests can ask "how much did this series move"
// without matching on text layout.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly type: string;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** `# TYPE name type` lines. */
export function parseFamilies(text: string): MetricFamily[] {
  const out: MetricFamily[] = [];
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m) out.push({ name: m[1], type: m[2] });
  }
  return out;
}

/** Sum of every series of `name` whose labels include `labels`; 0 when none. */
export function valueOf(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of parseSamples(text)) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** Label sets of every series of `name`. */
export function seriesOf(text: string, name: string): Array<Readonly<Record<string, string>>> {
  return parseSamples(text).filter((s) => s.name === name).map((s) => s.labels);
}

/** How much each asked series moved between two scrapes. */
export function delta(before: string, after: string, name: string, labels: Record<string, string> = {}): number {
  return valueOf(after, name, labels) - valueOf(before, name, labels);
}
