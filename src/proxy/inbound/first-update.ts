// Waiting for a watched value's first update, with a deadline: the inbound's policy and its declared
// ports both let the first requests after a start wait for the control plane instead of refusing them.
import type { Clock } from '../../core/clock.js';

/** Calls `cb` once, on the source's next update or after `timeoutMs`, whichever comes first. */
export function onFirstUpdate(source: { subscribe(listener: () => void): () => void }, clock: Clock, timeoutMs: number, cb: () => void): void {
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clock.clearTimeout(timer);
    off();
    cb();
  };
  const off = source.subscribe(() => finish());
  const timer = clock.setTimeout(finish, timeoutMs);
}
