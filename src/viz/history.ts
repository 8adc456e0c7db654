// Bounded in-memory history of one proxy's series: a fine ring (every scrape, about the last
// minute) and a coarse ring (one sample a minute, the last hour). At ingest, labels no query uses
// (status_code, target_addr, client_id …) are dropped and the series they split are summed, and
// counters are stored reset-adjusted so that an increase over any window is one subtraction.
import { parseLabelText, type Sample } from '../core/metrics/prom-text.js';
import { KEPT_METRICS } from './prom-text.js';

export const COARSE_STEP_MS = 60_000;
const COARSE_SLOTS = 62; // a little more than an hour of one-minute samples
const FINE_SPAN_MS = 60_000;
const FINE_MAX_SLOTS = 64;

/** The labels viz queries group or filter by; every other label is summed away at ingest. */
export const QUERY_LABELS = new Set(['direction', 'tls', 'server_id', 'authority', 'dst_namespace', 'dst_service', 'dst_external_workload', 'dst_pod', 'peer', 'classification', 'le', 'errno', 'route_name']);

/** Fixed-size ring of timestamps; a series' values share the ring's slot indices. */
class TimeRing {
  readonly times: Float64Array;
  next = 0;
  size = 0;
  constructor(readonly slots: number) {
    this.times = new Float64Array(slots);
  }
  push(t: number): number {
    const slot = this.next;
    this.times[slot] = t;
    this.next = (slot + 1) % this.slots;
    this.size = Math.min(this.size + 1, this.slots);
    return slot;
  }
  /** Slot of the newest sample, or -1. */
  newest(): number {
    return this.size ? (this.next - 1 + this.slots) % this.slots : -1;
  }
  /** Slot of the oldest sample taken at or after `since`, or -1. */
  oldestSince(since: number): number {
    for (let k = this.size; k >= 1; k--) {
      const slot = (this.next - k + this.slots) % this.slots;
      if (this.times[slot] >= since) return slot;
    }
    return -1;
  }
}

export interface StoredSeries {
  name: string;
  labels: Record<string, string>;
  fine: Float64Array;
  coarse: Float64Array;
  lastRaw: number;
  offset: number;
  /** Gauges are stored as is (no reset adjustment). */
  gauge: boolean;
  /** Sum of this scrape's raw samples folded into the series, and the scrape it belongs to. */
  pending: number;
  pendingRound: number;
}

/** Where a window starts for every series of this target (computed once per query). */
export interface WindowStart {
  values: 'fine' | 'coarse';
  slot: number;
  newest: number;
  seconds: number;
}

export class TargetHistory {
  private readonly fine: TimeRing;
  private readonly coarse = new TimeRing(COARSE_SLOTS);
  readonly series = new Map<string, StoredSeries>();
  /** The same series by metric name, for queries. */
  readonly byName = new Map<string, StoredSeries[]>();
  /** `name{raw label text}` of a scraped line → the reduced series it folds into (null: not kept). */
  private readonly lineCache = new Map<string, StoredSeries | null>();
  private round = 0;
  lastScrapeMs = 0;

  constructor(scrapeIntervalMs: number) {
    this.fine = new TimeRing(Math.min(FINE_MAX_SLOTS, Math.ceil(FINE_SPAN_MS / Math.max(1, scrapeIntervalMs)) + 2));
  }

  private seriesFor(name: string, rawLabels: Record<string, string>): StoredSeries {
    const labels: Record<string, string> = {};
    for (const k of Object.keys(rawLabels).sort()) {
      if (!QUERY_LABELS.has(k)) continue;
      if (k === 'classification' && name.endsWith('_bucket')) continue;
      labels[k] = rawLabels[k];
    }
    const key = seriesKey(name, labels);
    let st = this.series.get(key);
    if (!st) {
      st = { name, labels, fine: new Float64Array(this.fine.slots).fill(NaN), coarse: new Float64Array(COARSE_SLOTS).fill(NaN), lastRaw: 0, offset: 0, gauge: name === 'tcp_open_connections', pending: 0, pendingRound: -1 };
      this.series.set(key, st);
      const list = this.byName.get(name);
      if (list) list.push(st);
      else this.byName.set(name, [st]);
    }
    return st;
  }

  private fold(st: StoredSeries, value: number): void {
    if (st.pendingRound !== this.round) {
      st.pendingRound = this.round;
      st.pending = 0;
    }
    st.pending += value;
  }

  /** Records the Prometheus text of one scrape taken at `now` (the hot path: no per-line objects). */
  ingestText(now: number, text: string): void {
    this.round++;
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const lineStart = start;
      start = end + 1;
      const c = text.charCodeAt(lineStart);
      if (c === 35 /* # */ || end === lineStart) continue;
      const space = text.lastIndexOf(' ', end - 1);
      if (space <= lineStart) continue;
      // A trailing timestamp: the value is the token before it.
      let valueStart = space + 1;
      let valueEnd = end;
      const closeBrace = text.lastIndexOf('}', end);
      const head = closeBrace > lineStart ? closeBrace + 1 : text.indexOf(' ', lineStart);
      const second = text.indexOf(' ', head + 1);
      if (second > head && second < end) {
        valueStart = head + 1;
        valueEnd = second;
      }
      const id = text.slice(lineStart, head);
      let st = this.lineCache.get(id);
      if (st === undefined) {
        const brace = id.indexOf('{');
        const name = brace >= 0 ? id.slice(0, brace) : id.trim();
        if (!KEPT_METRICS.has(name)) st = null;
        else {
          const labels = brace >= 0 ? parseLabelText(id, brace + 1) : {};
          st = labels ? this.seriesFor(name, labels) : null;
        }
        if (this.lineCache.size < 100_000) this.lineCache.set(id, st);
      }
      if (!st) continue;
      const v = Number(text.slice(valueStart, valueEnd).trim());
      if (!Number.isNaN(v)) this.fold(st, v);
    }
    this.commit(now);
  }

  /** Records parsed samples (tests, and callers that already parsed). */
  record(now: number, samples: Sample[]): void {
    this.round++;
    for (const s of samples) this.fold(this.seriesFor(s.name, s.labels), s.value);
    this.commit(now);
  }

  /** Writes this round's sums into the rings; series absent from it keep their last value. */
  private commit(now: number): void {
    const fineSlot = this.fine.push(now);
    const lastCoarse = this.coarse.newest();
    const coarseSlot = lastCoarse < 0 || now - this.coarse.times[lastCoarse] >= COARSE_STEP_MS ? this.coarse.push(now) : -1;
    for (const st of this.series.values()) {
      let v: number;
      if (st.pendingRound === this.round) {
        v = st.pending;
        if (!st.gauge) {
          if (v < st.lastRaw) st.offset += st.lastRaw; // counter reset: the proxy restarted
          st.lastRaw = v;
          v += st.offset;
        }
      } else v = st.gauge ? 0 : st.lastRaw + st.offset;
      st.fine[fineSlot] = v;
      if (coarseSlot >= 0) st.coarse[coarseSlot] = v;
    }
    this.lastScrapeMs = now;
  }

  /** Where a window ending at the newest scrape starts; undefined before any scrape. */
  windowStart(windowMs: number): WindowStart | undefined {
    const newest = this.fine.newest();
    if (newest < 0) return undefined;
    const now = this.fine.times[newest];
    const since = now - windowMs;
    // The fine ring covers about a minute; longer windows start from the coarse ring when it reaches
    // further back (early in the viz's life it may not).
    let values: 'fine' | 'coarse' = 'fine';
    let slot = this.fine.oldestSince(since);
    let at = slot >= 0 ? this.fine.times[slot] : now;
    if (windowMs > FINE_SPAN_MS) {
      const c = this.coarse.oldestSince(since);
      if (c >= 0 && this.coarse.times[c] < at) {
        values = 'coarse';
        slot = c;
        at = this.coarse.times[c];
      }
    }
    return { values, slot, newest, seconds: (now - at) / 1000 };
  }

  /** Increase of a counter over the window ending at the newest scrape, and the seconds it spans. */
  increase(st: StoredSeries, windowMs: number, w = this.windowStart(windowMs)): { delta: number; seconds: number } {
    if (!w || w.slot < 0) return { delta: 0, seconds: 0 };
    const from = (w.values === 'fine' ? st.fine : st.coarse)[w.slot];
    const to = st.fine[w.newest];
    // A series first seen inside the window started from zero (Prometheus would miss that increase).
    const delta = Number.isNaN(from) ? to : to - from;
    return { delta: Math.max(0, delta || 0), seconds: w.seconds };
  }

  latest(st: StoredSeries): number {
    const newest = this.fine.newest();
    return newest < 0 ? 0 : st.fine[newest] || 0;
  }
}

export function seriesKey(name: string, labels: Record<string, string>): string {
  let k = name;
  for (const l of Object.keys(labels).sort()) k += `|${l}=${labels[l]}`;
  return k;
}
