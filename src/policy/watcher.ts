// Keeps one topic per watched workload port, recomputes them when policy objects, workloads or
// namespaces change (coalesced per burst), and publishes changed policies to their listeners.
import type { KindName } from '../kube/kinds.js';
import type { MeshView } from '../kube/mesh-view.js';
import type { DefaultPolicy } from './compute.js';
import { policyFromView } from './inputs.js';
import type { EffectiveWorkload } from '../core/workloads/effective.js';
import { podWorkload, type PodLike, type PodNaming } from '../core/workloads/pod.js';
import type { InboundServer } from '../api/gen/policy.js';
import { toWireInboundServer } from './wire.js';

export type PolicyOutcome = { kind: 'policy'; identity: string; server: InboundServer } | { kind: 'not-found' };

/**
 * Receives every change of one workload port's policy. Listeners MUST NOT BLOCK: they are called
 * synchronously on the event loop; a stream puts the message in its bounded queue and is closed
 * with an error (counted) when the client does not read, so that it re-subscribes.
 */
export type PolicyListener = (outcome: PolicyOutcome) => void;

interface Topic {
  namespace: string;
  name: string;
  port: number;
  outcome: PolicyOutcome;
  json: string;
  listeners: Set<PolicyListener>;
}

/** Kinds whose change can only affect topics of the object's own namespace. */
const NAMESPACED: ReadonlySet<KindName> = new Set(['servers', 'serverauthorizations', 'authorizationpolicies', 'httproutes', 'pods']);

export class PolicyWatcher {
  private readonly topics = new Map<string, Topic>();
  private dirtyAll = false;
  private readonly dirtyNamespaces = new Set<string>();
  private flushScheduled = false;

  constructor(
    private readonly view: MeshView,
    private readonly clusterDefault: DefaultPolicy,
    /** The DNS name of meshed pods' certificates (`--identity-naming`). */
    private readonly podNaming: PodNaming,
  ) {
    view.onChange((kind, _change, obj) => {
      if (NAMESPACED.has(kind)) this.dirtyNamespaces.add(obj.metadata?.namespace ?? 'default');
      else if (kind === 'namespaces') this.dirtyNamespaces.add(obj.metadata?.name ?? '');
      else this.dirtyAll = true;
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  outcome(namespace: string, name: string, port: number): PolicyOutcome {
    const workload = this.view.workload(namespace, name) ?? this.meshedPod(namespace, name);
    if (!workload) return { kind: 'not-found' };
    return { kind: 'policy', identity: workload.identity, server: toWireInboundServer(policyFromView(this.view, workload, port, this.clusterDefault)) };
  }

  /** An injected pod (it carries a proxy version annotation) is a workload as its ServiceAccount. */
  private meshedPod(namespace: string, name: string): EffectiveWorkload | undefined {
    const pod = this.view.get<PodLike>('pods', namespace, name);
    const annotations = pod?.metadata?.annotations ?? {};
    if (!pod || !(annotations['linkerd.io/proxy-version'] || annotations['outpost.io/proxy-version'])) return undefined;
    return podWorkload(pod, this.view.trustDomain, this.podNaming);
  }

  subscribe(namespace: string, name: string, port: number, listener: PolicyListener): { initial: PolicyOutcome; unsubscribe: () => void } {
    const key = `${namespace}/${name}:${port}`;
    let topic = this.topics.get(key);
    if (!topic) {
      const outcome = this.outcome(namespace, name, port);
      this.topics.set(key, (topic = { namespace, name, port, outcome, json: JSON.stringify(outcome), listeners: new Set() }));
    }
    topic.listeners.add(listener);
    const t = topic;
    return {
      initial: t.outcome,
      unsubscribe: () => {
        t.listeners.delete(listener);
        if (t.listeners.size === 0 && this.topics.get(key) === t) this.topics.delete(key);
      },
    };
  }

  private flush(): void {
    this.flushScheduled = false;
    const all = this.dirtyAll;
    const namespaces = new Set(this.dirtyNamespaces);
    this.dirtyAll = false;
    this.dirtyNamespaces.clear();
    for (const topic of this.topics.values()) {
      if (!all && !namespaces.has(topic.namespace)) continue;
      const outcome = this.outcome(topic.namespace, topic.name, topic.port);
      const json = JSON.stringify(outcome);
      if (json === topic.json) continue;
      topic.outcome = outcome;
      topic.json = json;
      for (const l of [...topic.listeners]) l(outcome);
    }
  }
}
