// Translation of a Service's EndpointSlices (written by Outpost for ExternalWorkloads, or by
// Kubernetes for pods) and the workloads behind them into what a proxy needs. Pure, table-tested.
import { serviceAccountIdentity, type EffectiveWorkload, type WorkloadPort } from '../core/workloads/effective.js';
import { podServerName, type PodNaming } from '../core/workloads/pod.js';
import type { EndpointSnapshot, ProtocolHint, ResolvedEndpoint } from '../api/model.js';
import type { ServerObject } from '../kube/objects.js';
import { OPAQUE_PORTS_ANNOTATION, parsePortList } from '../core/workloads/opaque-ports.js';
import { serverForPort, type SelectableWorkload } from '../kube/servers.js';
import type { EndpointSliceObject, PodObject, ServiceObject, ServicePortSpec, SliceEndpoint } from '../kube/objects.js';

export const INBOUND_PORT_ANNOTATION = 'config.outpost.io/proxy-inbound-port';
export const DEFAULT_INBOUND_PORT = 4143;
export const DEFAULT_WEIGHT = 10_000;
const PROXY_VERSION_ANNOTATIONS = ['linkerd.io/proxy-version', 'outpost.io/proxy-version'];

/** What the translation can look up; the watcher backs these with informer caches, tests with arrays. */
export interface EndpointLookups {
  workload(namespace: string, name: string): EffectiveWorkload | undefined;
  pod(namespace: string, name: string): PodObject | undefined;
  /** Servers of a namespace (for proxyProtocol: opaque). */
  servers(namespace: string): readonly ServerObject[];
  trustDomain: string;
  /** The DNS name meshed pods' certificates carry (`--identity-naming`): the serverName a client verifies. */
  podNaming: PodNaming;
}

export interface ServiceEndpointsInput {
  namespace: string;
  name: string;
  /** The port of the authority (a Service port). */
  port: number;
  service: ServiceObject | undefined;
  /** The Service's EndpointSlices (label kubernetes.io/service-name). */
  slices: readonly EndpointSliceObject[];
}

/** A slice endpoint counts only when ready; Kubernetes treats an absent `ready` as ready. */
export function isReady(ep: SliceEndpoint): boolean {
  return ep.conditions?.ready !== false;
}

/** The ready endpoints of one Service port, keyed and sorted by address:port. */
export function resolveServiceEndpoints(input: ServiceEndpointsInput, lookups: EndpointLookups): EndpointSnapshot {
  const labels = { dst_namespace: input.namespace, dst_service: input.name };
  if (!input.service) return { exists: false, endpoints: [], labels };
  const servicePort = input.service.spec?.ports?.find((p) => p.port === input.port);
  const serviceOpaque = parsePortList(input.service.metadata.annotations?.[OPAQUE_PORTS_ANNOTATION]);
  const byKey = new Map<string, ResolvedEndpoint>();
  for (const slice of input.slices) {
    for (const ep of slice.endpoints ?? []) {
      if (!isReady(ep)) continue;
      const peer = peerOf(ep, input.namespace, lookups);
      if (peer === 'unknown') continue; // the workload is not (yet) known: it is added once it is
      const targetPort = resolveTargetPort(slice, servicePort, input.port, peer?.ports ?? []);
      const opaque = serviceOpaque.has(input.port) || serviceOpaque.has(targetPort) || isOpaqueOnPeer(peer, targetPort, lookups);
      for (const address of ep.addresses ?? []) {
        const resolved: ResolvedEndpoint = {
          address,
          port: targetPort,
          inboundPort: peer?.inboundPort ?? targetPort,
          identity: peer?.identity,
          serverName: peer?.serverName,
          protocolHint: hintFor(opaque, !!peer?.identity),
          weight: DEFAULT_WEIGHT,
          labels: { ...labels, ...(peer?.labels ?? {}), ...(ep.zone ? { dst_zone: ep.zone } : {}) },
          ...(ep.zone ? { zone: ep.zone } : {}),
        };
        byKey.set(endpointKey(resolved), resolved);
      }
    }
  }
  const endpoints = [...byKey.values()].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
  return { exists: true, endpoints, labels, opaque: serviceOpaque.has(input.port) };
}

export function endpointKey(e: Pick<ResolvedEndpoint, 'address' | 'port'>): string {
  return `${e.address}:${e.port}`;
}

function hintFor(opaque: boolean, meshed: boolean): ProtocolHint {
  if (opaque) return 'opaque';
  return meshed ? 'h2' : 'unknown';
}

/** What the endpoint's target tells us: identity, ports, labels; undefined = not meshed; 'unknown' = skip for now. */
interface Peer {
  identity?: string;
  serverName?: string;
  inboundPort: number;
  ports: WorkloadPort[];
  labels: Record<string, string>;
  selectable: SelectableWorkload;
  annotations: Record<string, string>;
}

function peerOf(ep: SliceEndpoint, namespace: string, lookups: EndpointLookups): Peer | undefined | 'unknown' {
  const ref = ep.targetRef;
  if (!ref?.name) return undefined;
  const ns = ref.namespace ?? namespace;
  if (ref.kind === 'ExternalWorkload') {
    const w = lookups.workload(ns, ref.name);
    if (!w) return 'unknown';
    return externalWorkloadPeer(w);
  }
  if (ref.kind === 'Pod') {
    const pod = lookups.pod(ns, ref.name);
    return pod ? podPeer(pod, lookups) : undefined;
  }
  return undefined;
}

export function inboundPortOf(annotations: Record<string, string>): number {
  const v = Number(annotations[INBOUND_PORT_ANNOTATION]);
  return Number.isInteger(v) && v > 0 && v < 65536 ? v : DEFAULT_INBOUND_PORT;
}

export function externalWorkloadPeer(w: EffectiveWorkload): Peer {
  return {
    identity: w.identity,
    serverName: w.serverName,
    inboundPort: inboundPortOf(w.annotations),
    ports: w.ports,
    labels: { dst_external_workload: w.name },
    selectable: w,
    annotations: w.annotations,
  };
}

/** A pod is meshed when its proxy announced itself (proxy-version annotation); it then runs as its ServiceAccount. */
function podPeer(pod: PodObject, { trustDomain, podNaming }: Pick<EndpointLookups, 'trustDomain' | 'podNaming'>): Peer | undefined {
  const ns = pod.metadata.namespace ?? 'default';
  const annotations = pod.metadata.annotations ?? {};
  const ports = (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => ({ name: p.name, port: p.containerPort })));
  const meshed = PROXY_VERSION_ANNOTATIONS.some((a) => annotations[a]);
  const sa = pod.spec?.serviceAccountName || 'default';
  return {
    identity: meshed ? serviceAccountIdentity(ns, sa, trustDomain) : undefined,
    serverName: meshed ? podServerName(ns, sa, trustDomain, podNaming) : undefined,
    inboundPort: inboundPortOf(annotations),
    ports,
    labels: { dst_pod: pod.metadata.name ?? '' },
    selectable: { namespace: ns, labels: pod.metadata.labels ?? {}, ports },
    annotations,
  };
}

function isOpaqueOnPeer(peer: Peer | undefined, targetPort: number, lookups: EndpointLookups): boolean {
  if (!peer) return false;
  if (parsePortList(peer.annotations[OPAQUE_PORTS_ANNOTATION]).has(targetPort)) return true;
  const server = serverForPort(lookups.servers(peer.selectable.namespace), peer.selectable, targetPort);
  return (server?.spec?.proxyProtocol ?? '').toLowerCase() === 'opaque';
}

/** The slice port named like the Service port; else the Service's targetPort (number, or a name on the workload); else the port itself. */
export function resolveTargetPort(slice: EndpointSliceObject, servicePort: ServicePortSpec | undefined, port: number, workloadPorts: WorkloadPort[]): number {
  const wanted = servicePort?.name ?? '';
  const slicePort = (slice.ports ?? []).find((p) => (p.name ?? '') === wanted && typeof p.port === 'number');
  if (slicePort?.port) return slicePort.port;
  const target = servicePort?.targetPort;
  if (typeof target === 'number') return target;
  if (typeof target === 'string') {
    if (/^\d+$/.test(target)) return Number(target);
    const named = workloadPorts.find((p) => p.name === target);
    if (named) return named.port;
  }
  return port;
}

/** Profile of one "ip:port": the ExternalWorkload (or pod) with that IP, if any. */
export function resolveAddressProfile(
  address: string,
  port: number,
  candidates: { workloads: readonly EffectiveWorkload[]; pods: readonly PodObject[] },
  lookups: EndpointLookups,
): { opaque: boolean; endpoint?: ResolvedEndpoint } {
  const w = candidates.workloads.find((x) => x.ips.includes(address));
  const pod = w ? undefined : candidates.pods.find((p) => p.status?.podIP === address || (p.status?.podIPs ?? []).some((i) => i.ip === address));
  const peer = w ? externalWorkloadPeer(w) : pod ? podPeer(pod, lookups) : undefined;
  if (!peer) return { opaque: false };
  const namespace = peer.selectable.namespace;
  const opaque = isOpaqueOnPeer(peer, port, lookups);
  return {
    opaque,
    endpoint: {
      address,
      port,
      inboundPort: peer.inboundPort,
      identity: peer.identity,
      serverName: peer.serverName,
      protocolHint: hintFor(opaque, !!peer.identity),
      weight: DEFAULT_WEIGHT,
      labels: { dst_namespace: namespace, ...peer.labels },
    },
  };
}
