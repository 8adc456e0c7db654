// Bounded in-memory history of one proxy's series: a fine ring (every scrape, about the last
// minute) and a coarse ring (one sample a minute, the last hour). Counters are stored reset-adjusted
// so that an increase over any window is one subtraction.
import type { Sample } from './prom-text.js';

export const COARSE_STEP_MS = 60_000;
const COARSE_SLOTS = 62; // a little more than an hour of one-minute samples
const FINE_SPAN_MS = 60_000;
const FINE_MAX_SLOTS = 64;

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
}

export class TargetHistory {
  private readonly fine: TimeRing;
  private readonly coarse = new TimeRing(COARSE_SLOTS);
  readonly series = new Map<string, StoredSeries>();
  /** The same series by metric name, for queries. */
  readonly byName = new Map<string, StoredSeries[]>();
  lastScrapeMs = 0;

  constructor(scrapeIntervalMs: number) {
    this.fine = new TimeRing(Math.min(FINE_MAX_SLOTS, Math.ceil(FINE_SPAN_MS / Math.max(1, scrapeIntervalMs)) + 2));
  }

  /** Records one scrape taken at `now`. Series absent from this scrape keep their last value. */
  record(now: number, samples: Sample[]): void {
    const fineSlot = this.fine.push(now);
    const lastCoarse = this.coarse.newest();
    const coarseSlot = lastCoarse < 0 || now - this.coarse.times[lastCoarse] >= COARSE_STEP_MS ? this.coarse.push(now) : -1;
    const seen = new Set<StoredSeries>();
    for (const s of samples) {
      const key = seriesKey(s.name, s.labels);
      let st = this.series.get(key);
      if (!st) {
        st = { name: s.name, labels: s.labels, fine: new Float64Array(this.fine.slots).fill(NaN), coarse: new Float64Array(COARSE_SLOTS).fill(NaN), lastRaw: 0, offset: 0, gauge: s.name === 'tcp_open_connections' };
        this.series.set(key, st);
        const list = this.byName.get(s.name);
        if (list) list.push(st);
        else this.byName.set(s.name, [st]);
      }
      let v = s.value;
      if (!st.gauge) {
        if (v < st.lastRaw) st.offset += st.lastRaw; // counter reset: the proxy restarted
        st.lastRaw = v;
        v += st.offset;
      }
      st.fine[fineSlot] = v;
      if (coarseSlot >= 0) st.coarse[coarseSlot] = v;
      seen.add(st);
    }
    for (const st of this.series.values()) {
      if (seen.has(st)) continue;
      const carry = st.gauge ? 0 : st.lastRaw + st.offset;
      st.fine[fineSlot] = carry;
      if (coarseSlot >= 0) st.coarse[coarseSlot] = carry;
    }
    this.lastScrapeMs = now;
  }

  /** Increase of a counter over the window ending at the newest scrape, and the seconds it spans. */
  increase(st: StoredSeries, windowMs: number): { delta: number; seconds: number } {
    const newest = this.fine.newest();
    if (newest < 0) return { delta: 0, seconds: 0 };
    const now = this.fine.times[newest];
    const since = now - windowMs;
    // The fine ring covers about a minute; longer windows start from the coarse ring when it reaches
    // further back (early in the viz's life it may not).
    let ring = this.fine;
    let values = st.fine;
    let fromSlot = this.fine.oldestSince(since);
    if (windowMs > FINE_SPAN_MS) {
      const c = this.coarse.oldestSince(since);
      if (c >= 0 && (fromSlot < 0 || this.coarse.times[c] < this.fine.times[fromSlot])) {
        ring = this.coarse;
        values = st.coarse;
        fromSlot = c;
      }
    }
    if (fromSlot < 0) return { delta: 0, seconds: 0 };
    const seconds = (now - ring.times[fromSlot]) / 1000;
    const from = values[fromSlot];
    const to = st.fine[newest];
    // A series first seen inside the window started from zero (Prometheus would miss that increase).
    const delta = Number.isNaN(from) ? to : to - from;
    return { delta: Math.max(0, delta), seconds };
  }

  latest(st: StoredSeries): number {
    const newest = this.fine.newest();
    return newest < 0 ? 0 : st.fine[newest] || 0;
  }

  /** Span of history held, in ms (for the "window" actually covered). */
  heldSpanMs(): number {
    const n = this.fine.newest();
    if (n < 0) return 0;
    const oldest = this.coarse.size ? this.coarse.times[(this.coarse.next - this.coarse.size + COARSE_SLOTS) % COARSE_SLOTS] : this.fine.times[n];
    return this.fine.times[n] - oldest;
  }
}

export function seriesKey(name: string, labels: Record<string, string>): string {
  let k = name;
  for (const l of Object.keys(labels).sort()) k += `|${l}=${labels[l]}`;
  return k;
}
