// Table tests of the pure discovery translation: slices + workloads -> endpoints, diffs, authorities.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveWorkload, type ExternalWorkloadLike } from '../../src/core/workloads/effective.js';
import { resolveServiceEndpoints, resolveAddressProfile, type EndpointLookups } from '../../src/destination/endpoints.js';
import { diffSnapshots } from '../../src/destination/wire.js';
import { parseAuthority } from '../../src/destination/authority.js';
import type { EndpointSliceObject, PodObject, ServiceObject } from '../../src/kube/objects.js';
import type { ServerObject } from '../../src/kube/objects.js';
import type { PodNaming } from '../../src/core/workloads/pod.js';

const paymentVm: ExternalWorkloadLike = {
  metadata: { name: 'payment-processor-vm-1', namespace: 'payments', labels: { app: 'payment-processor' } },
  spec: {
    meshTLS: { identity: 'spiffe://cluster.local/payment-processor', serverName: 'payment-processor-vm-1.payments.svc.cluster.local' },
    workloadIPs: [{ ip: '10.0.50.100' }],
    ports: [{ name: 'http', port: 8080 }],
  },
};
const postgresVm: ExternalWorkloadLike = {
  metadata: { name: 'postgres-primary', namespace: 'hybrid-app', labels: { app: 'postgres' }, annotations: { 'config.outpost.io/proxy-inbound-port': '4243' } },
  spec: { workloadIPs: [{ ip: '10.0.100.50' }], ports: [{ name: 'postgres', port: 5432 }] },
};
const postgresServer: ServerObject = {
  metadata: { name: 'postgres-server', namespace: 'hybrid-app' },
  spec: { podSelector: { matchLabels: { app: 'postgres' } }, port: 5432, proxyProtocol: 'opaque' },
};
const meshedPod: PodObject = {
  metadata: { name: 'web-1', namespace: 'payments', labels: { app: 'payment-processor' }, annotations: { 'linkerd.io/proxy-version': 'x' } },
  spec: { serviceAccountName: 'web' },
  status: { podIP: '10.244.1.5' },
};

function lookups(workloads: ExternalWorkloadLike[], servers: ServerObject[] = [], pods: PodObject[] = [], podNaming: PodNaming = 'spiffe'): EndpointLookups {
  const eff = workloads.map((w) => effectiveWorkload(w));
  return {
    workload: (ns, name) => eff.find((w) => w.namespace === ns && w.name === name),
    pod: (ns, name) => pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name),
    servers: (ns) => servers.filter((s) => s.metadata.namespace === ns),
    trustDomain: 'cluster.local',
    podNaming,
  };
}

const svc = (name: string, ns: string, port: number, extra: Partial<ServiceObject['metadata']> = {}, targetPort?: number | string): ServiceObject => ({
  metadata: { name, namespace: ns, ...extra },
  spec: { ports: [{ name: 'p', port, targetPort: targetPort ?? port }] },
});
const slice = (ns: string, service: string, port: number, endpoints: EndpointSliceObject['endpoints']): EndpointSliceObject => ({
  metadata: { name: `${service}-abc`, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
  ports: [{ name: 'p', port }],
  endpoints,
});
const ewRef = (name: string, ns: string) => ({ kind: 'ExternalWorkload', name, namespace: ns });

test('the guide payment VM: address, target port, identity, server name, h2, labels', () => {
  const snap = resolveServiceEndpoints(
    { namespace: 'payments', name: 'payment-processor', port: 8080, service: svc('payment-processor', 'payments', 8080), slices: [slice('payments', 'payment-processor', 8080, [{ addresses: ['10.0.50.100'], conditions: { ready: true }, targetRef: ewRef('payment-processor-vm-1', 'payments'), zone: 'east' }])] },
    lookups([paymentVm]),
  );
  assert.equal(snap.exists, true);
  assert.deepEqual(snap.endpoints, [
    {
      address: '10.0.50.100',
      port: 8080,
      inboundPort: 4143,
      identity: 'spiffe://cluster.local/payment-processor',
      serverName: 'payment-processor-vm-1.payments.svc.cluster.local',
      protocolHint: 'h2',
      weight: 10000,
      labels: { dst_namespace: 'payments', dst_service: 'payment-processor', dst_external_workload: 'payment-processor-vm-1', dst_zone: 'east' },
      zone: 'east',
    },
  ]);
});

const cases: { name: string; service?: ServiceObject; slices: EndpointSliceObject[]; servers?: ServerObject[]; pods?: PodObject[]; port?: number; expect: (s: ReturnType<typeof resolveServiceEndpoints>) => void }[] = [
  {
    name: 'not-ready endpoints are left out; absent ready counts as ready',
    slices: [slice('hybrid-app', 'postgres', 5432, [{ addresses: ['10.0.100.50'], conditions: { ready: false }, targetRef: ewRef('postgres-primary', 'hybrid-app') }, { addresses: ['10.0.100.60'] }])],
    expect: (s) => assert.deepEqual(s.endpoints.map((e) => e.address), ['10.0.100.60']),
  },
  {
    name: 'a Server with proxyProtocol opaque makes the endpoint opaque; inbound port from the annotation',
    servers: [postgresServer],
    slices: [slice('hybrid-app', 'postgres', 5432, [{ addresses: ['10.0.100.50'], targetRef: ewRef('postgres-primary', 'hybrid-app') }])],
    expect: (s) => {
      assert.equal(s.endpoints[0].protocolHint, 'opaque');
      assert.equal(s.endpoints[0].inboundPort, 4243);
      assert.equal(s.endpoints[0].identity, 'spiffe://cluster.local/ns/hybrid-app/externalworkload/postgres-primary');
    },
  },
  {
    name: 'the opaque-ports annotation on the Service makes every endpoint opaque',
    service: svc('postgres', 'hybrid-app', 5432, { annotations: { 'config.linkerd.io/opaque-ports': '5432' } }),
    slices: [slice('hybrid-app', 'postgres', 5432, [{ addresses: ['10.0.100.50'], targetRef: ewRef('postgres-primary', 'hybrid-app') }])],
    expect: (s) => {
      assert.equal(s.endpoints[0].protocolHint, 'opaque');
      assert.equal(s.opaque, true);
    },
  },
  {
    name: 'an endpoint without a known workload waits; one without targetRef is plain (no identity)',
    slices: [slice('hybrid-app', 'postgres', 5432, [{ addresses: ['10.0.100.99'], targetRef: ewRef('gone', 'hybrid-app') }, { addresses: ['10.0.100.61'] }])],
    expect: (s) => assert.deepEqual(s.endpoints.map((e) => [e.address, e.identity, e.protocolHint, e.inboundPort]), [['10.0.100.61', undefined, 'unknown', 5432]]),
  },
  {
    name: 'the target port comes from the slice port named like the Service port',
    service: svc('postgres', 'hybrid-app', 80, {}, 'postgres'),
    port: 80,
    slices: [slice('hybrid-app', 'postgres', 5432, [{ addresses: ['10.0.100.50'], targetRef: ewRef('postgres-primary', 'hybrid-app') }])],
    expect: (s) => assert.equal(s.endpoints[0].port, 5432),
  },
  {
    name: 'a meshed pod endpoint gets its ServiceAccount identity and dst_pod',
    slices: [slice('hybrid-app', 'postgres', 5432, [{ addresses: ['10.244.1.5'], targetRef: { kind: 'Pod', name: 'web-1', namespace: 'payments' } }])],
    pods: [meshedPod],
    expect: (s) => {
      assert.equal(s.endpoints[0].identity, 'spiffe://cluster.local/ns/payments/sa/web');
      assert.equal(s.endpoints[0].labels.dst_pod, 'web-1');
      assert.equal(s.endpoints[0].protocolHint, 'h2');
    },
  },
  {
    name: 'no Service: exists false, no endpoints',
    service: undefined,
    slices: [],
    expect: (s) => assert.deepEqual([s.exists, s.endpoints.length], [false, 0]),
  },
];

for (const [naming, serverName] of [
  ['spiffe', 'web.payments.serviceaccount.identity.outpost.cluster.local'],
  ['linkerd', 'web.payments.serviceaccount.identity.linkerd.cluster.local'],
] as const) {
  test(`a meshed pod is announced with its ${naming}-named serverName; its identity stays the SPIFFE ID`, () => {
    const slices = [slice('hybrid-app', 'postgres', 5432, [{ addresses: ['10.244.1.5'], targetRef: { kind: 'Pod', name: 'web-1', namespace: 'payments' } }])];
    const s = resolveServiceEndpoints({ namespace: 'hybrid-app', name: 'postgres', port: 5432, service: svc('postgres', 'hybrid-app', 5432), slices }, lookups([postgresVm], [], [meshedPod], naming));
    assert.equal(s.endpoints[0].serverName, serverName);
    assert.equal(s.endpoints[0].identity, 'spiffe://cluster.local/ns/payments/sa/web');
  });
}

for (const c of cases) {
  test(c.name, () => {
    const service = 'service' in c ? c.service : svc('postgres', 'hybrid-app', 5432);
    c.expect(resolveServiceEndpoints({ namespace: 'hybrid-app', name: 'postgres', port: c.port ?? 5432, service, slices: c.slices }, lookups([postgresVm], c.servers, c.pods)));
  });
}

test('diffs: first add, change re-adds, removal, then no_endpoints; nothing when unchanged', () => {
  const l = lookups([paymentVm]);
  const at = (eps: EndpointSliceObject['endpoints']) =>
    resolveServiceEndpoints({ namespace: 'payments', name: 'payment-processor', port: 8080, service: svc('payment-processor', 'payments', 8080), slices: [slice('payments', 'payment-processor', 8080, eps)] }, l);
  const a = at([{ addresses: ['10.0.50.100'], targetRef: ewRef('payment-processor-vm-1', 'payments') }]);
  const b = at([{ addresses: ['10.0.50.100'], targetRef: ewRef('payment-processor-vm-1', 'payments') }, { addresses: ['10.0.50.101'] }]);
  const empty = at([]);
  assert.deepEqual(diffSnapshots(undefined, a).map((u) => Object.keys(u)[0]), ['add']);
  assert.deepEqual(diffSnapshots(a, a), []);
  const ab = diffSnapshots(a, b);
  assert.equal(ab.length, 1);
  assert.deepEqual('add' in ab[0] && ab[0].add.endpoints?.map((e) => e.address), ['10.0.50.101']);
  const be = diffSnapshots(b, empty);
  assert.deepEqual(be.map((u) => Object.keys(u)[0]), ['remove', 'noEndpoints']);
  assert.deepEqual(diffSnapshots(undefined, empty), [{ noEndpoints: { exists: true } }]);
  assert.deepEqual(diffSnapshots(empty, empty), []);
  const wire = diffSnapshots(undefined, a)[0];
  assert.ok('add' in wire);
  assert.equal(wire.add.endpoints?.[0].tlsIdentity, 'spiffe://cluster.local/payment-processor');
  assert.equal(wire.add.endpoints?.[0].protocolHint, 'PROTOCOL_H2');
});

test('authorities', () => {
  assert.deepEqual(parseAuthority('postgres.hybrid-app.svc.cluster.local:5432'), { kind: 'service', name: 'postgres', namespace: 'hybrid-app', port: 5432 });
  assert.deepEqual(parseAuthority('postgres.hybrid-app:5432'), { kind: 'service', name: 'postgres', namespace: 'hybrid-app', port: 5432 });
  assert.deepEqual(parseAuthority('postgres.hybrid-app.svc:5432'), { kind: 'service', name: 'postgres', namespace: 'hybrid-app', port: 5432 });
  assert.deepEqual(parseAuthority('10.0.100.50:5432'), { kind: 'address', address: '10.0.100.50', port: 5432 });
  assert.equal(parseAuthority('postgres:5432').kind, 'invalid');
  assert.equal(parseAuthority('postgres.hybrid-app').kind, 'invalid');
  assert.equal(parseAuthority('a.b.c.d:1').kind, 'invalid');
});

test('profile of ip:port resolves the workload with that IP', () => {
  const l = lookups([postgresVm], [postgresServer]);
  const p = resolveAddressProfile('10.0.100.50', 5432, { workloads: [effectiveWorkload(postgresVm)], pods: [] }, l);
  assert.equal(p.opaque, true);
  assert.equal(p.endpoint?.labels.dst_external_workload, 'postgres-primary');
  assert.deepEqual(resolveAddressProfile('10.9.9.9', 5432, { workloads: [effectiveWorkload(postgresVm)], pods: [] }, l), { opaque: false });
});
