// The resource types the control plane lists and watches, by the plural name used everywhere
// (metrics, views), with their list/watch paths at the versions the embedded API stores.

export const KIND_PATHS = {
  namespaces: '/api/v1/namespaces',
  services: '/api/v1/services',
  serviceaccounts: '/api/v1/serviceaccounts',
  pods: '/api/v1/pods',
  endpoints: '/api/v1/endpoints',
  configmaps: '/api/v1/configmaps',
  endpointslices: '/apis/discovery.k8s.io/v1/endpointslices',
  externalworkloads: '/apis/workload.linkerd.io/v1beta1/externalworkloads',
  workloadgroups: '/apis/workload.linkerd.io/v1beta1/workloadgroups',
  servers: '/apis/policy.linkerd.io/v1beta3/servers',
  serverauthorizations: '/apis/policy.linkerd.io/v1beta1/serverauthorizations',
  authorizationpolicies: '/apis/policy.linkerd.io/v1alpha1/authorizationpolicies',
  meshtlsauthentications: '/apis/policy.linkerd.io/v1alpha1/meshtlsauthentications',
  networkauthentications: '/apis/policy.linkerd.io/v1alpha1/networkauthentications',
  httproutes: '/apis/policy.linkerd.io/v1beta3/httproutes',
} as const;
export type KindName = keyof typeof KIND_PATHS;

/** The list/watch path of a kind, cluster-wide or in one namespace. */
export function kindPath(kind: KindName, namespace?: string): string {
  const path: string = KIND_PATHS[kind];
  if (namespace === undefined) return path;
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash)}/namespaces/${encodeURIComponent(namespace)}${path.slice(slash)}`;
}
