// What the control plane knows of the targets the data path meets — captured connections' original
// destinations (ip:port) and the Service names the DNS proxy is asked — looked up once each through
// discovery's GetProfile stream, kept while in use, and closed after a minute without use.
import type { ProxyContext } from './context.js';
import type { DestinationProfile, ProfileWatch } from './types.js';

/** A profile unused for this long is closed (its stream too); captured apps may dial many hosts. */
const IDLE_MS = 60_000;

export function formatTarget(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Profiles by target (ip:port or a Service name), one shared lookup each, closed when unused. */
export class ProfileCache {
  private readonly entries = new Map<string, { watch: ProfileWatch; used: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly ctx: ProxyContext) {
    this.sweeper = setInterval(() => this.sweep(), IDLE_MS / 2);
    this.sweeper.unref();
  }

  /** Calls `cb` with what the control plane knows of `target`, waiting at most `timeoutMs` (then undefined). */
  lookup(target: string, timeoutMs: number, cb: (p: DestinationProfile | undefined) => void): void {
    const profile = this.ctx.discovery.profile?.bind(this.ctx.discovery);
    if (!profile) return cb(undefined);
    let e = this.entries.get(target);
    if (!e) this.entries.set(target, (e = { watch: profile(target), used: 0 }));
    e.used = Date.now();
    const now = e.watch.current();
    if (now) return cb(now);
    const watch = e.watch;
    let done = false;
    const finish = (p: DestinationProfile | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      off();
      cb(p);
    };
    const off = watch.subscribe((p) => finish(p));
    const timer = setTimeout(() => finish(watch.current()), timeoutMs);
  }

  private sweep(): void {
    const cutoff = Date.now() - IDLE_MS;
    for (const [k, e] of this.entries) {
      if (e.used < cutoff) {
        e.watch.close();
        this.entries.delete(k);
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const e of this.entries.values()) e.watch.close();
    this.entries.clear();
  }
}
