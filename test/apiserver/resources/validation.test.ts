// Bad inputs are rejected with causes naming the field (the acceptance list of issue 2 and more);
// good variants the guide implies (no meshTLS, v1alpha1, named ports) are accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/store/types.js';
import { findByApiVersionKind, parseApiVersion } from '../../../src/apiserver/resources/index.js';
import { admitObject, admitStatus } from '../../../src/apiserver/schema/admit.js';

function admit(obj: KubeObject, old?: KubeObject) {
  const rt = findByApiVersionKind(obj.apiVersion!, obj.kind!);
  assert.ok(rt, `${obj.apiVersion} ${obj.kind}`);
  return admitObject(rt, parseApiVersion(obj.apiVersion!).version, obj, old);
}

const ew = (spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'workload.linkerd.io/v1beta1',
  kind: 'ExternalWorkload',
  metadata: { name: 'vm-1', namespace: 'payments', ...(extra.metadata ?? {}) },
  spec: { workloadIPs: [{ ip: '10.0.50.100' }], ports: [{ name: 'http', port: 8080 }], ...spec },
});
const svc = (spec: Record<string, unknown>, name = 'web'): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec });
const server = (spec: Record<string, unknown>, version = 'v1beta3'): KubeObject => ({ apiVersion: `policy.linkerd.io/${version}`, kind: 'Server', metadata: { name: 's', namespace: 'default' }, spec });

/** [description, object, expected field, expected reason] */
const rejected: [string, KubeObject, string, string][] = [
  ['IP 999.1.1.1', ew({ workloadIPs: [{ ip: '999.1.1.1' }] }), 'spec.workloadIPs[0].ip', 'FieldValueInvalid'],
  ['two IPv4 addresses', ew({ workloadIPs: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] }), 'spec.workloadIPs[1].ip', 'FieldValueInvalid'],
  ['three addresses', ew({ workloadIPs: [{ ip: '10.0.0.1' }, { ip: '::1' }, { ip: '10.0.0.3' }] }), 'spec.workloadIPs', 'FieldValueTooMany'],
  ['port 70000', ew({ ports: [{ name: 'http', port: 70000 }] }), 'spec.ports[0].port', 'FieldValueInvalid'],
  ['port 0', ew({ ports: [{ name: 'http', port: 0 }] }), 'spec.ports[0].port', 'FieldValueInvalid'],
  ['port as text', ew({ ports: [{ name: 'http', port: 'eighty' }] }), 'spec.ports[0].port', 'FieldValueTypeInvalid'],
  ['duplicate port name', ew({ ports: [{ name: 'http', port: 8080 }, { name: 'http', port: 9090 }] }), 'spec.ports[1].name', 'FieldValueDuplicate'],
  ['port name not IANA', ew({ ports: [{ name: 'HTTP_main', port: 8080 }] }), 'spec.ports[0].name', 'FieldValueInvalid'],
  ['port name too long', ew({ ports: [{ name: 'a-very-long-port-name', port: 8080 }] }), 'spec.ports[0].name', 'FieldValueInvalid'],
  ['protocol SCTP', ew({ ports: [{ name: 'http', port: 8080, protocol: 'SCTP' }] }), 'spec.ports[0].protocol', 'FieldValueNotSupported'],
  ['identity not SPIFFE', ew({ meshTLS: { identity: 'payment processor', serverName: 'a.b' } }), 'spec.meshTLS.identity', 'FieldValueInvalid'],
  ['identity without path', ew({ meshTLS: { identity: 'spiffe://cluster.local' } }), 'spec.meshTLS.identity', 'FieldValueInvalid'],
  ['meshTLS without identity', ew({ meshTLS: { serverName: 'vm-1.payments.svc.cluster.local' } }), 'spec.meshTLS.identity', 'FieldValueRequired'],
  ['serverName not DNS', ew({ meshTLS: { identity: 'spiffe://cluster.local/x', serverName: 'Not A Name' } }), 'spec.meshTLS.serverName', 'FieldValueInvalid'],
  ['probe period not a duration', ew({ probes: [{ path: '/health', port: 8081, period: '10 seconds' }] }), 'spec.probes[0].period', 'FieldValueInvalid'],
  ['probe path relative', ew({ probes: [{ path: 'health', port: 8081 }] }), 'spec.probes[0].path', 'FieldValueInvalid'],
  ['probe without port', ew({ probes: [{ path: '/health' }] }), 'spec.probes[0].port', 'FieldValueRequired'],
  ['bad name', ew({}, { metadata: { name: 'VM_1' } }), 'metadata.name', 'FieldValueInvalid'],
  ['bad label key', ew({}, { metadata: { name: 'vm-1', labels: { 'bad key': 'x' } } }), 'metadata.labels', 'FieldValueInvalid'],
  ['bad label value', ew({}, { metadata: { name: 'vm-1', labels: { app: 'has space' } } }), 'metadata.labels', 'FieldValueInvalid'],
  ['bad group label', ew({}, { metadata: { name: 'vm-1', labels: { workloadGroup: 'Bad_Group' } } }), 'metadata.labels[workloadGroup]', 'FieldValueInvalid'],
  ['no name', ew({}, { metadata: { name: '' } }), 'metadata.name', 'FieldValueRequired'],
  ['service port 70000', svc({ ports: [{ port: 70000 }] }), 'spec.ports[0].port', 'FieldValueInvalid'],
  ['service duplicate port name', svc({ ports: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] }), 'spec.ports[1].name', 'FieldValueDuplicate'],
  ['service duplicate port', svc({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }), 'spec.ports[1]', 'FieldValueDuplicate'],
  ['service unnamed ports', svc({ ports: [{ port: 80 }, { name: 'b', port: 81 }] }), 'spec.ports[0].name', 'FieldValueRequired'],
  ['service without ports', svc({ selector: { app: 'x' } }), 'spec.ports', 'FieldValueRequired'],
  ['service bad targetPort name', svc({ ports: [{ port: 80, targetPort: 'Web_Port' }] }), 'spec.ports[0].targetPort', 'FieldValueInvalid'],
  ['service targetPort boolean', svc({ ports: [{ port: 80, targetPort: true }] }), 'spec.ports[0].targetPort', 'FieldValueTypeInvalid'],
  ['service type', svc({ type: 'Magic', ports: [{ port: 80 }] }), 'spec.type', 'FieldValueNotSupported'],
  ['service name starts with digit', svc({ ports: [{ port: 80 }] }, '1web'), 'metadata.name', 'FieldValueInvalid'],
  ['service clusterIP', svc({ clusterIP: '10.0.0.300', ports: [{ port: 80 }] }), 'spec.clusterIP', 'FieldValueInvalid'],
  ['namespace name with dots', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } }, 'metadata.name', 'FieldValueInvalid'],
  ['server port 0', server({ podSelector: {}, port: 0 }), 'spec.port', 'FieldValueInvalid'],
  ['server port bad name', server({ podSelector: {}, port: 'Bad_Name' }), 'spec.port', 'FieldValueInvalid'],
  ['server both selectors', server({ podSelector: {}, externalWorkloadSelector: {}, port: 80 }), 'spec.externalWorkloadSelector', 'FieldValueForbidden'],
  ['server no selector', server({ port: 80 }), 'spec', 'FieldValueRequired'],
  ['server v1beta1 needs podSelector', server({ port: 80 }, 'v1beta1'), 'spec.podSelector', 'FieldValueRequired'],
  ['server proxyProtocol', server({ podSelector: {}, port: 80, proxyProtocol: 'HTTP/3' }), 'spec.proxyProtocol', 'FieldValueNotSupported'],
  ['selector In without values', server({ podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] }, port: 80 }), 'spec.podSelector.matchExpressions[0].values', 'FieldValueRequired'],
  ['selector Exists with values', server({ podSelector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] }, port: 80 }), 'spec.podSelector.matchExpressions[0].values', 'FieldValueInvalid'],
  ['selector operator', server({ podSelector: { matchExpressions: [{ key: 'app', operator: 'Is' }] }, port: 80 }), 'spec.podSelector.matchExpressions[0].operator', 'FieldValueNotSupported'],
  ['selector label key', server({ podSelector: { matchLabels: { 'a b': 'x' } }, port: 80 }), 'spec.podSelector.matchLabels', 'FieldValueInvalid'],
  [
    'saz identity',
    { apiVersion: 'policy.linkerd.io/v1beta1', kind: 'ServerAuthorization', metadata: { name: 'a', namespace: 'd' }, spec: { server: { name: 's' }, client: { meshTLS: { identities: ['Not Valid'] } } } },
    'spec.client.meshTLS.identities[0]',
    'FieldValueInvalid',
  ],
  [
    'saz server name and selector',
    { apiVersion: 'policy.linkerd.io/v1beta1', kind: 'ServerAuthorization', metadata: { name: 'a', namespace: 'd' }, spec: { server: { name: 's', selector: {} }, client: { unauthenticated: true } } },
    'spec.server.selector',
    'FieldValueForbidden',
  ],
  [
    'network CIDR',
    { apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'NetworkAuthentication', metadata: { name: 'a', namespace: 'd' }, spec: { networks: [{ cidr: '10.0.0.0/33' }] } },
    'spec.networks[0].cidr',
    'FieldValueInvalid',
  ],
  [
    'meshtls authn needs identities',
    { apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'MeshTLSAuthentication', metadata: { name: 'a', namespace: 'd' }, spec: {} },
    'spec.identities',
    'FieldValueRequired',
  ],
  [
    'endpointslice address family',
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'a', namespace: 'd' }, addressType: 'IPv4', endpoints: [{ addresses: ['::1'] }] },
    'endpoints[0].addresses[0]',
    'FieldValueInvalid',
  ],
  [
    'endpointslice addressType',
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'a', namespace: 'd' }, endpoints: [] },
    'addressType',
    'FieldValueRequired',
  ],
  [
    'workload group port',
    { apiVersion: 'workload.linkerd.io/v1beta1', kind: 'WorkloadGroup', metadata: { name: 'g', namespace: 'd' }, spec: { template: { spec: { ports: [{ name: 'x', port: 70000 }] } } } },
    'spec.template.spec.ports[0].port',
    'FieldValueInvalid',
  ],
  [
    'workload group template label',
    { apiVersion: 'workload.linkerd.io/v1beta1', kind: 'WorkloadGroup', metadata: { name: 'g', namespace: 'd' }, spec: { template: { metadata: { labels: { app: 'a b' } } } } },
    'spec.template.metadata.labels',
    'FieldValueInvalid',
  ],
  [
    'httproute path regular expression that does not compile',
    { apiVersion: 'policy.linkerd.io/v1beta3', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'd' }, spec: { rules: [{ matches: [{ path: { type: 'RegularExpression', value: '/v(1' } }] }] } },
    'spec.rules[0].matches[0].path.value',
    'FieldValueInvalid',
  ],
  [
    'httproute header regular expression that does not compile',
    { apiVersion: 'policy.linkerd.io/v1beta3', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'd' }, spec: { rules: [{ matches: [{ headers: [{ type: 'RegularExpression', name: 'x-user', value: '[a-' }] }] }] } },
    'spec.rules[0].matches[0].headers[0].value',
    'FieldValueInvalid',
  ],
  ['configmap key', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'd' }, data: { 'a/b': 'x' } }, 'data[a/b]', 'FieldValueInvalid'],
  ['secret not base64', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'd' }, data: { k: 'not base64!' } }, 'data[k]', 'FieldValueInvalid'],
  ['lease time', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'd' }, spec: { renewTime: 'yesterday' } }, 'spec.renewTime', 'FieldValueInvalid'],
];

for (const [description, obj, field, reason] of rejected) {
  test(`rejects ${description} at ${field}`, () => {
    const { causes } = admit(obj);
    const match = causes.find((c) => c.field === field);
    assert.ok(match, `no cause for ${field}; got ${JSON.stringify(causes)}`);
    assert.equal(match.reason, reason, JSON.stringify(match));
  });
}

test('the IP message names the field and the value', () => {
  const { causes } = admit(ew({ workloadIPs: [{ ip: '999.1.1.1' }] }));
  assert.equal(causes.length, 1);
  assert.equal(causes[0].field, 'spec.workloadIPs[0].ip');
  assert.match(causes[0].message, /^Invalid value: "999\.1\.1\.1": must be a valid IP address/);
});

test('a field that fails the schema is reported once', () => {
  const { causes } = admit(ew({ ports: [{ name: 'http', port: 70000 }] }));
  assert.deepEqual(causes.map((c) => c.field), ['spec.ports[0].port']);
  assert.match(causes[0].message, /should be less than or equal to 65535/);
});

test('unknown fields are reported and pruned, not rejected', () => {
  const { causes, unknownFields, object } = admit(ew({ bogus: 1, ports: [{ name: 'http', port: 8080, extra: true }] }, { metadata: { name: 'vm-1', surprise: 'x' } }));
  assert.deepEqual(causes, []);
  assert.deepEqual(unknownFields.sort(), ['metadata.surprise', 'spec.bogus', 'spec.ports[0].extra']);
  assert.equal((object.spec as any).bogus, undefined);
  assert.equal((object.metadata as any).surprise, undefined);
});

test('accepted variants', () => {
  const ok: KubeObject[] = [
    ew({}),
    ew({ workloadIPs: [{ ip: '10.0.0.1' }, { ip: '2001:db8::1' }] }),
    ew({ meshTLS: { identity: 'spiffe://cluster.local/ns/payments/sa/payment-processor-sa' } }),
    ew({ probes: [{ path: '/health', port: 8081, scheme: 'HTTPS', initialDelay: '5s', period: '1m30s', timeout: '500ms', failureThreshold: 3, successThreshold: 1 }] }),
    ew({}, { metadata: { name: '', generateName: 'vm-' } }),
    server({ externalWorkloadSelector: { matchLabels: { app: 'x' } }, port: 'http' }),
    server({ podSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, port: '8080', proxyProtocol: 'HTTP/2' }),
    svc({ type: 'ExternalName', externalName: 'db.example.com' }),
    svc({ ports: [{ port: 80, targetPort: 'http' }] }),
    { apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'MeshTLSAuthentication', metadata: { name: 'a', namespace: 'd' }, spec: { identities: ['spiffe://cluster.local/x', '*.cluster.local', '*'] } },
    { apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'a', namespace: 'd' }, spec: { targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 's' }, requiredAuthenticationRefs: [{ kind: 'ServiceAccount', name: 'web' }] } },
    { apiVersion: 'policy.linkerd.io/v1beta3', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'd' }, spec: { parentRefs: [{ kind: 'Server', name: 's' }], rules: [{ matches: [{ path: { value: '/api' }, method: 'GET' }], timeouts: { request: '10s' } }] } },
    { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'd' }, spec: { holderIdentity: 'a', renewTime: '2024-01-01T00:00:00.000000Z', leaseDurationSeconds: 15 } },
  ];
  for (const obj of ok) {
    const { causes, unknownFields } = admit(obj);
    assert.deepEqual(causes, [], JSON.stringify(obj));
    assert.deepEqual(unknownFields, []);
  }
});

test('v1alpha1 ExternalWorkload (meshTls) is stored as v1beta1 (meshTLS)', () => {
  const { object, causes, unknownFields } = admit({
    apiVersion: 'workload.linkerd.io/v1alpha1',
    kind: 'ExternalWorkload',
    metadata: { name: 'old', namespace: 'd' },
    spec: { meshTls: { identity: 'spiffe://cluster.local/old', serverName: 'old.d.svc' }, workloadIPs: [{ ip: '10.1.1.1' }] },
  });
  assert.deepEqual(causes, []);
  assert.deepEqual(unknownFields, []);
  assert.equal(object.apiVersion, 'workload.linkerd.io/v1beta1');
  assert.deepEqual((object.spec as any).meshTLS, { identity: 'spiffe://cluster.local/old', serverName: 'old.d.svc' });
  assert.equal((object.spec as any).meshTls, undefined);
  const bad = admit({ apiVersion: 'workload.linkerd.io/v1alpha1', kind: 'ExternalWorkload', metadata: { name: 'old', namespace: 'd' }, spec: { meshTls: { identity: 'nope' } } });
  assert.deepEqual(bad.causes.map((c) => c.field), ['spec.meshTLS.identity']);
});

test('Service clusterIP may not change; Secret stringData becomes data', () => {
  const first = admit(svc({ clusterIP: '10.96.0.5', ports: [{ port: 80 }] })).object;
  assert.equal(admit(svc({ clusterIP: '10.96.0.5', ports: [{ port: 80 }] }), first).causes.length, 0);
  const changed = admit(svc({ clusterIP: '10.96.0.99', ports: [{ port: 80 }] }), first);
  assert.deepEqual(changed.causes.map((c) => c.field), ['spec.clusterIP']);
  const secret = admit({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'd' }, stringData: { token: 'abc' } }).object as any;
  assert.deepEqual(secret.data, { token: 'YWJj' });
  assert.equal(secret.type, 'Opaque');
  assert.equal(secret.stringData, undefined);
});

test('status writes are checked against the status schema only', () => {
  const rt = findByApiVersionKind('workload.linkerd.io/v1beta1', 'ExternalWorkload')!;
  const good = admitStatus(rt, 'v1beta1', { ...ew({}), status: { conditions: [{ type: 'Ready', status: 'True', reason: 'ProbeSucceeded', lastProbeTime: '2026-11-25T13:00:00Z', lastTransitionTime: '2026-11-25T13:00:00Z' }] } });
  assert.deepEqual(good.causes, []);
  const bad = admitStatus(rt, 'v1beta1', { ...ew({}), status: { conditions: [{ type: 'Ready', status: 'Maybe', bogus: 1 }] } });
  assert.deepEqual(bad.causes.map((c) => [c.field, c.reason]), [['status.conditions[0].status', 'FieldValueNotSupported']]);
  assert.deepEqual(bad.unknownFields, ['status.conditions[0].bogus']);
});

test('semantic rules do not repeat what the schema already reports (the HTTP layer may concatenate them)', () => {
  for (const [description, obj] of rejected) {
    const rt = findByApiVersionKind(obj.apiVersion!, obj.kind!)!;
    const version = parseApiVersion(obj.apiVersion!).version;
    const schemaOnly = admitObject({ ...rt, validate: undefined }, version, obj).causes;
    const semanticOnly = rt.validate!(admitObject({ ...rt, validate: undefined }, version, obj).object);
    const fields = new Set(schemaOnly.map((c) => c.field));
    assert.deepEqual(semanticOnly.filter((c) => fields.has(c.field)), [], description);
  }
});

test('status rules: one condition per type, CamelCase reasons, ready members within members', () => {
  const ewType = findByApiVersionKind('workload.linkerd.io/v1beta1', 'ExternalWorkload')!;
  const dup = admitStatus(ewType, 'v1beta1', { ...ew({}), status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Ready', status: 'False', reason: 'probe failed' }] } });
  assert.deepEqual(dup.causes.map((c) => [c.field, c.reason]), [['status.conditions[1].type', 'FieldValueDuplicate'], ['status.conditions[1].reason', 'FieldValueInvalid']]);
  const wgType = findByApiVersionKind('workload.linkerd.io/v1beta1', 'WorkloadGroup')!;
  const wg = { apiVersion: 'workload.linkerd.io/v1beta1', kind: 'WorkloadGroup', metadata: { name: 'g', namespace: 'd' }, spec: {} };
  assert.deepEqual(admitStatus(wgType, 'v1beta1', { ...wg, status: { members: 2, readyMembers: 2 } }).causes, []);
  assert.deepEqual(admitStatus(wgType, 'v1beta1', { ...wg, status: { members: 1, readyMembers: 2 } }).causes.map((c) => c.field), ['status.readyMembers']);
});
