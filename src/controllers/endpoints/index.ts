// An in-memory index of Services, ExternalWorkloads and WorkloadGroups fed by informers: keeps each
// workload's effective endpoint source and which Services select it, and answers, for every
// change, which Services and groups need another look. No I/O; O(labels) per workload change.
import type { V1Service } from '@kubernetes/client-node';
import { GROUP_LABEL, type WorkloadGroupLike } from '../../core/workloads/effective.js';
import { serviceSelectorMatches as selectorMatches } from '../../kube/selectors.js';
import { workloadIsReady } from '../health/conditions.js';
import type { ExternalWorkloadObject } from '../../kube/objects.js';
import { endpointSourceOf, sameEndpointSource, type WorkloadEndpointSource } from './source.js';

export interface Affected {
  services: string[];
  groups: string[];
}

export const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`;
const pairKey = (ns: string, k: string, v: string) => `${ns}\u0000${k}=${v}`;

export class WorkloadIndex {
  readonly services = new Map<string, V1Service>();
  readonly groups = new Map<string, WorkloadGroupLike>();
  readonly workloads = new Map<string, ExternalWorkloadObject>();
  private readonly sources = new Map<string, WorkloadEndpointSource>();
  private readonly sourcesByPair = new Map<string, Set<string>>();
  private readonly servicesByPair = new Map<string, Set<string>>();
  private readonly serviceIndexPair = new Map<string, string>();
  private readonly membersOfGroup = new Map<string, Set<string>>();
  private readonly servicesOfWorkload = new Map<string, Set<string>>();
  private readonly workloadsOfService = new Map<string, Set<string>>();

  /** The endpoint sources of the workloads a Service selects. */
  workloadsSelectedBy(serviceKey: string): WorkloadEndpointSource[] {
    return [...(this.workloadsOfService.get(serviceKey) ?? [])].map((k) => this.sources.get(k)!).filter(Boolean);
  }

  /** Keys of the ExternalWorkloads labelled workloadGroup=<group> (same namespace). */
  membersOf(groupKey: string): string[] {
    return [...(this.membersOfGroup.get(groupKey) ?? [])];
  }

  groupOf(ew: ExternalWorkloadObject): WorkloadGroupLike | undefined {
    const g = ew.metadata.labels?.[GROUP_LABEL];
    return g ? this.groups.get(`${ew.metadata.namespace ?? 'default'}/${g}`) : undefined;
  }

  sourceOf(workloadKey: string): WorkloadEndpointSource | undefined {
    return this.sources.get(workloadKey);
  }

  upsertWorkload(ew: ExternalWorkloadObject): Affected {
    const key = keyOf(ew);
    const previous = this.workloads.get(key);
    this.workloads.set(key, ew);
    const groups = new Set<string>();
    const oldGroup = previous ? groupKeyOf(previous) : undefined;
    const newGroup = groupKeyOf(ew);
    if (oldGroup !== newGroup) {
      if (oldGroup) this.membersOfGroup.get(oldGroup)?.delete(key);
      if (newGroup) setIn(this.membersOfGroup, newGroup, key);
    }
    if (oldGroup && (oldGroup !== newGroup || (previous && workloadIsReady(previous) !== workloadIsReady(ew)))) groups.add(oldGroup);
    if (newGroup) groups.add(newGroup);
    return { services: this.refreshSource(key), groups: [...groups] };
  }

  removeWorkload(ew: ExternalWorkloadObject): Affected {
    const key = keyOf(ew);
    const previous = this.workloads.get(key);
    if (!previous) return { services: [], groups: [] };
    this.workloads.delete(key);
    const group = groupKeyOf(previous);
    if (group) this.membersOfGroup.get(group)?.delete(key);
    return { services: this.refreshSource(key), groups: group ? [group] : [] };
  }

  upsertGroup(group: WorkloadGroupLike): Affected {
    const key = keyOf(group);
    this.groups.set(key, group);
    return { services: this.refreshMembers(key), groups: [key] };
  }

  removeGroup(group: WorkloadGroupLike): Affected {
    const key = keyOf(group);
    this.groups.delete(key);
    return { services: this.refreshMembers(key), groups: [] };
  }

  upsertService(svc: V1Service): Affected {
    const key = keyOf(svc);
    this.unindexService(key);
    this.services.set(key, svc);
    const ns = svc.metadata?.namespace ?? 'default';
    const selector = svc.spec?.selector ?? {};
    const first = Object.keys(selector).sort()[0];
    const members = new Set<string>();
    if (first !== undefined) {
      const pk = pairKey(ns, first, selector[first]);
      this.serviceIndexPair.set(key, pk);
      setIn(this.servicesByPair, pk, key);
      for (const wk of this.sourcesByPair.get(pk) ?? []) {
        if (selectorMatches(selector, this.sources.get(wk)!.labels)) {
          members.add(wk);
          setIn(this.servicesOfWorkload, wk, key);
        }
      }
    }
    this.workloadsOfService.set(key, members);
    return { services: [key], groups: [] };
  }

  removeService(svc: V1Service): Affected {
    const key = keyOf(svc);
    this.unindexService(key);
    this.services.delete(key);
    return { services: [key], groups: [] };
  }

  private unindexService(key: string): void {
    const pk = this.serviceIndexPair.get(key);
    if (pk) this.servicesByPair.get(pk)?.delete(key);
    this.serviceIndexPair.delete(key);
    for (const wk of this.workloadsOfService.get(key) ?? []) this.servicesOfWorkload.get(wk)?.delete(key);
    this.workloadsOfService.delete(key);
  }

  private refreshMembers(groupKey: string): string[] {
    const out = new Set<string>();
    for (const wk of this.membersOf(groupKey)) for (const s of this.refreshSource(wk)) out.add(s);
    return [...out];
  }

  /** Recomputes one workload's source and matches; returns the Services whose slices may change. */
  private refreshSource(key: string): string[] {
    const ew = this.workloads.get(key);
    const before = this.sources.get(key);
    const after = ew ? endpointSourceOf(ew, this.groupOf(ew)) : undefined;
    if (sameEndpointSource(before, after)) return [];
    const oldServices = this.servicesOfWorkload.get(key) ?? new Set<string>();
    if (before) for (const [k, v] of Object.entries(before.labels)) this.sourcesByPair.get(pairKey(before.namespace, k, v))?.delete(key);
    const newServices = new Set<string>();
    if (after) {
      this.sources.set(key, after);
      for (const [k, v] of Object.entries(after.labels)) {
        const pk = pairKey(after.namespace, k, v);
        setIn(this.sourcesByPair, pk, key);
        for (const sk of this.servicesByPair.get(pk) ?? []) {
          if (selectorMatches(this.services.get(sk)?.spec?.selector, after.labels)) newServices.add(sk);
        }
      }
    } else {
      this.sources.delete(key);
    }
    for (const sk of oldServices) if (!newServices.has(sk)) this.workloadsOfService.get(sk)?.delete(key);
    for (const sk of newServices) setIn(this.workloadsOfService, sk, key);
    if (newServices.size) this.servicesOfWorkload.set(key, newServices);
    else this.servicesOfWorkload.delete(key);
    return [...new Set([...oldServices, ...newServices])];
  }
}

function groupKeyOf(ew: ExternalWorkloadObject): string | undefined {
  const g = ew.metadata.labels?.[GROUP_LABEL];
  return g ? `${ew.metadata.namespace ?? 'default'}/${g}` : undefined;
}

function setIn<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let s = map.get(key);
  if (!s) map.set(key, (s = new Set()));
  s.add(value);
}
