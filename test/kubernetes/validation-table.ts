// Test table: manifests of Outpost's kinds that both APIs must reject (with the field each names),
// accept, or that only the embedded API rejects (src/install/cel-rules.ts, EMBEDDED_ONLY).
import type { K8sObject } from '../../src/install/render.js';

export const TABLE_NAMESPACE = 'validation';

let seq = 0;
const meta = () => ({ name: `case-${++seq}`, namespace: TABLE_NAMESPACE });

const ew = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}): K8sObject => ({
  apiVersion: 'workload.linkerd.io/v1beta1',
  kind: 'ExternalWorkload',
  metadata: { ...meta(), ...extra },
  spec: { meshTLS: { identity: 'spiffe://cluster.local/ns/validation/sa/vm', serverName: 'vm.validation.svc.cluster.local' }, workloadIPs: [{ ip: '10.0.0.1' }], ports: [{ name: 'http', port: 8080 }], ...spec },
});
const server = (spec: Record<string, unknown>, version = 'v1beta3'): K8sObject => ({
  apiVersion: `policy.linkerd.io/${version}`,
  kind: 'Server',
  metadata: meta(),
  spec: { port: 8080, externalWorkloadSelector: { matchLabels: { app: 'x' } }, ...spec },
});
const policy = (kind: string, version: string, spec: Record<string, unknown>): K8sObject => ({ apiVersion: `policy.linkerd.io/${version}`, kind, metadata: meta(), spec });
const saz = (client: Record<string, unknown>, srv: Record<string, unknown> = { name: 'web' }) => policy('ServerAuthorization', 'v1beta1', { server: srv, client });
const route = (rule: Record<string, unknown>) => policy('HTTPRoute', 'v1beta3', { parentRefs: [{ name: 'web', kind: 'Server', group: 'policy.linkerd.io' }], rules: [rule] });

export interface BadCase {
  name: string;
  manifest: K8sObject;
  /** The field the embedded API names. */
  field: string;
  /** The field the real API names, when CEL cannot name the same (a list index). */
  realField?: string;
}

export const BAD_MANIFESTS: BadCase[] = [
  { name: 'an ExternalWorkload IP that is not an IP', manifest: ew({ workloadIPs: [{ ip: '10.0.0.300' }] }), field: 'spec.workloadIPs[0].ip' },
  { name: 'two IPv4 workload IPs', manifest: ew({ workloadIPs: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] }), field: 'spec.workloadIPs[1].ip', realField: 'spec.workloadIPs' },
  { name: 'three workload IPs', manifest: ew({ workloadIPs: [{ ip: '10.0.0.1' }, { ip: '::1' }, { ip: '10.0.0.3' }] }), field: 'spec.workloadIPs' },
  { name: 'a port out of range', manifest: ew({ ports: [{ name: 'http', port: 70000 }] }), field: 'spec.ports[0].port' },
  { name: 'an unsupported port protocol', manifest: ew({ ports: [{ name: 'http', port: 8080, protocol: 'SCTP' }] }), field: 'spec.ports[0].protocol' },
  { name: 'a port name that is no IANA service name', manifest: ew({ ports: [{ name: 'HTTP_1', port: 8080 }] }), field: 'spec.ports[0].name' },
  { name: 'a port name over 15 characters', manifest: ew({ ports: [{ name: 'a-very-long-port-name', port: 8080 }] }), field: 'spec.ports[0].name' },
  { name: 'two ports of the same name', manifest: ew({ ports: [{ name: 'http', port: 8080 }, { name: 'http', port: 8081 }] }), field: 'spec.ports[1].name', realField: 'spec.ports' },
  { name: 'ports given as a string', manifest: ew({ ports: 'http' }), field: 'spec.ports' },
  { name: 'an identity that is no SPIFFE ID', manifest: ew({ meshTLS: { identity: 'payment-processor', serverName: 'vm.validation.svc.cluster.local' } }), field: 'spec.meshTLS.identity' },
  { name: 'a SPIFFE ID with a ".." segment', manifest: ew({ meshTLS: { identity: 'spiffe://cluster.local/ns/../sa/x' } }), field: 'spec.meshTLS.identity' },
  { name: 'a serverName that is no DNS name', manifest: ew({ meshTLS: { identity: 'spiffe://cluster.local/x', serverName: 'Bad_Name' } }), field: 'spec.meshTLS.serverName' },
  { name: 'a meshTLS without identity', manifest: ew({ meshTLS: { serverName: 'vm.validation.svc.cluster.local' } }), field: 'spec.meshTLS.identity' },
  { name: 'a probe path that is not absolute', manifest: ew({ probes: [{ port: 8080, path: 'health' }] }), field: 'spec.probes[0].path' },
  { name: 'a probe period that is no duration', manifest: ew({ probes: [{ port: 8080, path: '/health', period: '10 seconds' }] }), field: 'spec.probes[0].period' },
  { name: 'a probe without port', manifest: ew({ probes: [{ path: '/health' }] }), field: 'spec.probes[0].port' },
  { name: 'an invalid object name', manifest: { ...ew({}), metadata: { name: 'Bad_Name', namespace: TABLE_NAMESPACE } }, field: 'metadata.name' },
  {
    name: 'a WorkloadGroup identity that is no SPIFFE ID',
    manifest: { apiVersion: 'workload.linkerd.io/v1beta1', kind: 'WorkloadGroup', metadata: meta(), spec: { meshTLS: { identity: 'redis' } } },
    field: 'spec.meshTLS.identity',
  },
  {
    name: 'a WorkloadGroup template with a bad port name',
    manifest: { apiVersion: 'workload.linkerd.io/v1beta1', kind: 'WorkloadGroup', metadata: meta(), spec: { template: { spec: { ports: [{ name: '-redis', port: 6379 }] } } } },
    field: 'spec.template.spec.ports[0].name',
  },
  { name: 'a Server with both selectors', manifest: server({ podSelector: { matchLabels: { app: 'x' } } }), field: 'spec.externalWorkloadSelector' },
  { name: 'a Server with no selector', manifest: server({ externalWorkloadSelector: undefined }), field: 'spec' },
  { name: 'a Server port 0', manifest: server({ port: 0 }), field: 'spec.port' },
  { name: 'a Server port name with a space', manifest: server({ port: 'my port' }), field: 'spec.port' },
  { name: 'a Server proxyProtocol that does not exist', manifest: server({ proxyProtocol: 'HTTP/3' }), field: 'spec.proxyProtocol' },
  { name: 'a Server v1beta1 without podSelector', manifest: server({ externalWorkloadSelector: undefined }, 'v1beta1'), field: 'spec.podSelector' },
  {
    name: 'a selector expression In without values',
    manifest: server({ externalWorkloadSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }),
    field: 'spec.externalWorkloadSelector.matchExpressions[0].values',
  },
  { name: 'a selector operator that does not exist', manifest: server({ externalWorkloadSelector: { matchExpressions: [{ key: 'app', operator: 'Is', values: ['x'] }] } }), field: 'spec.externalWorkloadSelector.matchExpressions[0].operator' },
  { name: 'a ServerAuthorization naming and selecting its Server', manifest: saz({ unauthenticated: true }, { name: 'web', selector: { matchLabels: { app: 'x' } } }), field: 'spec.server.selector' },
  { name: 'a ServerAuthorization with neither Server name nor selector', manifest: saz({ unauthenticated: true }, {}), field: 'spec.server.name' },
  { name: 'a ServerAuthorization client with nothing', manifest: saz({}), field: 'spec.client' },
  { name: 'a ServerAuthorization both unauthenticated and meshTLS', manifest: saz({ unauthenticated: true, meshTLS: { identities: ['*'] } }), field: 'spec.client.meshTLS' },
  { name: 'a client network that is no CIDR', manifest: saz({ networks: [{ cidr: '10.0.0.0/33' }] }), field: 'spec.client.networks[0].cidr' },
  { name: 'a client identity with a space', manifest: saz({ meshTLS: { identities: ['web app'] } }), field: 'spec.client.meshTLS.identities[0]' },
  {
    name: 'an AuthorizationPolicy targeting a Pod',
    manifest: policy('AuthorizationPolicy', 'v1alpha1', { targetRef: { kind: 'Pod', name: 'x' }, requiredAuthenticationRefs: [] }),
    field: 'spec.targetRef.kind',
  },
  {
    name: 'an AuthorizationPolicy ServiceAccount reference without name',
    manifest: policy('AuthorizationPolicy', 'v1alpha1', { targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 'x' }, requiredAuthenticationRefs: [{ kind: 'ServiceAccount' }] }),
    field: 'spec.requiredAuthenticationRefs[0].name',
  },
  {
    name: 'an AuthorizationPolicy without requiredAuthenticationRefs',
    manifest: policy('AuthorizationPolicy', 'v1alpha1', { targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 'x' } }),
    field: 'spec.requiredAuthenticationRefs',
  },
  { name: 'a MeshTLSAuthentication with neither identities nor refs', manifest: policy('MeshTLSAuthentication', 'v1alpha1', {}), field: 'spec.identities' },
  { name: 'a MeshTLSAuthentication with both identities and refs', manifest: policy('MeshTLSAuthentication', 'v1alpha1', { identities: ['*'], identityRefs: [{ kind: 'ServiceAccount', name: 'web' }] }), field: 'spec.identityRefs' },
  { name: 'a MeshTLSAuthentication ServiceAccount name with capitals', manifest: policy('MeshTLSAuthentication', 'v1alpha1', { identityRefs: [{ kind: 'ServiceAccount', name: 'Web' }] }), field: 'spec.identityRefs[0].name' },
  { name: 'a NetworkAuthentication network that is no CIDR', manifest: policy('NetworkAuthentication', 'v1alpha1', { networks: [{ cidr: 'ten.0.0.0/8' }] }), field: 'spec.networks[0].cidr' },
  { name: 'a NetworkAuthentication except that is no address', manifest: policy('NetworkAuthentication', 'v1alpha1', { networks: [{ cidr: '10.0.0.0/8', except: ['10.0.0.x'] }] }), field: 'spec.networks[0].except[0]' },
  { name: 'an HTTPRoute path that is not absolute', manifest: route({ matches: [{ path: { type: 'PathPrefix', value: 'orders' } }] }), field: 'spec.rules[0].matches[0].path.value' },
  { name: 'an HTTPRoute method that does not exist', manifest: route({ matches: [{ method: 'FETCH' }] }), field: 'spec.rules[0].matches[0].method' },
  { name: 'an HTTPRoute timeout that is no duration', manifest: route({ timeouts: { request: '5 sec' } }), field: 'spec.rules[0].timeouts.request' },
];

export const GOOD_EDGE_MANIFESTS: { name: string; manifest: K8sObject }[] = [
  { name: 'one IPv4 and one IPv6 workload IP', manifest: ew({ workloadIPs: [{ ip: '10.0.0.1' }, { ip: '2001:db8::1' }] }) },
  { name: 'a workload with no meshTLS (identity from its ServiceAccount binding)', manifest: ew({ meshTLS: undefined }) },
  { name: 'the same port number over TCP and UDP', manifest: ew({ ports: [{ name: 'dns', port: 53 }, { name: 'dns-udp', port: 53, protocol: 'UDP' }] }) },
  { name: 'probes with Go durations', manifest: ew({ probes: [{ port: 8080, path: '/health', period: '1m30s', timeout: '500ms', initialDelay: '0' }] }) },
  { name: 'a Server on a named port', manifest: server({ port: 'http' }) },
  { name: 'a Server port as a numeric string', manifest: server({ port: '8080' }) },
  { name: 'a v1beta1 Server (podSelector only)', manifest: server({ externalWorkloadSelector: undefined, podSelector: { matchLabels: { app: 'x' } } }, 'v1beta1') },
  { name: 'a ServerAuthorization with wildcard and SPIFFE identities', manifest: saz({ meshTLS: { identities: ['*.payments.serviceaccount.identity.outpost.cluster.local', 'spiffe://cluster.local/ns/a/sa/b', '*'] } }) },
  { name: 'a NetworkAuthentication except given as an address', manifest: policy('NetworkAuthentication', 'v1alpha1', { networks: [{ cidr: '10.0.0.0/8', except: ['10.0.0.1', '10.1.0.0/16'] }] }) },
  { name: 'an HTTPRoute regular-expression path', manifest: route({ matches: [{ path: { type: 'RegularExpression', value: '^/orders/[0-9]+$' } }], timeouts: { request: '10s' } }) },
];

/** What only the embedded API rejects (EMBEDDED_ONLY in src/install/cel-rules.ts). */
export const EMBEDDED_ONLY_MANIFESTS: { name: string; manifest: K8sObject; field: string }[] = [
  { name: 'a workloadGroup label that is no DNS name', manifest: ew({}, { labels: { workloadGroup: 'Bad_Group' } }), field: 'metadata.labels[workloadGroup]' },
  { name: 'a ServiceAccount annotation that is no DNS name', manifest: ew({}, { annotations: { 'outpost.io/service-account': 'Bad_SA' } }), field: 'metadata.annotations[outpost.io/service-account]' },
  { name: 'an HTTPRoute regular expression that does not compile', manifest: route({ matches: [{ path: { type: 'RegularExpression', value: '^/orders/(' } }] }), field: 'spec.rules[0].matches[0].path.value' },
];
