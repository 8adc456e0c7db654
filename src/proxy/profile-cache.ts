// What the control plane knows of the targets the data path meets — captured connections' original
// destinations (ip:port) and the Service names the DNS proxy is asked — looked up once each through
// discovery's GetProfile stream, kept while in use, and closed after a minute without use.
import type { ProxyContext } from './context.js';
import type { DestinationProfile, ProfileWatch } from './types.js';
import { IdleCache } from './idle-cache.js';

/** A profile unused for this long is closed (its stream too); captured apps may dial many hosts. */
const IDLE_MS = 60_000;

export function formatTarget(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Profiles by target (ip:port or a Service name), one shared lookup each, closed when unused. */
export class ProfileCache {
  private readonly watches: IdleCache<ProfileWatch>;

  constructor(private readonly ctx: Pick<ProxyContext, 'discovery' | 'clock'>) {
    this.watches = new IdleCache({ clock: ctx.clock, idleMs: IDLE_MS, close: (w) => w.close() });
  }

  /** Calls `cb` with what the control plane knows of `target`, waiting at most `timeoutMs` (then undefined). */
  lookup(target: string, timeoutMs: number, cb: (p: DestinationProfile | undefined) => void): void {
    const profile = this.ctx.discovery.profile?.bind(this.ctx.discovery);
    if (!profile) return cb(undefined);
    const watch = this.watches.get(target, () => profile(target));
    const now = watch.current();
    if (now) return cb(now);
    let done = false;
    const finish = (p: DestinationProfile | undefined) => {
      if (done) return;
      done = true;
      this.ctx.clock.clearTimeout(timer);
      off();
      cb(p);
    };
    const off = watch.subscribe((p) => finish(p));
    const timer = this.ctx.clock.setTimeout(() => finish(watch.current()), timeoutMs);
  }

  close(): void {
    this.watches.close();
  }
}
