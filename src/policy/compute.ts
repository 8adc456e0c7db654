// The inbound policy of one workload port, computed from Servers, ServerAuthorizations,
// AuthorizationPolicies (+ MeshTLS/NetworkAuthentication, HTTPRoutes) and default policies. Pure:
// the gRPC service and `outpost diagnostics policy` both call it. Rules: docs/policy.md.
import { serviceAccountIdentity, type EffectiveWorkload } from '../core/workloads/effective.js';
import { serviceRouteOf } from '../core/routes/http-route.js';
import type { Authorization, HttpRoutePolicy, InboundPortPolicy } from '../api/model.js';
import type {
  AuthorizationPolicyObject,
  HttpRouteObject,
  MeshTlsAuthenticationObject,
  NamespaceObject,
  NetworkAuthenticationObject,
  ServerAuthorizationObject,
  ServerObject,
  TargetRef,
} from '../kube/objects.js';
import { OPAQUE_PORTS_ANNOTATION, parsePortList } from '../core/workloads/opaque-ports.js';
import { serverForPort } from '../kube/servers.js';
import { selectorMatches } from '../kube/selectors.js';
import { proxyProtocolOf } from './servers.js';

export const DEFAULT_POLICY_ANNOTATION = 'config.linkerd.io/default-inbound-policy';
export const DEFAULT_POLICIES = ['all-unauthenticated', 'all-authenticated', 'cluster-unauthenticated', 'cluster-authenticated', 'deny'] as const;
export type DefaultPolicy = (typeof DEFAULT_POLICIES)[number];

/** Linkerd's default cluster networks, plus loopback because embedded-mode workloads live on 127.0.0.0/8. */
export const DEFAULT_CLUSTER_NETWORKS = ['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8', '127.0.0.0/8', '::1/128'];
const ALL_NETWORKS = [
  { net: '0.0.0.0/0', except: [] },
  { net: '::/0', except: [] },
];

export function isDefaultPolicy(s: string | undefined): s is DefaultPolicy {
  return !!s && (DEFAULT_POLICIES as readonly string[]).includes(s);
}

export interface PolicyInputs {
  workload: EffectiveWorkload;
  port: number;
  /** The workload's Namespace object, if known (its annotation can change the default policy). */
  namespace?: NamespaceObject;
  /** Objects of the workload's namespace (others are ignored). */
  servers: readonly ServerObject[];
  serverAuthorizations: readonly ServerAuthorizationObject[];
  authorizationPolicies: readonly AuthorizationPolicyObject[];
  httpRoutes: readonly HttpRouteObject[];
  /** Authentications may be referenced across namespaces. */
  meshTlsAuthentications: readonly MeshTlsAuthenticationObject[];
  networkAuthentications: readonly NetworkAuthenticationObject[];
  /** Every workload, to expand ServiceAccount references to the identities of bound workloads. */
  workloads: readonly EffectiveWorkload[];
  /** The cluster-wide default (the --default-inbound-policy flag). */
  clusterDefault: DefaultPolicy;
  trustDomain: string;
  clusterNetworks?: string[];
}

/** The default policy of a workload: its annotation, else its namespace's, else the cluster's. Unknown values are ignored. */
export function defaultPolicyFor(workload: EffectiveWorkload, namespace: NamespaceObject | undefined, clusterDefault: DefaultPolicy): DefaultPolicy {
  const own = workload.annotations[DEFAULT_POLICY_ANNOTATION];
  if (isDefaultPolicy(own)) return own;
  const ns = namespace?.metadata.annotations?.[DEFAULT_POLICY_ANNOTATION];
  if (isDefaultPolicy(ns)) return ns;
  return clusterDefault;
}

export function computeInboundPolicy(input: PolicyInputs): InboundPortPolicy {
  const { workload, port } = input;
  const inNs = <T extends { metadata: { namespace?: string } }>(xs: readonly T[]) => xs.filter((x) => (x.metadata.namespace ?? 'default') === workload.namespace);
  const server = serverForPort(inNs(input.servers), workload, port);
  if (!server) return defaultPortPolicy(input);
  const serverName = server.metadata.name ?? '';
  const authorizations: Authorization[] = [];
  for (const sa of sortByName(inNs(input.serverAuthorizations))) {
    const target = sa.spec?.server;
    const selects = target?.name ? target.name === serverName : selectorMatches(target?.selector, server.metadata.labels ?? {});
    if (!selects) continue;
    const authz = fromServerAuthorization(sa, input);
    if (authz) authorizations.push(authz);
  }
  const policies = sortByName(inNs(input.authorizationPolicies));
  for (const ap of policies) {
    const ref = ap.spec?.targetRef;
    const targetsServer = refIs(ref, 'Server') && ref?.name === serverName;
    const targetsNamespace = refIs(ref, 'Namespace') && (!ref?.name || ref.name === workload.namespace);
    if (!targetsServer && !targetsNamespace) continue;
    const authz = fromAuthorizationPolicy(ap, input);
    if (authz) authorizations.push(authz);
  }
  const httpRoutes: HttpRoutePolicy[] = [];
  for (const route of sortByName(inNs(input.httpRoutes))) {
    if (!(route.spec?.parentRefs ?? []).some((p) => refIs(p, 'Server') && p.name === serverName)) continue;
    const routeName = route.metadata.name ?? '';
    const routeAuthz = policies
      .filter((ap) => refIs(ap.spec?.targetRef, 'HTTPRoute') && ap.spec?.targetRef?.name === routeName)
      .map((ap) => fromAuthorizationPolicy(ap, input))
      .filter((a): a is Authorization => !!a);
    // Whole matches (path type and value, method, headers, query params), never a cross product
    // of their parts: the proxy evaluates them with the outbound side's matcher (core/routes).
    httpRoutes.push({ labels: { kind: 'httproute', name: routeName }, matches: serviceRouteOf(route).matches, authorizations: routeAuthz });
  }
  return { protocol: proxyProtocolOf(server), authorizations, httpRoutes, labels: { kind: 'server', name: serverName } };
}

function defaultPortPolicy(input: PolicyInputs): InboundPortPolicy {
  const policy = defaultPolicyFor(input.workload, input.namespace, input.clusterDefault);
  const labels = { kind: 'default', name: policy };
  const cluster = (input.clusterNetworks ?? DEFAULT_CLUSTER_NETWORKS).map((net) => ({ net, except: [] }));
  const authorizations: Authorization[] = [];
  switch (policy) {
    case 'all-unauthenticated':
      authorizations.push({ networks: ALL_NETWORKS, authentication: { kind: 'unauthenticated' }, labels });
      break;
    case 'all-authenticated':
      authorizations.push({ networks: ALL_NETWORKS, authentication: { kind: 'meshTLS', identities: ['*'] }, labels });
      break;
    case 'cluster-unauthenticated':
      authorizations.push({ networks: cluster, authentication: { kind: 'unauthenticated' }, labels });
      break;
    case 'cluster-authenticated':
      authorizations.push({ networks: cluster, authentication: { kind: 'meshTLS', identities: ['*'] }, labels });
      break;
    case 'deny':
      break;
  }
  const opaque = parsePortList(input.workload.annotations[OPAQUE_PORTS_ANNOTATION]).has(input.port);
  return { protocol: opaque ? 'opaque' : 'detect', authorizations, httpRoutes: [], labels };
}

/** Identities a ServiceAccount stands for: its SPIFFE id and those of every workload bound to it (docs/adr/0002). */
export function serviceAccountIdentities(namespace: string, name: string, workloads: readonly EffectiveWorkload[], trustDomain: string): string[] {
  const ids = new Set([serviceAccountIdentity(namespace, name, trustDomain)]);
  for (const w of workloads) if (w.namespace === namespace && w.serviceAccount === name) ids.add(w.identity);
  return [...ids].sort();
}

function fromServerAuthorization(sa: ServerAuthorizationObject, input: PolicyInputs): Authorization | undefined {
  const client = sa.spec?.client ?? {};
  const ns = sa.metadata.namespace ?? 'default';
  const labels = { kind: 'serverauthorization', name: sa.metadata.name ?? '' };
  const networks = (client.networks ?? []).map((n) => ({ net: n.cidr, except: n.except ?? [] }));
  if (client.unauthenticated) return { networks, authentication: { kind: 'unauthenticated' }, labels };
  const mtls = client.meshTLS;
  if (!mtls) return undefined; // a client with neither: authorizes nothing
  // unauthenticatedTLS: every Outpost peer presents a certificate, so "any TLS client" is any mesh identity.
  if (mtls.unauthenticatedTLS) return { networks, authentication: { kind: 'meshTLS', identities: ['*'] }, labels };
  const identities = new Set(mtls.identities ?? []);
  for (const ref of mtls.serviceAccounts ?? []) {
    for (const id of serviceAccountIdentities(ref.namespace ?? ns, ref.name, input.workloads, input.trustDomain)) identities.add(id);
  }
  if (identities.size === 0) return undefined;
  return { networks, authentication: { kind: 'meshTLS', identities: [...identities].sort() }, labels };
}

/** All required authentications must hold; a reference that does not resolve authorizes nothing. */
function fromAuthorizationPolicy(ap: AuthorizationPolicyObject, input: PolicyInputs): Authorization | undefined {
  const ns = ap.metadata.namespace ?? 'default';
  const labels = { kind: 'authorizationpolicy', name: ap.metadata.name ?? '' };
  let networks: Authorization['networks'] = [];
  let identities: Set<string> | undefined;
  const intersect = (ids: string[]) => {
    identities = identities ? new Set(ids.filter((i) => identities!.has(i) || identities!.has('*'))) : new Set(ids);
  };
  const refs = ap.spec?.requiredAuthenticationRefs ?? [];
  if (refs.length === 0) return undefined;
  for (const ref of refs) {
    const refNs = ref.namespace ?? ns;
    if (refIs(ref, 'MeshTLSAuthentication')) {
      const m = input.meshTlsAuthentications.find((x) => x.metadata.name === ref.name && (x.metadata.namespace ?? 'default') === refNs);
      if (!m) return undefined;
      const ids = [...(m.spec?.identities ?? [])];
      for (const idRef of m.spec?.identityRefs ?? []) {
        if (refIs(idRef, 'ServiceAccount') && idRef.name) ids.push(...serviceAccountIdentities(idRef.namespace ?? refNs, idRef.name, input.workloads, input.trustDomain));
        else if (refIs(idRef, 'Namespace')) ids.push(...input.workloads.filter((w) => w.namespace === (idRef.name ?? refNs)).map((w) => w.identity));
      }
      intersect(ids);
    } else if (refIs(ref, 'NetworkAuthentication')) {
      const n = input.networkAuthentications.find((x) => x.metadata.name === ref.name && (x.metadata.namespace ?? 'default') === refNs);
      if (!n) return undefined;
      networks = [...networks, ...(n.spec?.networks ?? []).map((x) => ({ net: x.cidr, except: x.except ?? [] }))];
    } else if (refIs(ref, 'ServiceAccount') && ref.name) {
      intersect(serviceAccountIdentities(refNs, ref.name, input.workloads, input.trustDomain));
    } else {
      return undefined; // an authentication kind Outpost does not know: deny when in doubt
    }
  }
  if (identities && identities.size === 0) return undefined;
  return {
    networks,
    authentication: identities ? { kind: 'meshTLS', identities: [...identities].sort() } : { kind: 'unauthenticated' },
    labels,
  };
}

function refIs(ref: TargetRef | undefined, kind: string): boolean {
  return !!ref && (ref.kind ?? '').toLowerCase() === kind.toLowerCase();
}

function sortByName<T extends { metadata: { name?: string } }>(xs: readonly T[]): T[] {
  return [...xs].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}
