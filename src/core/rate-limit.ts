// Per-caller rate limiting: a token bucket per peer IP, refilled continuously. Idle buckets are
// forgotten so that the table stays bounded.
import type { Clock } from './clock.js';

export interface RateLimiter {
  /** True if the caller may proceed (takes one token). */
  take(key: string): boolean;
}

export function createRateLimiter(opts: { ratePerSecond: number; burst: number; clock: Clock; maxKeys?: number }): RateLimiter {
  if (opts.ratePerSecond <= 0) return { take: () => true };
  const buckets = new Map<string, { tokens: number; at: number }>();
  const maxKeys = opts.maxKeys ?? 10_000;
  return {
    take(key) {
      const now = opts.clock.now();
      let b = buckets.get(key);
      if (!b) {
        if (buckets.size >= maxKeys) {
          // Drop buckets that have refilled completely; they carry no information.
          for (const [k, v] of buckets) if (v.tokens + ((now - v.at) / 1000) * opts.ratePerSecond >= opts.burst) buckets.delete(k);
        }
        b = { tokens: opts.burst, at: now };
        buckets.set(key, b);
      }
      b.tokens = Math.min(opts.burst, b.tokens + ((now - b.at) / 1000) * opts.ratePerSecond);
      b.at = now;
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
  };
}
