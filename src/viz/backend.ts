// The one interface the viz queries go through: a grouped sum over a window. The in-memory store
// answers it from scraped history; the Prometheus adapter answers it with PromQL (promql.ts).
import type { TargetHistory } from './history.js';

/** Label matchers: "value" means equal, "!value" means not equal ("!" alone: label set and non-empty). */
export type Matchers = Record<string, string>;

export interface SumQuery {
  metric: string;
  match: Matchers;
  by: string[];
  windowMs: number;
  /** rate: per second over the window; increase: total over the window; last: newest value (gauges). */
  fn: 'rate' | 'increase' | 'last';
}

export interface SumRow {
  labels: Record<string, string>;
  value: number;
}

export interface MetricsBackend {
  readonly kind: 'memory' | 'prometheus';
  sumBy(q: SumQuery): Promise<SumRow[]>;
}

/** Labels the viz attaches to every series of a proxy it scrapes (Prometheus gets them from the SD endpoint). */
export interface TargetLabels {
  namespace: string;
  workload: string;
  /** The workload's `app` label, else its name: what `deploy/NAME` selects. */
  app: string;
  workload_kind: string;
}

export interface ScrapedTarget {
  labels: TargetLabels;
  history: TargetHistory;
}

export function matches(labels: Record<string, string>, match: Matchers): boolean {
  for (const k in match) {
    const want = match[k];
    const have = labels[k] ?? '';
    if (want.startsWith('!')) {
      if (have === want.slice(1) || (want === '!' && have === '')) return false;
    } else if (have !== want) return false;
  }
  return true;
}

/** Answers sumBy from the in-memory history of every scraped target. */
export class MemoryBackend implements MetricsBackend {
  readonly kind = 'memory';
  constructor(private readonly targets: () => Iterable<ScrapedTarget>) {}

  async sumBy(q: SumQuery): Promise<SumRow[]> {
    return this.sumBySync(q);
  }

  sumBySync(q: SumQuery): SumRow[] {
    const groups = new Map<string, SumRow>();
    const matchKeys = Object.keys(q.match);
    for (const t of this.targets()) {
      const list = t.history.byName.get(q.metric);
      if (!list) continue;
      const tl = t.labels as unknown as Record<string, string>;
      // Matchers on target labels decide for every series of the target at once.
      const seriesMatch: Matchers = {};
      let targetOk = true;
      for (const k of matchKeys) {
        if (k in tl) targetOk &&= matches({ [k]: tl[k] }, { [k]: q.match[k] });
        else seriesMatch[k] = q.match[k];
      }
      if (!targetOk) continue;
      const window = q.fn === 'last' ? undefined : t.history.windowStart(q.windowMs);
      for (const st of list) {
        if (!matches(st.labels, seriesMatch)) continue;
        let value: number;
        if (q.fn === 'last') value = t.history.latest(st);
        else {
          const inc = t.history.increase(st, q.windowMs, window);
          value = q.fn === 'increase' ? inc.delta : inc.seconds > 0 ? inc.delta / inc.seconds : 0;
        }
        let key = '';
        for (const b of q.by) key += (b in tl ? tl[b] : (st.labels[b] ?? '')) + '\u0000';
        const row = groups.get(key);
        if (row) row.value += value;
        else {
          const groupLabels: Record<string, string> = {};
          for (const b of q.by) groupLabels[b] = b in tl ? tl[b] : (st.labels[b] ?? '');
          groups.set(key, { labels: groupLabels, value });
        }
      }
    }
    return [...groups.values()];
  }
}
