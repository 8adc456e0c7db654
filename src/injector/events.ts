// Events the injector records on the workload a pod belongs to (its Deployment, StatefulSet…, or
// its namespace when it has none): Injected, and InjectionFailed when a pod got no proxy. Never
// blocks an admission: a bounded queue, a per-workload rate limit, drops counted.
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { makeKeepAliveApiClient } from '../core/kube-clients.js';
import { createRateLimiter } from '../identity/rate-limit.js';

const API_VERSIONS: Record<string, string> = { Pod: 'v1', Deployment: 'apps/v1', StatefulSet: 'apps/v1', DaemonSet: 'apps/v1', ReplicaSet: 'apps/v1', Job: 'batch/v1', CronJob: 'batch/v1', Namespace: 'v1', ReplicationController: 'v1' };

export interface InjectorEvent {
  namespace: string;
  /** The owner, or the pod itself when it has no owner; undefined: the Namespace. */
  owner?: { kind: string; name: string };
  type: 'Normal' | 'Warning';
  reason: 'Injected' | 'InjectionFailed' | 'InjectionDenied' | 'NotInjected';
  message: string;
}

export interface InjectorEventRecorder {
  record(e: InjectorEvent): void;
  flush(): Promise<void>;
}

export function createInjectorEventRecorder(kc: KubeConfig, opts: { log: Logger; clock: Clock; onDrop: () => void; queueLimit?: number }): InjectorEventRecorder {
  const core = makeKeepAliveApiClient(kc, CoreV1Api);
  // Like Kubernetes' event spam filter: per workload a burst of 5 Events, then one per 10 s.
  const perWorkload = createRateLimiter({ ratePerSecond: 0.1, burst: 5, clock: opts.clock });
  const queue: { namespace: string; body: CoreV1Event }[] = [];
  let active = 0;
  let idle: (() => void)[] = [];
  const pump = () => {
    while (active < 2 && queue.length > 0) {
      const ev = queue.shift()!;
      active++;
      core
        .createNamespacedEvent(ev)
        .catch((e) => opts.log.debug('could not record an injector Event', { error: (e as Error).message }))
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
    record(e) {
      const kind = e.owner?.kind ?? 'Namespace';
      const name = e.owner?.name ?? e.namespace;
      if (queue.length >= (opts.queueLimit ?? 256) || !perWorkload.take(`${e.namespace}/${kind}/${name}/${e.reason}`)) return opts.onDrop();
      const now = new Date(opts.clock.now());
      // An Event about a cluster-scoped object (the Namespace) lives in "default", as the API requires.
      queue.push({
        namespace: kind === 'Namespace' ? 'default' : e.namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace: kind === 'Namespace' ? 'default' : e.namespace },
          involvedObject: { apiVersion: API_VERSIONS[kind] ?? 'v1', kind, name, namespace: kind === 'Namespace' ? undefined : e.namespace },
          reason: e.reason,
          message: e.message,
          type: e.type,
          source: { component: 'outpost-proxy-injector' },
          reportingComponent: 'outpost-proxy-injector',
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
