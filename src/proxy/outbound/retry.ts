// The one retry budget of the outbound: a request that never left (its connection could not be
// made, or its stream was refused before any byte of it was sent) may go to another endpoint,
// up to MAX_ATTEMPTS in all, and only while the balancer has another endpoint to offer.
import type { HttpExchange, Layer } from '../http/exchange.js';
import type { Attempt, Endpoint, Logical } from './layers.js';

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
 * The retry layer: the first attempt of each request; a new attempt (`retryElsewhere`) starts from
 * the exchange's hooks as they were before the first (the failed attempt's are dropped).
 */
export const retry: Layer<Logical, Attempt> = (next) => (x, l) => {
  const t = l as Attempt;
  t.n = 1;
  t.exclude = undefined;
  t.mark = x.hookMark();
  t.again = next;
  next(x, t);
};

/**
 * The request did not leave `t.slot` (its connect failed, or its stream was refused): true when
 * another attempt took it over; false when the budget is spent (then the caller answers it).
 */
export function retryElsewhere(x: HttpExchange, t: Endpoint, connectFailed: boolean): boolean {
  const balancer = t.svc.balancer;
  t.abandon?.(t);
  if (connectFailed) balancer.ejectNow(t.slot);
  if (!mayRetry(balancer, t.n)) return false;
  x.resetHooks(t.mark);
  t.n++;
  t.exclude = t.slot;
  t.again!(x, t);
  return true;
}
