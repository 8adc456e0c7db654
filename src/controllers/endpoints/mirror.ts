// The pure half of the core/v1 Endpoints mirror: from a Service and the workloads its selector
// matches (the same inputs as the slices), the one Endpoints object kubectl `get endpoints` shows,
// and the single write (create, update in place, delete, or none) that brings the existing one there.
import type { CoreV1EndpointPort, V1EndpointAddress, V1EndpointSubset, V1Endpoints, V1Service } from '@kubernetes/client-node';
import { serviceSelectorMatches as selectorMatches } from '../../kube/selectors.js';
import { HEADLESS_LABEL, MANAGED_BY } from '../labels.js';
import { addressTypesOf, familyOf, isHeadless, ownerReferenceTo, resolvePorts } from './reconcile.js';
import type { WorkloadEndpointSource } from './source.js';

/** Label on every Endpoints object we manage (value: MANAGED_BY). Objects without it are a user's. */
export const ENDPOINTS_MANAGED_BY_LABEL = 'endpoints.kubernetes.io/managed-by';

export type EndpointsPlan =
  | { op: 'none' }
  | { op: 'create'; endpoints: V1Endpoints }
  | { op: 'update'; endpoints: V1Endpoints }
  | { op: 'delete'; endpoints: V1Endpoints };

/** Does this Service get an Endpoints object from us? Only with a non-empty selector and not ExternalName (like Kubernetes). */
export function mirrorsEndpoints(service: V1Service | undefined): service is V1Service {
  return Boolean(service && service.spec?.selector && Object.keys(service.spec.selector).length > 0 && service.spec.type !== 'ExternalName');
}

/**
 * The label value kube-controller-manager's endpoints controller puts on the Endpoints it writes.
 * In a real cluster it writes one for every selector Service (from pods) and overwrites any other
 * content whenever it syncs the Service: mirroring there would flap the object, so it is left alone
 * (external workloads are in the EndpointSlices, as with Linkerd; core/v1 Endpoints are deprecated).
 */
export const KUBERNETES_ENDPOINTS_CONTROLLER = 'endpoint-controller';

export function isManagedByKubernetes(endpoints: V1Endpoints | undefined): boolean {
  return endpoints?.metadata?.labels?.[ENDPOINTS_MANAGED_BY_LABEL] === KUBERNETES_ENDPOINTS_CONTROLLER;
}

export function isManagedByUs(endpoints: V1Endpoints | undefined): boolean {
  return endpoints?.metadata?.labels?.[ENDPOINTS_MANAGED_BY_LABEL] === MANAGED_BY;
}

/** Labels of the mirrored object: the Service's own, then ours (which win), headless marked like Kubernetes does. */
export function endpointsLabels(service: V1Service): Record<string, string> {
  const labels: Record<string, string> = { ...(service.metadata?.labels ?? {}) };
  delete labels[HEADLESS_LABEL];
  labels[ENDPOINTS_MANAGED_BY_LABEL] = MANAGED_BY;
  if (isHeadless(service)) labels[HEADLESS_LABEL] = '';
  return labels;
}

/** The address a workload gets: in the Service's primary family (a headless Service without families takes the first). */
function addressOf(service: V1Service, w: WorkloadEndpointSource): string | undefined {
  const families = addressTypesOf(service);
  if (families.length > 1 && isHeadless(service) && !service.spec?.ipFamilies?.length) return w.ips[0];
  return w.ips.find((ip) => familyOf(ip) === families[0]);
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const portKey = (ports: CoreV1EndpointPort[]) => JSON.stringify(ports.map((p) => [p.name ?? '', p.port, p.protocol ?? 'TCP', p.appProtocol ?? '']));

/**
 * The subsets of a selector Service: ready workloads in `addresses`, not-ready ones in
 * `notReadyAddresses` (all ready with publishNotReadyAddresses; terminating ones left out unless
 * so), grouped by resolved port set. A workload none of whose ports resolve is left out; a
 * Service without ports lists bare addresses only when headless (as Kubernetes does).
 */
export function desiredSubsets(service: V1Service, workloads: WorkloadEndpointSource[]): V1EndpointSubset[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const servicePorts = service.spec?.ports ?? [];
  if (servicePorts.length === 0 && !isHeadless(service)) return [];
  const groups = new Map<string, { ports: CoreV1EndpointPort[]; ready: V1EndpointAddress[]; notReady: V1EndpointAddress[] }>();
  for (const w of workloads) {
    if (w.revoked || w.namespace !== service.metadata?.namespace || !selectorMatches(service.spec?.selector, w.labels)) continue;
    if (w.terminating && !publishNotReady) continue;
    const ip = addressOf(service, w);
    if (!ip) continue;
    const ports: CoreV1EndpointPort[] = resolvePorts(service, w).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: p.port!,
      protocol: p.protocol ?? 'TCP',
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    }));
    if (servicePorts.length > 0 && ports.length === 0) continue;
    const key = portKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, ready: [], notReady: [] }));
    const address: V1EndpointAddress = { ip, targetRef: { kind: 'ExternalWorkload', namespace: w.namespace, name: w.name, uid: w.uid } };
    if (isHeadless(service)) address.hostname = w.name;
    (publishNotReady || w.ready ? g.ready : g.notReady).push(address);
  }
  // Byte order of the IP, then the workload name (Kubernetes sorts addresses by IP bytes too).
  const byAddress = (a: V1EndpointAddress, b: V1EndpointAddress) => compare(a.ip, b.ip) || compare(a.targetRef?.name ?? '', b.targetRef?.name ?? '');
  return [...groups.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([, g]) => {
      const subset: V1EndpointSubset = {};
      if (g.ready.length) subset.addresses = g.ready.sort(byAddress);
      if (g.notReady.length) subset.notReadyAddresses = g.notReady.sort(byAddress);
      if (g.ports.length) subset.ports = g.ports;
      return subset;
    });
}

/** Kubernetes' cap on addresses in one Endpoints object (the rest is in the EndpointSlices). */
export const MAX_ENDPOINTS_ADDRESSES = 1000;
/** Set to "truncated" when addresses were left out because of the cap, as Kubernetes does. */
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';

/** Keeps at most `max` addresses, ready ones first (in subset order), dropping subsets left empty. */
export function truncateSubsets(subsets: V1EndpointSubset[], max = MAX_ENDPOINTS_ADDRESSES): { subsets: V1EndpointSubset[]; truncated: boolean } {
  const total = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);
  if (total <= max) return { subsets, truncated: false };
  let room = max;
  const take = (list: V1EndpointAddress[] | undefined) => {
    const kept = (list ?? []).slice(0, Math.max(room, 0));
    room -= kept.length;
    return kept;
  };
  const ready = subsets.map((s) => take(s.addresses));
  const notReady = subsets.map((s) => take(s.notReadyAddresses));
  const out = subsets
    .map((s, i) => ({ ...(ready[i].length ? { addresses: ready[i] } : {}), ...(notReady[i].length ? { notReadyAddresses: notReady[i] } : {}), ...(s.ports ? { ports: s.ports } : {}) }))
    .filter((s) => s.addresses || s.notReadyAddresses);
  return { subsets: out, truncated: true };
}

/** The Endpoints object a selector Service should have (same name and namespace, owned by the Service). */
export function desiredEndpoints(service: V1Service, workloads: WorkloadEndpointSource[]): V1Endpoints {
  const { subsets, truncated } = truncateSubsets(desiredSubsets(service, workloads));
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: service.metadata!.name!,
      namespace: service.metadata!.namespace,
      labels: endpointsLabels(service),
      ownerReferences: [ownerReferenceTo(service)],
      ...(truncated ? { annotations: { [OVER_CAPACITY_ANNOTATION]: 'truncated' } } : {}),
    },
    ...(subsets.length ? { subsets } : {}),
  };
}

/**
 * The write for one Service. `existing` is the Endpoints object of the Service's name, if any
 * (ours or not). A selector Service's object is created or updated in place (a hand-made one is
 * taken over, as Kubernetes does) unless Kubernetes' endpoints controller manages it (a real
 * cluster); for a Service without a selector, a user's object is left alone and only ours is deleted. Nothing is written when the content would not change.
 */
export function planEndpoints(service: V1Service | undefined, workloads: WorkloadEndpointSource[], existing: V1Endpoints | undefined): EndpointsPlan {
  if (!mirrorsEndpoints(service)) return existing && isManagedByUs(existing) ? { op: 'delete', endpoints: existing } : { op: 'none' };
  if (isManagedByKubernetes(existing)) return { op: 'none' };
  const desired = desiredEndpoints(service, workloads);
  if (!existing) return { op: 'create', endpoints: desired };
  if (sameEndpoints(existing, desired)) return { op: 'none' };
  const meta = existing.metadata ?? {};
  const annotations = { ...(meta.annotations ?? {}) };
  delete annotations[OVER_CAPACITY_ANNOTATION];
  Object.assign(annotations, desired.metadata?.annotations ?? {});
  desired.metadata = {
    ...desired.metadata,
    ...(Object.keys(annotations).length ? { annotations } : {}),
    ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
  };
  return { op: 'update', endpoints: desired };
}

/** Equal for our purposes: labels, owner, the over-capacity mark, and subsets in canonical form (the API may add defaults or reorder keys). */
export function sameEndpoints(a: V1Endpoints, b: V1Endpoints): boolean {
  const owners = (e: V1Endpoints) => (e.metadata?.ownerReferences ?? []).map((r) => [r.kind, r.name, r.uid, r.controller === true]);
  const labels = (e: V1Endpoints) => Object.entries(e.metadata?.labels ?? {}).sort();
  const capacity = (e: V1Endpoints) => e.metadata?.annotations?.[OVER_CAPACITY_ANNOTATION] ?? '';
  const form = (e: V1Endpoints) => JSON.stringify([labels(e), owners(e), capacity(e), canonicalSubsets(e.subsets)]);
  return form(a) === form(b);
}

function canonicalSubsets(subsets: V1EndpointSubset[] | undefined): string[] {
  const addr = (a: V1EndpointAddress) => [a.ip, a.hostname ?? '', a.nodeName ?? '', a.targetRef?.kind ?? '', a.targetRef?.namespace ?? '', a.targetRef?.name ?? '', a.targetRef?.uid ?? ''];
  return (subsets ?? [])
    .map((s) =>
      JSON.stringify([
        (s.addresses ?? []).map((a) => JSON.stringify(addr(a))).sort(),
        (s.notReadyAddresses ?? []).map((a) => JSON.stringify(addr(a))).sort(),
        (s.ports ?? []).map((p) => JSON.stringify([p.name ?? '', p.port, p.protocol ?? 'TCP', p.appProtocol ?? ''])).sort(),
      ]),
    )
    .sort();
}
