// A counter, a gauge and a histogram for hot paths whose label series are resolved once, so that
// counting a request or a call is a few array writes. prom-client hashes and validates the label
// object on every inc()/observe(), cached children included: ~4 µs of a ~50 µs proxied request,
// and five such updates per drained async call. They are registered in the prom-client registry
// as ordinary metrics (get() returns prom-client's metric shape), so the exposition and the other
// metrics are unchanged.
import type { Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

interface MetricValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName?: string;
}

interface MetricObject {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator: 'sum';
  readonly values: MetricValue[];
}

export interface CounterSeries {
  inc(): void;
}

export interface GaugeSeries {
  add(delta: number): void;
}

export interface HistogramSeries {
  observe(value: number): void;
}

/** A metric with one number per series (counter or gauge); its subclasses hand out the updater. */
abstract class SingleValueMetric {
  readonly aggregator = 'sum';
  private readonly series = new Map<string, { readonly labels: Labels; value: number }>();

  constructor(readonly name: string, readonly help: string, readonly type: 'counter' | 'gauge', registry: Registry) {
    registry.registerMetric(this as never);
  }

  /** The stored series of these labels (made on first use). */
  protected entry(key: string, labels: Labels): { value: number } {
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, value: 0 }));
    return s;
  }

  async get(): Promise<MetricObject> {
    const values = [...this.series.values()].map((s) => ({ value: s.value, labels: { ...s.labels } }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.series.values()) s.value = 0;
  }
}

export class SeriesCounter extends SingleValueMetric {
  constructor(name: string, help: string, registry: Registry) {
    super(name, help, 'counter', registry);
  }

  /** The series of these labels; keep it: counting through it costs no lookup. */
  of(key: string, labels: Labels): CounterSeries {
    const entry = this.entry(key, labels);
    return { inc: () => void entry.value++ };
  }
}

export class SeriesGauge extends SingleValueMetric {
  constructor(name: string, help: string, registry: Registry) {
    super(name, help, 'gauge', registry);
  }

  of(key: string, labels: Labels): GaugeSeries {
    const entry = this.entry(key, labels);
    return { add: (delta) => void (entry.value += delta) };
  }
}

export class SeriesHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, { readonly labels: Labels; readonly counts: number[]; sum: number; count: number }>();

  constructor(readonly name: string, readonly help: string, private readonly upperBounds: readonly number[], registry: Registry) {
    registry.registerMetric(this as never);
  }

  of(key: string, labels: Labels): HistogramSeries {
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: new Array<number>(this.upperBounds.length).fill(0), sum: 0, count: 0 }));
    const entry = s;
    const bounds = this.upperBounds;
    return {
      observe: (value) => {
        entry.sum += value;
        entry.count++;
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]) {
            entry.counts[i]++;
            return;
          }
        }
      },
    };
  }

  async get(): Promise<MetricObject> {
    const values: MetricValue[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        cumulative += s.counts[i];
        values.push({ value: cumulative, labels: { ...s.labels, le: this.upperBounds[i] }, metricName: `${this.name}_bucket` });
      }
      values.push({ value: s.count, labels: { ...s.labels, le: '+Inf' }, metricName: `${this.name}_bucket` });
      values.push({ value: s.sum, labels: { ...s.labels }, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: { ...s.labels }, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
