// The one retry budget of the outbound: a request that never left (its connection could not be
// made, or its stream was refused before any byte of it was sent) may go to another endpoint,
// up to MAX_ATTEMPTS in all, and only while the balancer has another endpoint to offer.
import type { Layer } from '../http/exchange.js';
import type { EndpointSlot } from './logical.js';
import type { Attempt, Logical } from './layers.js';

/** Attempts per request or connection, the first included. */
export const MAX_ATTEMPTS = 3;

export interface RetryBalancer {
  size(): number;
}

/** Whether a request whose attempt number `attempt` failed before leaving may try another endpoint. */
export function mayRetry(balancer: RetryBalancer, attempt: number): boolean {
  return attempt < MAX_ATTEMPTS && balancer.size() > 1;
}

/**
 * The retry layer: each attempt starts from the exchange's own hooks (the failed attempt's balance,
 * metrics and tap hooks are dropped) and may hand the request to another endpoint through `retry`.
 */
export const retry: Layer<Logical, Attempt> = (next) => (x, t) => {
  const { done, sending } = x;
  const attempt = (n: number, exclude: EndpointSlot | undefined) => {
    x.done = done;
    x.sending = sending;
    next(x, {
      svc: t.svc,
      route: t.route,
      n,
      exclude,
      retry: (failed, connectFailed) => {
        if (connectFailed) t.svc.balancer.ejectNow(failed);
        if (!mayRetry(t.svc.balancer, n)) return false;
        attempt(n + 1, failed);
        return true;
      },
    });
  };
  attempt(1, undefined);
};
