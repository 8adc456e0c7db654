// What each control-plane component is given in a cluster: its ServiceAccount, what it may read,
// watch and write (RBAC rules, cluster-wide and in the `outpost` namespace), and its ports. Rules
// list only the calls the component's code makes (docs/kubernetes.md, "RBAC per component"); the
// read-only informer kinds of destination and policy come from their own kind lists, so a kind
// they start to watch is granted here too. A new component (the pod injector) adds one entry to
// INSTALL_COMPONENTS and gets its ServiceAccount, roles, Deployment, Service and PDB.
import { KIND_PATHS, type KindName } from '../kube/kinds.js';
import { DESTINATION_KINDS } from '../kube/mesh-view.js';
import { POLICY_KINDS } from '../policy/inputs.js';
import { TRUST_ROOTS_CONFIGMAP } from '../identity/kube.js';
import { JWT_KEY_SECRET } from '../identity/jwt-key-secret.js';
import { LEASE_NAME } from '../controllers/run.js';
import { REVOCATIONS_CONFIGMAP } from '../core/workloads/revocation.js';
import { injectorInstallComponent } from './injector.js';
import { declareComponent, READ, type InstallComponent, type PolicyRule } from './component-spec.js';

export const INSTALL_NAMESPACE = 'outpost';

/** read-only rules for informer kinds (grouped by API group), from the kinds' list paths. */
export function readRules(kinds: readonly KindName[]): PolicyRule[] {
  const byGroup = new Map<string, string[]>();
  for (const kind of kinds) {
    const m = /^\/apis?\/(?:([^/]+)\/)?v[^/]+\/([^/]+)$/.exec(KIND_PATHS[kind].replace(/^\/api\/v1\//, '/api/core/v1/'));
    if (!m) throw new Error(`cannot read the group of ${KIND_PATHS[kind]}`);
    const group = m[1] === 'core' ? '' : m[1];
    byGroup.set(group, [...(byGroup.get(group) ?? []), m[2]]);
  }
  return [...byGroup].map(([group, resources]) => ({ apiGroups: [group], resources, verbs: READ }));
}

const identity = declareComponent('identity', {
  summary: 'certifies workloads (TokenReview of their ServiceAccount tokens) and publishes the trust roots',
  clusterRules: [
    { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    { apiGroups: [''], resources: ['serviceaccounts'], verbs: READ },
    // allowed-server-names annotations (docs/adr/0016).
    { apiGroups: [''], resources: ['namespaces'], verbs: READ },
    // create/patch: auto-registration of WorkloadGroup members (src/identity/registrar.ts).
    { apiGroups: ['workload.linkerd.io'], resources: ['externalworkloads'], verbs: [...READ, 'create', 'patch'] },
    { apiGroups: ['workload.linkerd.io'], resources: ['workloadgroups'], verbs: READ },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ],
  namespaceRules: [
    // create cannot be limited to a name (the name is in the body); get/update can.
    { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'update'], resourceNames: [TRUST_ROOTS_CONFIGMAP] },
    // Records of used bootstrap tokens (src/identity/token-ledger.ts, docs/adr/0018): created above,
    // read on a retry, listed and deleted once their token expired.
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'delete'] },
    // Its JWT-SVID signing key (src/identity/jwt-key-secret.ts): that one Secret, which `outpost install` renders empty.
    { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'update'], resourceNames: [JWT_KEY_SECRET] },
  ],
  port: { name: 'grpc', number: 8080 },
});

const destination = declareComponent('destination', {
  summary: 'serves discovery (endpoints, identities, protocol hints) to proxies',
  clusterRules: readRules(DESTINATION_KINDS),
  // The revocation list (revoked client certificates are refused): an informer over the namespace's ConfigMaps.
  namespaceRules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }],
  port: { name: 'grpc', number: 8086 },
});

const policy = declareComponent('policy', {
  summary: 'serves inbound policy (Servers, authorizations, routes) and the revocation list to proxies',
  clusterRules: readRules(POLICY_KINDS),
  // The revocation list: an informer over the namespace's ConfigMaps (a list cannot be limited by name).
  namespaceRules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }],
  port: { name: 'grpc', number: 8090 },
});

const controllers = declareComponent('controllers', {
  service: 'health',
  summary: 'writes EndpointSlices and Endpoints for external workloads, WorkloadGroup status, Ready conditions (health API)',
  clusterRules: [
    { apiGroups: [''], resources: ['services'], verbs: READ },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: [...READ, 'create', 'update', 'delete'] },
    { apiGroups: [''], resources: ['endpoints'], verbs: [...READ, 'create', 'update', 'delete'] },
    // patch: the effective-labels annotation; delete: auto-registered members whose heartbeat is gone.
    { apiGroups: ['workload.linkerd.io'], resources: ['externalworkloads'], verbs: [...READ, 'patch', 'delete'] },
    { apiGroups: ['workload.linkerd.io'], resources: ['workloadgroups'], verbs: READ },
    { apiGroups: ['workload.linkerd.io'], resources: ['externalworkloads/status', 'workloadgroups/status'], verbs: ['patch'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ],
  namespaceRules: [
    // The revocation list (the health API ignores revoked certificates).
    { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], resourceNames: [LEASE_NAME] },
  ],
  port: { name: 'health', number: 8087 },
  // Two replicas: the Lease elects the one that writes; both serve the health API.
  replicas: 2,
});

const viz = declareComponent('viz', {
  summary: 'scrapes proxy metrics, serves stat/edges/routes/top/tap and the dashboard',
  clusterRules: [
    { apiGroups: ['workload.linkerd.io'], resources: ['externalworkloads', 'workloadgroups'], verbs: READ },
    { apiGroups: ['policy.linkerd.io'], resources: ['httproutes'], verbs: READ },
    // Injected pods' proxies are scraped too (src/viz/pod-targets.ts).
    { apiGroups: [''], resources: ['pods'], verbs: READ },
  ],
  port: { name: 'https', number: 8084 },
});

/** Where every component but identity dials the identity service for its serving certificate (`--identity-address`, docs/adr/0022). */
export const IDENTITY_SERVICE_ADDRESS = 'outpost-identity.outpost.svc.cluster.local:8080';

/** The others run apart from identity: they read the trust anchors it publishes (that one ConfigMap). */
const withTrustRootsRead = (c: InstallComponent): InstallComponent => ({
  ...c,
  namespaceRules: [...c.namespaceRules, { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: [TRUST_ROOTS_CONFIGMAP] }],
});

/** Every component `outpost install` renders, in start order (identity first). */
export const INSTALL_COMPONENTS: InstallComponent[] = [identity, ...[destination, policy, controllers, viz, injectorInstallComponent].map(withTrustRootsRead)];

/** Names of ConfigMaps in `outpost` the components read or write, for docs and tests. */
export const OUTPOST_CONFIGMAPS = [TRUST_ROOTS_CONFIGMAP, REVOCATIONS_CONFIGMAP];
