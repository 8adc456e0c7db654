// Pods that asked for the proxy and were created without it: the API server let them in because the
// injector was unreachable or failed and the failurePolicy is Ignore. The injector cannot see those
// admissions, so it watches pods and reports each such pod once: a metric and a Warning Event
// `NotInjected` on its workload, saying how to get the proxy (delete the pod).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { ClusterView } from '../kube/cluster-view.js';
import { decideInjection } from '../inject/annotations.js';
import { isInjected, type PodTemplate } from '../inject/pod.js';
import type { InjectorEventRecorder } from './events.js';
import type { InjectorMetrics } from './metrics.js';
import { podOwner } from './review.js';

/** Pods created this long before the injector started are still reported (an outage before a restart). */
const LOOKBACK_MS = 10 * 60_000;

export interface UninjectedPodsOptions {
  /** The process's cluster view: its pod informer. */
  cluster: ClusterView;
  trustDomain: string;
  excludedNamespaces: readonly string[];
  namespaceAnnotations(ns: string): Promise<Record<string, string> | undefined>;
  metrics: InjectorMetrics;
  events: InjectorEventRecorder;
  clock: Clock;
  log: Logger;
}

export function watchUninjectedPods(o: UninjectedPodsOptions): { stop(): Promise<void> } {
  const startedAt = o.clock.now();
  const reported = new Set<string>();
  const unsubscribe = o.cluster.informer<KubernetesObject>('pods').subscribe((change, obj) => {
    const pod = obj as PodTemplate & { metadata: { uid?: string; creationTimestamp?: string | Date; deletionTimestamp?: unknown } };
    const ns = pod.metadata?.namespace ?? 'default';
    const key = pod.metadata?.uid ?? `${ns}/${pod.metadata?.name}`;
    if (change === 'delete') return void reported.delete(key);
    if (change !== 'add' || reported.has(key) || pod.metadata?.deletionTimestamp || o.excludedNamespaces.includes(ns) || isInjected(pod)) return;
    const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : startedAt;
    if (created < startedAt - LOOKBACK_MS || pod.spec?.hostNetwork) return;
    o.namespaceAnnotations(ns).then(
      (nsAnnotations) => {
        if (!decideInjection(pod.metadata?.annotations, nsAnnotations).inject) return;
        reported.add(key);
        o.metrics.uninjected();
        const owner = podOwner(pod) ?? { kind: 'Pod', name: pod.metadata?.name ?? '' };
        o.log.warn('a pod that asked for the proxy was created without it', { namespace: ns, pod: pod.metadata?.name });
        o.events.record({ namespace: ns, owner, type: 'Warning', reason: 'NotInjected', message: `pod ${pod.metadata?.name} asked for the Outpost proxy but was created without it (the injector was unreachable or failed, and the webhook's failurePolicy is Ignore); delete the pod to have it re-created with the proxy` });
      },
      (e) => o.log.debug('cannot read a namespace to check a pod', { namespace: ns, error: (e as Error).message }),
    );
  });
  return { stop: async () => unsubscribe() };
}
