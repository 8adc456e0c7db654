// The one Prometheus registry of every component (proxy and control plane): label sets are rendered
// to strings once and cells are plain objects, so recording is a few number increments. Text 0.0.4.
export interface CounterCell {
  value: number;
}

/** Linkerd's response_latency_ms buckets (linkerd2-proxy http-metrics). */
export const LATENCY_BUCKETS_MS = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000];

export class HistogramCell {
  readonly counts = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  sum = 0;
  count = 0;

  observe(v: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && v > LATENCY_BUCKETS_MS[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

/** Renders a label set once: `a="x",b="y"` (values escaped). */
export function labelString(labels: Record<string, string | undefined>): string {
  let out = '';
  for (const k of Object.keys(labels)) {
    const v = labels[k];
    if (v === undefined) continue;
    if (out) out += ',';
    out += `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  }
  return out;
}

export function joinLabels(a: string, b: string): string {
  return a && b ? `${a},${b}` : a || b;
}

/** `{labels}`, or nothing for a sample without labels. */
function braced(labels: string): string {
  return labels ? `{${labels}}` : '';
}

type Kind = 'counter' | 'gauge' | 'histogram';

export class Family<C> {
  readonly cells = new Map<string, C>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly kind: Kind,
    private readonly make: () => C,
  ) {}

  /** The cell of a pre-rendered label string (cache the result; do not call per request); '' for none. */
  cell(labels: string): C {
    let c = this.cells.get(labels);
    if (!c) {
      c = this.make();
      this.cells.set(labels, c);
    }
    return c;
  }
}

export class Registry {
  private readonly families: Family<unknown>[] = [];
  private readonly collectors: (() => string)[] = [];
  private readonly readers: (() => void)[] = [];

  counter(name: string, help: string): Family<CounterCell> {
    return this.add(new Family(name, help, 'counter', () => ({ value: 0 })));
  }

  gauge(name: string, help: string): Family<CounterCell> {
    return this.add(new Family(name, help, 'gauge', () => ({ value: 0 })));
  }

  histogram(name: string, help: string): Family<HistogramCell> {
    return this.add(new Family(name, help, 'histogram', () => new HistogramCell()));
  }

  /** One unlabeled sample whose value is read at scrape time (a number the owner keeps itself). */
  read(kind: 'counter' | 'gauge', name: string, help: string, value: () => number): void {
    const cell = this.add(new Family<CounterCell>(name, help, kind, () => ({ value: 0 }))).cell('');
    this.readers.push(() => void (cell.value = value()));
  }

  /** Adds text computed at scrape time (e.g. bytes of open connections, certificate expiry). */
  collect(fn: () => string): void {
    this.collectors.push(fn);
  }

  private add<C>(f: Family<C>): Family<C> {
    this.families.push(f as Family<unknown>);
    return f;
  }

  render(): string {
    for (const r of this.readers) r();
    const out: string[] = [];
    for (const f of this.families) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.kind}`);
      for (const [labels, cell] of f.cells) {
        if (f.kind !== 'histogram') {
          out.push(`${f.name}${braced(labels)} ${(cell as CounterCell).value}`);
          continue;
        }
        const h = cell as HistogramCell;
        let cum = 0;
        for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) {
          cum += h.counts[i];
          out.push(`${f.name}_bucket{${joinLabels(labels, `le="${LATENCY_BUCKETS_MS[i]}"`)}} ${cum}`);
        }
        out.push(`${f.name}_bucket{${joinLabels(labels, 'le="+Inf"')}} ${h.count}`);
        out.push(`${f.name}_sum${braced(labels)} ${h.sum}`, `${f.name}_count${braced(labels)} ${h.count}`);
      }
    }
    for (const c of this.collectors) {
      const text = c();
      if (text) out.push(text);
    }
    return out.join('\n') + '\n';
  }
}
