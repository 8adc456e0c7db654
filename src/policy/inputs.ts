// Gathers the inputs of computeInboundPolicy from a MeshView (informer caches), so that the
// gRPC service and `outpost diagnostics policy` compute from the same objects the same way.
import type { EffectiveWorkload } from '../core/workloads/effective.js';
import type { KindName } from '../kube/kinds.js';
import type { MeshView } from '../kube/mesh-view.js';
import type { InboundPortPolicy } from '../api/model.js';
import { computeInboundPolicy, type DefaultPolicy } from './compute.js';
import type { NamespaceObject } from '../kube/objects.js';

export const POLICY_KINDS: readonly KindName[] = [
  'namespaces',
  'externalworkloads',
  'workloadgroups',
  'servers',
  'serverauthorizations',
  'authorizationpolicies',
  'meshtlsauthentications',
  'networkauthentications',
  'httproutes',
  // Injected pods ask for their inbound policy too (src/core/workloads/pod.ts).
  'pods',
];

export function policyFromView(view: MeshView, workload: EffectiveWorkload, port: number, clusterDefault: DefaultPolicy): InboundPortPolicy {
  const ns = workload.namespace;
  return computeInboundPolicy({
    workload,
    port,
    namespace: view.get<NamespaceObject>('namespaces', undefined, ns),
    servers: view.list('servers', ns),
    serverAuthorizations: view.list('serverauthorizations', ns),
    authorizationPolicies: view.list('authorizationpolicies', ns),
    httpRoutes: view.list('httproutes', ns),
    meshTlsAuthentications: view.list('meshtlsauthentications'),
    networkAuthentications: view.list('networkauthentications'),
    workloads: view.workloads(),
    clusterDefault,
    trustDomain: view.trustDomain,
  });
}
