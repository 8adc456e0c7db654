// Records core/v1 Events without ever blocking the caller: a bounded queue (overflow dropped and
// counted by the caller's onDrop) sent by two workers, and a per-object rate limit like Kubernetes'
// event spam filter (a burst of 5, then one per 10 s). Shared by the identity service and the injector.
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Clock } from './clock.js';
import type { Logger } from './log.js';
import { makeKeepAliveApiClient } from './kube-clients.js';
import { createRateLimiter } from './rate-limit.js';

export interface EventSinkOptions {
  log: Logger;
  clock: Clock;
  onDrop: () => void;
  queueLimit?: number;
  /** The reporting component, e.g. outpost-identity. */
  component: string;
}

/** What an Event says; the sink fills in its name, source and timestamps. */
export type EventContent = Pick<CoreV1Event, 'involvedObject' | 'reason' | 'message' | 'type'>;

export interface EventSink {
  /** Queues an Event in `namespace`; `rateKey` names the object the rate limit applies to. */
  send(rateKey: string, namespace: string, event: EventContent): void;
  /** Waits for queued events (tests, shutdown). */
  flush(): Promise<void>;
}

export function createEventSink(kc: KubeConfig, opts: EventSinkOptions): EventSink {
  const core = makeKeepAliveApiClient(kc, CoreV1Api);
  const perObject = createRateLimiter({ ratePerSecond: 0.1, burst: 5, clock: opts.clock });
  const queue: { namespace: string; body: CoreV1Event }[] = [];
  const limit = opts.queueLimit ?? 512;
  let active = 0;
  let idle: (() => void)[] = [];
  const pump = () => {
    while (active < 2 && queue.length > 0) {
      const ev = queue.shift()!;
      active++;
      core
        .createNamespacedEvent(ev)
        .catch((e) => opts.log.debug('could not record an Event', { component: opts.component, error: (e as Error).message }))
        .finally(() => {
          active--;
          pump();
          if (active === 0 && queue.length === 0) {
            idle.forEach((f) => f());
            idle = [];
          }
        });
    }
  };
  return {
    send(rateKey, namespace, event) {
      if (queue.length >= limit || !perObject.take(rateKey)) return opts.onDrop();
      const now = new Date(opts.clock.now());
      queue.push({
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: `${event.involvedObject.name}.${randomBytes(8).toString('hex')}`, namespace },
          ...event,
          source: { component: opts.component },
          reportingComponent: opts.component,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      pump();
    },
    flush() {
      if (active === 0 && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
  };
}
