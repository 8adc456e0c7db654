// What the EndpointSlice reconcile needs to know about one ExternalWorkload: its effective labels,
// IPs and ports (group template overlaid by its own spec), its readiness and whether it is going away.
import { effectiveWorkload, type WorkloadGroupLike, type WorkloadPort } from '../../core/workloads/effective.js';
import type { ExternalWorkloadObject } from '../../kube/objects.js';
import { isRevokedWorkload } from '../../core/workloads/revocation.js';
import { workloadIsReady } from '../health/conditions.js';

export interface WorkloadEndpointSource {
  namespace: string;
  name: string;
  uid: string;
  /** Effective labels (what Service selectors match). */
  labels: Record<string, string>;
  ips: string[];
  /** Effective ports (what named targetPorts resolve against). */
  ports: WorkloadPort[];
  ready: boolean;
  /** Being deleted (has a deletionTimestamp, finalizers pending). */
  terminating: boolean;
  /** Revoked (annotation outpost.io/revoked-at, docs/adr/0009): left out of every Service, like a deleted workload. */
  revoked?: boolean;
}

export function endpointSourceOf(ew: ExternalWorkloadObject, group: WorkloadGroupLike | undefined): WorkloadEndpointSource {
  const eff = effectiveWorkload(ew, group);
  return {
    namespace: eff.namespace,
    name: eff.name,
    uid: ew.metadata.uid ?? '',
    labels: eff.labels,
    ips: eff.ips,
    ports: eff.ports,
    ready: workloadIsReady(ew),
    terminating: Boolean(ew.metadata.deletionTimestamp),
    ...(isRevokedWorkload(ew) ? { revoked: true } : {}),
  };
}

/** Equal for the purpose of EndpointSlices (so unrelated changes, e.g. status timestamps, cause no work). */
export function sameEndpointSource(a: WorkloadEndpointSource | undefined, b: WorkloadEndpointSource | undefined): boolean {
  if (!a || !b) return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}
