// What the viz knows of an injected pod: its proxy's admin and tap ports on the pod's own IP (set by
// the kubelet, not by the pod's owner), the workload it belongs to as `app` (linkerd.io/proxy-<kind>,
// so `viz stat deploy/api-server` adds up its pods), its ServiceAccount identity, its readiness. Pure.
import { podWorkload, type PodLike, type PodNaming } from '../core/workloads/pod.js';
import type { WorkloadInfo } from './workload-info.js';

/** Injected pods carry this label (src/inject/pod.ts); the viz watches only them. */
export const MESHED_POD_SELECTOR = 'linkerd.io/control-plane-ns';
const OWNER_LABELS = ['linkerd.io/proxy-deployment', 'linkerd.io/proxy-statefulset', 'linkerd.io/proxy-daemonset', 'linkerd.io/proxy-job', 'linkerd.io/proxy-cronjob', 'linkerd.io/proxy-replicaset'];
const ADMIN_PORT = 4191;
const TAP_PORT = 4190;

export function podInfo(pod: PodLike, trustDomain: string, naming: PodNaming): WorkloadInfo | undefined {
  const hasProxy = [...(pod.spec?.initContainers ?? []), ...((pod.spec?.containers ?? []) as { name?: string }[])].some((c) => c.name === 'outpost-proxy');
  if (!hasProxy) return undefined;
  const w = podWorkload(pod, trustDomain, naming);
  const ip = w.ips[0];
  const at = (port: number) => (ip ? (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`) : undefined);
  const owner = OWNER_LABELS.map((l) => w.labels[l]).find(Boolean);
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    key: `${w.namespace}/${w.name}`,
    labels: { namespace: w.namespace, workload: w.name, app: owner ?? w.labels.app ?? w.name, workload_kind: 'pod' },
    identity: w.identity,
    health: ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown',
    adminAddress: at(ADMIN_PORT),
    tapAddress: at(TAP_PORT),
    ports: w.ports,
  };
}
