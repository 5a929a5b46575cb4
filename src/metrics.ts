/**
 * A small Prometheus registry: counters and histograms with labels, and series read when
 * rendered (gauges, or totals kept elsewhere such as CPU seconds), in the text exposition format
 * at GET /metrics.
 */

type Labels = Record<string, string>;

function key(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function renderLabels(labels: Labels, extra?: Labels): string {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

export interface Counter {
  inc(labels: Labels, by?: number): void;
  get(labels: Labels): number;
  /** sum over every label set matching the given subset */
  sum(match?: Labels): number;
}

export interface Histogram {
  observe(labels: Labels, value: number): void;
}

/** One labelled value of a series read at render. */
export interface GaugeSample {
  labels: Labels;
  value: number;
}

/** What a collected series reads at each render: one value, or one per label set. */
export type Reading = number | readonly GaugeSample[];

export interface Metrics {
  counter(name: string, help: string): Counter;
  histogram(name: string, help: string, buckets?: number[]): Histogram;
  /** a gauge read at each render (one value, or one per label set); registering a name again replaces its reader */
  gauge(name: string, help: string, read: () => Reading): void;
  /** a series read at each render, of either type (a counter for totals kept elsewhere); registering a name again replaces it */
  collect(name: string, help: string, type: 'gauge' | 'counter', read: () => Reading): void;
  render(): string;
}

export function createMetrics(): Metrics {
  const blocks: (() => string)[] = [];
  const collected = new Map<string, { help: string; type: 'gauge' | 'counter'; read: () => Reading }>();
  blocks.push(() =>
    [...collected]
      .map(([name, c]) => {
        const reading = c.read();
        const lines = typeof reading === 'number' ? [`${name} ${reading}`] : reading.map((r) => `${name}${renderLabels(r.labels)} ${r.value}`);
        return [`# HELP ${name} ${c.help}`, `# TYPE ${name} ${c.type}`, ...lines].join('\n');
      })
      .join('\n'),
  );
  return {
    gauge(name, help, read) {
      collected.set(name, { help, type: 'gauge', read });
    },
    collect(name, help, type, read) {
      collected.set(name, { help, type, read });
    },
    counter(name, help) {
      const values = new Map<string, { labels: Labels; value: number }>();
      blocks.push(() => {
        const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} counter`];
        for (const { labels, value } of values.values()) lines.push(`${name}${renderLabels(labels)} ${value}`);
        return lines.join('\n');
      });
      return {
        inc(labels, by = 1) {
          const k = key(labels);
          const entry = values.get(k);
          if (entry) entry.value += by;
          else values.set(k, { labels: { ...labels }, value: by });
        },
        get(labels) {
          return values.get(key(labels))?.value ?? 0;
        },
        sum(match = {}) {
          let total = 0;
          for (const { labels, value } of values.values()) {
            if (Object.entries(match).every(([k, v]) => labels[k] === v)) total += value;
          }
          return total;
        },
      };
    },
    histogram(name, help, buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]) {
      const series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
      blocks.push(() => {
        const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
        for (const s of series.values()) {
          let cumulative = 0;
          buckets.forEach((le, i) => {
            cumulative += s.counts[i] ?? 0;
            lines.push(`${name}_bucket${renderLabels(s.labels, { le: String(le) })} ${cumulative}`);
          });
          lines.push(`${name}_bucket${renderLabels(s.labels, { le: '+Inf' })} ${s.count}`);
          lines.push(`${name}_sum${renderLabels(s.labels)} ${s.sum}`);
          lines.push(`${name}_count${renderLabels(s.labels)} ${s.count}`);
        }
        return lines.join('\n');
      });
      return {
        observe(labels, value) {
          const k = key(labels);
          let s = series.get(k);
          if (!s) {
            s = { labels: { ...labels }, counts: buckets.map(() => 0), sum: 0, count: 0 };
            series.set(k, s);
          }
          const i = buckets.findIndex((le) => value <= le);
          if (i >= 0) s.counts[i] = (s.counts[i] ?? 0) + 1;
          s.sum += value;
          s.count += 1;
        },
      };
    },
    render() {
      return blocks.map((b) => b()).filter((text) => text !== '').join('\n') + '\n';
    },
  };
}
