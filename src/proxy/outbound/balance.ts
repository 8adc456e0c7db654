// Load balancing of one logical service (pure, takes a Clock): power of two choices over a
// peak-EWMA latency cost, and failure accrual — an endpoint with too many consecutive failures is
// ejected, then re-probed by a single request after a backoff that doubles up to a maximum.
// Defaults like linkerd2-proxy: default RTT 30 ms, decay 10 s, 7 consecutive failures, backoff 1 s..60 s.
import type { Clock } from '../../core/clock.js';

export interface BalanceOptions {
  decayMs: number;
  defaultRttMs: number;
  failureThreshold: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  random: () => number;
}

export const DEFAULT_BALANCE: BalanceOptions = { decayMs: 10_000, defaultRttMs: 30, failureThreshold: 7, backoffMinMs: 1000, backoffMaxMs: 60_000, random: Math.random };

export class Slot<T> {
  ewma: number;
  lastUpdate: number;
  pending = 0;
  consecutiveFailures = 0;
  backoffMs = 0;
  /** While ejected: time after which one probe request may go. */
  ejectedUntil = 0;
  ejected = false;
  probing = false;
  /** Per-endpoint state owned by the caller (metrics handles, connection). */
  extra: unknown;

  constructor(
    readonly key: string,
    public target: T,
    now: number,
    defaultRtt: number,
  ) {
    this.ewma = defaultRtt;
    this.lastUpdate = now;
  }
}

export class P2cBalancer<T> {
  private slots: Slot<T>[] = [];
  private readonly opts: BalanceOptions;

  constructor(
    private readonly clock: Clock,
    opts: Partial<BalanceOptions> = {},
  ) {
    this.opts = { ...DEFAULT_BALANCE, ...opts };
  }

  /** Replaces the endpoint set, keeping the state of endpoints that stay. */
  update(targets: { key: string; target: T }[]): void {
    const old = new Map(this.slots.map((s) => [s.key, s]));
    const now = this.clock.now();
    this.slots = targets.map(({ key, target }) => {
      const s = old.get(key);
      if (s) {
        s.target = target;
        return s;
      }
      return new Slot(key, target, now, this.opts.defaultRttMs);
    });
  }

  size(): number {
    return this.slots.length;
  }

  all(): readonly Slot<T>[] {
    return this.slots;
  }

  /** Picks an endpoint (skipping `exclude`, e.g. one that just failed to connect); undefined when none. */
  pick(exclude?: Slot<T>): Slot<T> | undefined {
    const now = this.clock.now();
    let a: Slot<T> | undefined;
    let b: Slot<T> | undefined;
    let seen = 0;
    // Reservoir-sample two distinct available slots in one pass (no allocation).
    for (const s of this.slots) {
      if (s === exclude || !this.available(s, now)) continue;
      seen++;
      if (seen === 1) a = s;
      else if (seen === 2) b = s;
      else {
        const r = Math.floor(this.opts.random() * seen);
        if (r === 0) a = s;
        else if (r === 1) b = s;
      }
    }
    if (!a) {
      // Everything is ejected: try the one whose probe is due soonest rather than failing outright.
      for (const s of this.slots) if (s !== exclude && (!a || s.ejectedUntil < a.ejectedUntil)) a = s;
      return a;
    }
    if (a.ejected) a.probing = true;
    if (!b) return a;
    if (b.ejected) b.probing = true;
    const pick = this.cost(a, now) <= this.cost(b, now) ? a : b;
    // Only the chosen one goes on probing.
    (pick === a ? b : a).probing = false;
    return pick;
  }

  private available(s: Slot<T>, now: number): boolean {
    if (!s.ejected) return true;
    return !s.probing && now >= s.ejectedUntil;
  }

  private cost(s: Slot<T>, now: number): number {
    return this.decayed(s, now) * (s.pending + 1);
  }

  private decayed(s: Slot<T>, now: number): number {
    const elapsed = Math.max(0, now - s.lastUpdate);
    // Decay toward the default so stale high costs are forgiven.
    const w = Math.exp(-elapsed / this.opts.decayMs);
    return s.ewma * w + this.opts.defaultRttMs * (1 - w);
  }

  start(s: Slot<T>): void {
    s.pending++;
  }

  /** Reports the outcome of a request/connection that `start` began. */
  finish(s: Slot<T>, rttMs: number, ok: boolean): void {
    s.pending = Math.max(0, s.pending - 1);
    const now = this.clock.now();
    const current = this.decayed(s, now);
    // A failure is never cheap, however fast it was (a refused connection takes microseconds).
    if (!ok) rttMs = Math.max(rttMs, current * 2, this.opts.defaultRttMs);
    // Peak EWMA: a slower observation takes effect at once; faster ones are averaged in.
    s.ewma = rttMs > current ? rttMs : current * 0.7 + rttMs * 0.3;
    s.lastUpdate = now;
    if (ok) {
      s.consecutiveFailures = 0;
      if (s.ejected) {
        s.ejected = false;
        s.probing = false;
        s.backoffMs = 0;
      }
      return;
    }
    s.consecutiveFailures++;
    if (s.ejected || s.consecutiveFailures >= this.opts.failureThreshold) this.eject(s, now);
  }

  private eject(s: Slot<T>, now: number): void {
    s.backoffMs = s.backoffMs === 0 ? this.opts.backoffMinMs : Math.min(this.opts.backoffMaxMs, s.backoffMs * 2);
    // Jitter of up to half the backoff so many proxies do not probe in step.
    const jitter = s.backoffMs * 0.5 * this.opts.random();
    s.ejected = true;
    s.probing = false;
    s.ejectedUntil = now + s.backoffMs + jitter;
  }

  /** Ejects at once (e.g. the connection was refused: no point waiting for more failures). */
  ejectNow(s: Slot<T>): void {
    s.pending = Math.max(0, s.pending);
    if (!s.ejected) this.eject(s, this.clock.now());
  }
}
