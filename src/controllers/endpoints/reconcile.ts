// The pure half of the EndpointSlice controller (like linkerd2's external-workload reconciler):
// from one Service, the workloads its selector matches and the slices we already manage for it,
// compute the slices to create, update in place and delete. No I/O; table-tested.
import type { DiscoveryV1EndpointPort, V1Endpoint, V1EndpointSlice, V1OwnerReference, V1Service } from '@kubernetes/client-node';
import { serviceSelectorMatches as selectorMatches } from '../../kube/selectors.js';
import { HEADLESS_LABEL, MANAGED_BY, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, ZONE_LABEL } from '../labels.js';
import type { WorkloadEndpointSource } from './source.js';

/** Kubernetes' limit per EndpointSlice (maxEndpointsPerSlice default of the EndpointSlice controller). */
export const MAX_ENDPOINTS_PER_SLICE = 100;

export type AddressType = 'IPv4' | 'IPv6';

export interface SlicePlan {
  create: V1EndpointSlice[];
  update: V1EndpointSlice[];
  delete: V1EndpointSlice[];
}

export function isEmptyPlan(p: SlicePlan): boolean {
  return p.create.length === 0 && p.update.length === 0 && p.delete.length === 0;
}

/** Address families a Service's endpoints come in: spec.ipFamilies, else from the cluster IP; headless without families takes both. */
export function addressTypesOf(service: V1Service): AddressType[] {
  const families = service.spec?.ipFamilies;
  if (families?.length) return families.filter((f): f is AddressType => f === 'IPv4' || f === 'IPv6');
  const clusterIP = service.spec?.clusterIP;
  if (!clusterIP || clusterIP === 'None') return ['IPv4', 'IPv6'];
  return [clusterIP.includes(':') ? 'IPv6' : 'IPv4'];
}

export function isHeadless(service: V1Service): boolean {
  return service.spec?.clusterIP === 'None';
}

export function familyOf(ip: string): AddressType | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return 'IPv4';
  if (ip.includes(':')) return 'IPv6';
  return undefined;
}

/** The Service's ports as this workload serves them; a named targetPort the workload lacks is left out (as Kubernetes does for pods). */
export function resolvePorts(service: V1Service, workload: WorkloadEndpointSource): DiscoveryV1EndpointPort[] {
  const out: DiscoveryV1EndpointPort[] = [];
  for (const sp of service.spec?.ports ?? []) {
    const target = sp.targetPort ?? sp.port;
    let port: number | undefined;
    if (typeof target === 'number') port = target;
    else if (/^\d+$/.test(String(target))) port = Number(target);
    else port = workload.ports.find((p) => p.name === target)?.port;
    if (port === undefined) continue;
    const ep: DiscoveryV1EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

/** Labels every slice of this Service carries: the Service's own, then ours (which win). */
export function sliceLabels(service: V1Service): Record<string, string> {
  const labels: Record<string, string> = { ...(service.metadata?.labels ?? {}) };
  delete labels[HEADLESS_LABEL];
  labels[SERVICE_NAME_LABEL] = service.metadata!.name!;
  labels[MANAGED_BY_LABEL] = MANAGED_BY;
  if (isHeadless(service)) labels[HEADLESS_LABEL] = '';
  return labels;
}

export function ownerReferenceTo(service: V1Service): V1OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: service.metadata!.name!, uid: service.metadata!.uid ?? '', controller: true, blockOwnerDeletion: true };
}

function endpointFor(service: V1Service, w: WorkloadEndpointSource, address: string): V1Endpoint {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const ep: V1Endpoint = {
    addresses: [address],
    conditions: { ready: publishNotReady || (w.ready && !w.terminating), serving: publishNotReady || w.ready, terminating: w.terminating },
    targetRef: { kind: 'ExternalWorkload', namespace: w.namespace, name: w.name, uid: w.uid },
  };
  if (isHeadless(service)) ep.hostname = w.name;
  const zone = w.labels[ZONE_LABEL];
  if (zone) ep.zone = zone;
  return ep;
}

const endpointKey = (ep: V1Endpoint) => `${ep.targetRef?.uid || ep.targetRef?.name || ''}|${ep.addresses[0] ?? ''}`;
const portsKey = (ports: DiscoveryV1EndpointPort[] | undefined) =>
  JSON.stringify([...(ports ?? [])].map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? '']).sort());

interface DesiredGroup {
  ports: DiscoveryV1EndpointPort[];
  endpoints: Map<string, V1Endpoint>;
}

/** Desired endpoints of one address family, grouped by port set (a slice has one port set). */
function desiredGroups(service: V1Service, workloads: WorkloadEndpointSource[], family: AddressType): Map<string, DesiredGroup> {
  const groups = new Map<string, DesiredGroup>();
  const sorted = [...workloads].sort((a, b) => a.name.localeCompare(b.name));
  for (const w of sorted) {
    if (w.revoked || w.namespace !== service.metadata?.namespace || !selectorMatches(service.spec?.selector, w.labels)) continue;
    const address = w.ips.find((ip) => familyOf(ip) === family);
    if (!address) continue;
    const ports = resolvePorts(service, w);
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: new Map() }));
    const ep = endpointFor(service, w, address);
    g.endpoints.set(endpointKey(ep), ep);
  }
  return groups;
}

interface Slot {
  original?: V1EndpointSlice;
  name?: string;
  portKey: string;
  ports: DiscoveryV1EndpointPort[];
  endpoints: V1Endpoint[];
}

/**
 * Computes the writes that bring `existing` (the slices labelled managed-by us for this Service)
 * to the desired state. Endpoints stay in the slice they are in; new ones fill slices with room,
 * then reuse slices whose port set is gone (update, not delete+create), then new slices; a slice
 * left empty is deleted. Nothing is listed for a slice whose content would not change.
 */
export function reconcileEndpointSlices(service: V1Service, workloads: WorkloadEndpointSource[], existing: V1EndpointSlice[]): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const selects = Boolean(service.spec?.selector && Object.keys(service.spec.selector).length) && service.spec?.type !== 'ExternalName';
  const families = selects ? addressTypesOf(service) : [];
  const usedNames = new Set(existing.map((s) => s.metadata?.name ?? ''));
  const labels = sliceLabels(service);
  const owner = ownerReferenceTo(service);

  for (const s of existing) if (!families.includes(s.addressType as AddressType)) plan.delete.push(s);

  for (const family of families) {
    const desired = desiredGroups(service, workloads, family);
    const slots: Slot[] = [];
    const stale: V1EndpointSlice[] = [];
    const placed = new Set<string>();
    const ofFamily = existing.filter((s) => s.addressType === family).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    for (const s of ofFamily) {
      const key = portsKey(s.ports);
      const group = desired.get(key);
      if (!group) {
        stale.push(s);
        continue;
      }
      const kept: V1Endpoint[] = [];
      for (const ep of s.endpoints ?? []) {
        const k = endpointKey(ep);
        const want = group.endpoints.get(k);
        if (want && !placed.has(k) && kept.length < MAX_ENDPOINTS_PER_SLICE) {
          kept.push(want);
          placed.add(k);
        }
      }
      slots.push({ original: s, name: s.metadata?.name, portKey: key, ports: group.ports, endpoints: kept });
    }
    for (const [key, group] of desired) {
      const remaining = [...group.endpoints.entries()].filter(([k]) => !placed.has(k)).map(([, ep]) => ep);
      // Fill slices that change anyway first, then the fullest, so that few slices are written.
      const candidates = slots
        .filter((s) => s.portKey === key)
        .sort((a, b) => Number(sliceChanged(b, labels, owner)) - Number(sliceChanged(a, labels, owner)) || b.endpoints.length - a.endpoints.length);
      for (const slot of candidates) {
        while (remaining.length && slot.endpoints.length < MAX_ENDPOINTS_PER_SLICE) slot.endpoints.push(remaining.shift()!);
      }
      while (remaining.length) {
        const reuse = stale.shift();
        const slot: Slot = { original: reuse, name: reuse?.metadata?.name, portKey: key, ports: group.ports, endpoints: remaining.splice(0, MAX_ENDPOINTS_PER_SLICE) };
        slots.push(slot);
      }
    }
    plan.delete.push(...stale);
    for (const slot of slots) {
      if (slot.endpoints.length === 0) {
        if (slot.original) plan.delete.push(slot.original);
        continue;
      }
      slot.endpoints.sort((a, b) => (a.targetRef?.name ?? '').localeCompare(b.targetRef?.name ?? '') || endpointKey(a).localeCompare(endpointKey(b)));
      if (slot.original && !sliceChanged(slot, labels, owner)) continue;
      const name = slot.name ?? nextSliceName(service.metadata!.name!, family, usedNames);
      const slice: V1EndpointSlice = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name,
          namespace: service.metadata!.namespace,
          labels: { ...labels },
          ownerReferences: [owner],
          ...(slot.original?.metadata?.annotations ? { annotations: slot.original.metadata.annotations } : {}),
          ...(slot.original?.metadata?.resourceVersion ? { resourceVersion: slot.original.metadata.resourceVersion } : {}),
        },
        addressType: family,
        endpoints: slot.endpoints,
        ports: slot.ports,
      };
      (slot.original ? plan.update : plan.create).push(slice);
    }
  }
  return plan;
}

function sliceChanged(slot: Slot, labels: Record<string, string>, owner: V1OwnerReference): boolean {
  const s = slot.original;
  if (!s) return true;
  if (!sameRecord(s.metadata?.labels ?? {}, labels)) return true;
  const refs = s.metadata?.ownerReferences ?? [];
  if (refs.length !== 1 || refs[0].uid !== owner.uid || refs[0].name !== owner.name || refs[0].kind !== 'Service' || refs[0].controller !== true) return true;
  if (portsKey(s.ports) !== slot.portKey) return true;
  const before = (s.endpoints ?? []).map(normalEndpoint).sort();
  const after = slot.endpoints.map(normalEndpoint).sort();
  return before.length !== after.length || before.some((e, i) => e !== after[i]);
}

/** An endpoint in a canonical form for comparison (the API may omit empty fields or reorder keys). */
function normalEndpoint(ep: V1Endpoint): string {
  return JSON.stringify([
    ep.addresses ?? [],
    ep.conditions?.ready ?? null,
    ep.conditions?.serving ?? null,
    ep.conditions?.terminating ?? null,
    ep.targetRef?.kind ?? '',
    ep.targetRef?.namespace ?? '',
    ep.targetRef?.name ?? '',
    ep.targetRef?.uid ?? '',
    ep.hostname ?? '',
    ep.zone ?? '',
  ]);
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** Deterministic slice names: "<service>-ew-<n>" (IPv4) or "<service>-ew6-<n>", the lowest n not in use. */
export function nextSliceName(serviceName: string, family: AddressType, used: Set<string>): string {
  const base = `${serviceName.slice(0, 200)}-${family === 'IPv4' ? 'ew' : 'ew6'}-`;
  for (let n = 0; ; n++) {
    const name = base + n;
    if (!used.has(name)) {
      used.add(name);
      return name;
    }
  }
}
