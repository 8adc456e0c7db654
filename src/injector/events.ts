// Events the injector records on the workload a pod belongs to (its Deployment, StatefulSet…, or
// its namespace when it has none): Injected, and InjectionFailed when a pod got no proxy. Never
// blocks an admission: a bounded queue, a per-workload rate limit, drops counted.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { createEventSink } from '../core/event-sink.js';

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
  const sink = createEventSink(kc, { queueLimit: 256, ...opts, component: 'outpost-proxy-injector' });
  return {
    record(e) {
      const kind = e.owner?.kind ?? 'Namespace';
      const name = e.owner?.name ?? e.namespace;
      // An Event about a cluster-scoped object (the Namespace) lives in "default", as the API requires.
      sink.send(`${e.namespace}/${kind}/${name}/${e.reason}`, kind === 'Namespace' ? 'default' : e.namespace, {
        involvedObject: { apiVersion: API_VERSIONS[kind] ?? 'v1', kind, name, namespace: kind === 'Namespace' ? undefined : e.namespace },
        reason: e.reason,
        message: e.message,
        type: e.type,
      });
    },
    flush: () => sink.flush(),
  };
}
