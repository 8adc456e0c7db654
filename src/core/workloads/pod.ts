// A meshed pod as the workload the policy service and the viz reason about: its ServiceAccount's
// identity (the same naming as a VM bound to that ServiceAccount, ADR 0002), Linkerd's server name
// for pods, its labels and annotations, IPs and container ports. Pure.
import { serviceAccountIdentity, type EffectiveWorkload } from './effective.js';

export interface PodLike {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string };
  spec?: { serviceAccountName?: string; containers?: { ports?: { name?: string; containerPort: number }[] }[]; initContainers?: { name: string }[] };
  status?: { podIP?: string; podIPs?: { ip: string }[]; conditions?: { type: string; status: string }[] };
}

/**
 * How pods' certificates are named (`outpost up --identity-naming`, docs/adr/0026): `spiffe`, Outpost's
 * own; `linkerd`, the names a Linkerd control plane (namespace `linkerd`) gives the same ServiceAccount,
 * for Outpost running under an imported Linkerd issuer. The SPIFFE URI SAN is the same in both.
 */
export const POD_NAMINGS = ['spiffe', 'linkerd'] as const;
export type PodNaming = (typeof POD_NAMINGS)[number];

/**
 * The server name (DNS SAN) of a pod's certificate, as the destination service announces the pod:
 * Linkerd's form `<sa>.<ns>.serviceaccount.identity.<control-plane namespace>.<trust domain>`, with
 * Outpost's namespace (`outpost`) or, under `linkerd` naming, Linkerd's.
 */
export function podServerName(namespace: string, serviceAccount: string, trustDomain: string, naming: PodNaming): string {
  const controlPlane = naming === 'linkerd' ? 'linkerd' : 'outpost';
  return `${serviceAccount}.${namespace}.serviceaccount.identity.${controlPlane}.${trustDomain}`;
}

export function podWorkload(pod: PodLike, trustDomain: string, naming: PodNaming): EffectiveWorkload {
  const namespace = pod.metadata?.namespace ?? 'default';
  const sa = pod.spec?.serviceAccountName || 'default';
  const ips = pod.status?.podIPs?.length ? pod.status.podIPs.map((i) => i.ip) : pod.status?.podIP ? [pod.status.podIP] : [];
  return {
    kind: 'Pod',
    namespace,
    name: pod.metadata?.name ?? '',
    labels: { ...(pod.metadata?.labels ?? {}) },
    annotations: { ...(pod.metadata?.annotations ?? {}) },
    identity: serviceAccountIdentity(namespace, sa, trustDomain),
    serverName: podServerName(namespace, sa, trustDomain, naming),
    serviceAccount: sa,
    ips,
    ports: (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => ({ name: p.name, port: p.containerPort }))),
    probes: [],
  };
}
