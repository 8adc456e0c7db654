// Names the controllers write and read: labels, annotations and condition reasons, in one place so
// that docs/endpoints.md, the destination service and tests agree on them.

/** Label on every EndpointSlice: which Service it belongs to (Kubernetes' own name). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Label on every EndpointSlice: which controller manages it (Kubernetes' own key, our value). */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'outpost-external-workloads-controller';
/** Set (empty value) on slices of headless Services, like the Kubernetes EndpointSlice controller. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** Zone of an endpoint, read from the workload's effective labels. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** An ExternalWorkload annotated "true" counts as ready until a proxy reports for it (it runs no proxy). */
export const ASSUME_READY_ANNOTATION = 'outpost.io/assume-ready';
/** On a WorkloadGroup: how long its members stay ready after their proxy stops reporting (e.g. "45s"). */
export const DISCONNECT_GRACE_ANNOTATION = 'outpost.io/disconnect-grace';
/** On a group member: its effective labels (group template + own), "k=v,k=v" sorted, as `--show-labels` prints them. */
export const EFFECTIVE_LABELS_ANNOTATION = 'outpost.io/effective-labels';

/** Reasons of the Ready condition. The first two mean "no proxy has reported yet". */
export const REASON = {
  awaitingProxy: 'AwaitingProxy',
  assumedReady: 'AssumedReady',
  probesPassing: 'ProbesPassing',
  probesFailing: 'ProbesFailing',
  heartbeatLost: 'HeartbeatLost',
} as const;

export const WORKLOAD_GROUP = 'workload.linkerd.io';
export const WORKLOAD_VERSION = 'v1beta1';

/** Labels as `kubectl get --show-labels` prints them: "k=v,k=v", sorted by key. */
export function formatLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}
