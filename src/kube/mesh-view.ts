// A component's read view of the mesh over the process's ClusterView: the kinds it reads (their
// shared informers), effective workloads (WorkloadGroup overlay) memoized, EndpointSlices indexed by
// Service, and one change callback. Used by destination, policy, the injector and diagnostics.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { effectiveWorkload, groupNameOf, type EffectiveWorkload, type ExternalWorkloadLike, type WorkloadGroupLike } from '../core/workloads/effective.js';
import { ClusterView } from './cluster-view.js';
import type { ChangeKind, Informer } from './informer.js';
import type { KindName } from './kinds.js';
import { SERVICE_NAME_LABEL, type EndpointSliceObject } from './objects.js';

/** The kinds the destination service reads (endpoints, their workloads, opaque ports, outbound routes). */
export const DESTINATION_KINDS: readonly KindName[] = ['services', 'endpointslices', 'externalworkloads', 'workloadgroups', 'servers', 'pods', 'httproutes'];

/** `previousService` ("ns/name") is set for an EndpointSlice that belonged to a Service before this change. */
export type ViewChange = (kind: KindName, change: ChangeKind, obj: KubernetesObject, previousService?: string) => void;

export class MeshView {
  private readonly informers = new Map<KindName, Informer>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly listeners: ViewChange[] = [];
  private effective: Map<string, EffectiveWorkload> | undefined;
  /** "ns/service" → slice names, and slice "ns/name" → its service, kept on every slice event. */
  private readonly slicesByService = new Map<string, Set<string>>();
  private readonly serviceOfSlice = new Map<string, string>();
  /** "ns/Kind/name" of an endpoint's targetRef → slice keys that reference it, and back. */
  private readonly slicesByTarget = new Map<string, Set<string>>();
  private readonly targetsOfSlice = new Map<string, string[]>();

  constructor(
    readonly cluster: ClusterView,
    private readonly kinds: readonly KindName[],
    readonly trustDomain: string,
    /** Set by `standalone`: this view created its ClusterView and stops it too. */
    private readonly ownsCluster = false,
  ) {}

  /** A view with a ClusterView of its own (a CLI command, a test): stop() stops both. */
  static standalone(kubeConfig: KubeConfig, kinds: readonly KindName[], log: Logger, clock: Clock, trustDomain: string): MeshView {
    return new MeshView(new ClusterView({ kubeConfig, log, clock }), kinds, trustDomain, true);
  }

  onChange(fn: ViewChange): void {
    this.listeners.push(fn);
  }

  /** Subscribes to the shared informers (starting those not started yet); objects already cached arrive as adds. */
  start(): void {
    for (const kind of this.kinds) {
      if (this.informers.has(kind)) continue;
      const informer = this.cluster.informer(kind);
      this.informers.set(kind, informer);
      this.unsubscribe.push(informer.subscribe((change, obj) => this.changed(kind, change, obj)));
    }
  }

  /** True once every informer listed at least once; false if that took longer than `timeoutMs`. */
  async waitSynced(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    const all = Promise.all([...this.informers.values()].map((i) => i.synced)).then(() => true);
    try {
      return await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops listening; the shared informers stay with the ClusterView's owner (unless standalone). */
  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.ownsCluster) await this.cluster.stop();
  }

  restarts(): number {
    let n = 0;
    for (const i of this.informers.values()) n += i.restarts;
    return n;
  }

  list<T>(kind: KindName, namespace?: string): readonly T[] {
    return (this.informers.get(kind)?.items(namespace) ?? []) as unknown as readonly T[];
  }

  get<T>(kind: KindName, namespace: string | undefined, name: string): T | undefined {
    return this.informers.get(kind)?.get(name, namespace) as T | undefined;
  }

  /** The Service's EndpointSlices. */
  slicesFor(namespace: string, service: string): EndpointSliceObject[] {
    const names = this.slicesByService.get(`${namespace}/${service}`);
    if (!names) return [];
    const out: EndpointSliceObject[] = [];
    for (const n of names) {
      const s = this.get<EndpointSliceObject>('endpointslices', namespace, n);
      if (s) out.push(s);
    }
    return out;
  }

  workload(namespace: string, name: string): EffectiveWorkload | undefined {
    return this.effectiveIndex().get(`${namespace}/${name}`);
  }

  workloads(): EffectiveWorkload[] {
    return [...this.effectiveIndex().values()];
  }

  private effectiveIndex(): Map<string, EffectiveWorkload> {
    if (this.effective) return this.effective;
    const index = new Map<string, EffectiveWorkload>();
    for (const ew of this.list<ExternalWorkloadLike>('externalworkloads')) {
      const ns = ew.metadata.namespace ?? 'default';
      const groupName = groupNameOf(ew);
      const group = groupName ? this.get<WorkloadGroupLike>('workloadgroups', ns, groupName) : undefined;
      const w = effectiveWorkload(ew, group, this.trustDomain);
      index.set(`${w.namespace}/${w.name}`, w);
    }
    this.effective = index;
    return index;
  }

  /** "ns/service" keys of the Services whose slices have an endpoint targeting this object. */
  servicesTargeting(namespace: string, kind: string, name: string): string[] {
    const out = new Set<string>();
    for (const sliceKey of this.slicesByTarget.get(`${namespace}/${kind}/${name}`) ?? []) {
      const svc = this.serviceOfSlice.get(sliceKey);
      if (svc) out.add(svc);
    }
    return [...out];
  }

  private changed(kind: KindName, change: ChangeKind, obj: KubernetesObject): void {
    // Status-only updates (readiness, probes) change nothing discovery or policy reads: skip them.
    if (kind === 'externalworkloads' && change === 'update' && this.effective && this.sameEffective(obj as ExternalWorkloadLike)) return;
    if (kind === 'externalworkloads' || kind === 'workloadgroups') this.effective = undefined;
    const previous = kind === 'endpointslices' ? this.indexSlice(change, obj as EndpointSliceObject) : undefined;
    for (const fn of this.listeners) fn(kind, change, obj, previous);
  }

  private sameEffective(ew: ExternalWorkloadLike): boolean {
    const ns = ew.metadata.namespace ?? 'default';
    const before = this.effective?.get(`${ns}/${ew.metadata.name}`);
    if (!before) return false;
    const groupName = groupNameOf(ew);
    const group = groupName ? this.get<WorkloadGroupLike>('workloadgroups', ns, groupName) : undefined;
    return JSON.stringify(effectiveWorkload(ew, group, this.trustDomain)) === JSON.stringify(before);
  }

  private indexSlice(change: ChangeKind, slice: EndpointSliceObject): string | undefined {
    const ns = slice.metadata.namespace ?? 'default';
    const name = slice.metadata.name ?? '';
    const sliceKey = `${ns}/${name}`;
    const before = this.serviceOfSlice.get(sliceKey);
    if (before) this.slicesByService.get(before)?.delete(name);
    this.serviceOfSlice.delete(sliceKey);
    for (const t of this.targetsOfSlice.get(sliceKey) ?? []) this.slicesByTarget.get(t)?.delete(sliceKey);
    this.targetsOfSlice.delete(sliceKey);
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (change === 'delete' || !service) return before;
    const targets = [...new Set((slice.endpoints ?? []).filter((e) => e.targetRef?.name).map((e) => `${e.targetRef!.namespace ?? ns}/${e.targetRef!.kind}/${e.targetRef!.name}`))];
    this.targetsOfSlice.set(sliceKey, targets);
    for (const t of targets) {
      let refs = this.slicesByTarget.get(t);
      if (!refs) this.slicesByTarget.set(t, (refs = new Set()));
      refs.add(sliceKey);
    }
    const key = `${ns}/${service}`;
    this.serviceOfSlice.set(sliceKey, key);
    let set = this.slicesByService.get(key);
    if (!set) this.slicesByService.set(key, (set = new Set()));
    set.add(name);
    return before;
  }
}
