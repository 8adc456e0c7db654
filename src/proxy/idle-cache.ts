// One mechanism for what the data path opens on demand and must not keep forever (an outbound
// authority's discovery stream, a captured destination's profile): entries by key, each touched on
// use, closed by a sweep on the injected clock once unused for `idleMs`.
import type { Clock, TimerHandle } from '../core/clock.js';

export interface IdleCacheOptions<V> {
  clock: Clock;
  /** An entry unused this long is closed at the next sweep (sweeps run every idleMs / 2). */
  idleMs: number;
  /** Closes an evicted (or, on `close`, every) entry. */
  close(value: V): void;
  /** Called once per entry evicted for idleness (e.g. to count it). */
  onEvict?(key: string): void;
}

export class IdleCache<V> {
  private readonly entries = new Map<string, { value: V; used: number }>();
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly opts: IdleCacheOptions<V>) {}

  /** The entry for `key`, made by `create` on first use; either way marked as used now. */
  get(key: string, create: () => V): V {
    let e = this.entries.get(key);
    if (!e) {
      e = { value: create(), used: 0 };
      this.entries.set(key, e);
      this.arm();
    }
    e.used = this.opts.clock.now();
    return e.value;
  }

  get size(): number {
    return this.entries.size;
  }

  private arm(): void {
    if (this.timer || this.closed) return;
    this.timer = this.opts.clock.setTimeout(() => this.sweep(), Math.max(1, this.opts.idleMs / 2));
    this.timer.unref?.();
  }

  private sweep(): void {
    this.timer = undefined;
    const cutoff = this.opts.clock.now() - this.opts.idleMs;
    for (const [key, e] of this.entries) {
      if (e.used > cutoff) continue;
      this.entries.delete(key);
      this.opts.close(e.value);
      this.opts.onEvict?.(key);
    }
    if (this.entries.size > 0) this.arm();
  }

  close(): void {
    this.closed = true;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const e of this.entries.values()) this.opts.close(e.value);
    this.entries.clear();
  }
}
