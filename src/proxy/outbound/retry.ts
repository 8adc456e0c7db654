// The one retry budget of the outbound: a request that never left (its connection could not be
// made, or its stream was refused before any byte of it was sent) may go to another endpoint,
// up to MAX_ATTEMPTS in all, and only while the balancer has another endpoint to offer.
import type { Slot } from './balance.js';

/** Attempts per request or connection, the first included. */
export const MAX_ATTEMPTS = 3;

export interface RetryBalancer<T> {
  size(): number;
  pick(exclude?: Slot<T>): Slot<T> | undefined;
  ejectNow(slot: Slot<T>): void;
}

/**
 * After a failed attempt on `failed` (ejected at once): the endpoint of the next attempt, or
 * undefined when the budget is spent or no other endpoint is left.
 */
export function nextAttempt<T>(balancer: RetryBalancer<T>, failed: Slot<T>, attempt: number): Slot<T> | undefined {
  balancer.ejectNow(failed);
  if (!mayRetry(balancer, attempt)) return undefined;
  const other = balancer.pick(failed);
  return other && other !== failed ? other : undefined;
}

/** Whether a request whose attempt number `attempt` failed before leaving may try another endpoint. */
export function mayRetry<T>(balancer: RetryBalancer<T>, attempt: number): boolean {
  return attempt < MAX_ATTEMPTS && balancer.size() > 1;
}
