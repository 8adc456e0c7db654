// Table tests of the pure core/v1 Endpoints mirror: the guide's hybrid-app Services and variations
// (readiness, headless, named ports, no selector, hand-made objects, updates in place).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Endpoints, V1Service } from '@kubernetes/client-node';
import { desiredEndpoints, desiredSubsets, planEndpoints, ENDPOINTS_MANAGED_BY_LABEL } from '../../src/controllers/endpoints/mirror.js';
import { endpointSourceOf, type WorkloadEndpointSource } from '../../src/controllers/endpoints/source.js';
import { guide, type Manifest } from './guide.js';

const svc = (m: Manifest, uid = 'svc-uid'): V1Service => ({ ...m, metadata: { ...m.metadata, uid } });
const ew = (m: Manifest, annotations: Record<string, string> = {}): WorkloadEndpointSource =>
  endpointSourceOf({ ...m, metadata: { ...m.metadata, uid: `${m.metadata.name}-uid`, annotations: { ...(m.metadata.annotations ?? {}), ...annotations } } }, undefined);
const ASSUME_READY = { 'outpost.io/assume-ready': 'true' };
const postgres = () => svc(guide('Service', 'postgres', 'hybrid-app'));
const postgresVm = (a: Record<string, string> = {}) => ew(guide('ExternalWorkload', 'postgres-primary', 'hybrid-app'), a);
const ref = (name: string, namespace = 'hybrid-app') => ({ kind: 'ExternalWorkload', namespace, name, uid: `${name}-uid` });
function source(name: string, over: Partial<WorkloadEndpointSource> = {}): WorkloadEndpointSource {
  return { namespace: 'hybrid-app', name, uid: `${name}-uid`, labels: { app: 'postgres' }, ips: ['10.0.100.70'], ports: [{ name: 'postgres', port: 5432 }], ready: true, terminating: false, ...over };
}

test('postgres: the guide workload is not ready until assume-ready, then listed in addresses with the Service port', () => {
  const notReady = desiredEndpoints(postgres(), [postgresVm()]);
  assert.deepEqual(notReady, {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: 'postgres', namespace: 'hybrid-app',
      labels: { [ENDPOINTS_MANAGED_BY_LABEL]: 'outpost-external-workloads-controller' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'postgres', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }],
    },
    subsets: [{ notReadyAddresses: [{ ip: '10.0.100.50', targetRef: ref('postgres-primary') }], ports: [{ name: 'postgres', port: 5432, protocol: 'TCP' }] }],
  });
  assert.deepEqual(desiredEndpoints(postgres(), [postgresVm(ASSUME_READY)]).subsets, [
    { addresses: [{ ip: '10.0.100.50', targetRef: ref('postgres-primary') }], ports: [{ name: 'postgres', port: 5432, protocol: 'TCP' }] },
  ]);
  const redis = svc(guide('Service', 'redis', 'hybrid-app'));
  assert.deepEqual(desiredEndpoints(redis, [ew(guide('ExternalWorkload', 'redis-cache', 'hybrid-app'), ASSUME_READY)]).subsets?.[0].addresses?.[0].ip, '10.0.100.51');
  assert.equal(desiredEndpoints(postgres(), []).subsets, undefined, 'no workloads: an Endpoints object without subsets');
});

test('subsets: readiness, terminating, named target ports, headless, families, other namespaces and labels', () => {
  const withSpec = (spec: Partial<NonNullable<V1Service['spec']>>, name = 'postgres') => {
    const s = postgres();
    s.metadata!.name = name;
    s.spec = { ...s.spec!, ...spec };
    return s;
  };
  const ips = (subsets: ReturnType<typeof desiredSubsets>) =>
    subsets.map((s) => [(s.addresses ?? []).map((a) => a.ip), (s.notReadyAddresses ?? []).map((a) => a.ip), (s.ports ?? []).map((p) => p.port)]);
  const cases: [string, V1Service, WorkloadEndpointSource[], unknown][] = [
    ['ready and not ready share a subset; sorted by IP', postgres(), [source('b', { ips: ['10.0.0.9'] }), source('a', { ips: ['10.0.0.10'], ready: false }), source('c', { ips: ['10.0.0.1'] })], [[['10.0.0.1', '10.0.0.9'], ['10.0.0.10'], [5432]]]],
    ['terminating left out', postgres(), [source('a', { terminating: true })], []],
    ['publishNotReadyAddresses: not ready and terminating listed as ready', withSpec({ publishNotReadyAddresses: true }), [source('a', { ready: false }), source('b', { ips: ['10.0.0.2'], terminating: true })], [[['10.0.0.2', '10.0.100.70'], [], [5432]]]],
    ['named targetPort: per-workload port numbers make two subsets', withSpec({ ports: [{ name: 'pg', port: 5432, targetPort: 'postgres' }] }), [source('a', { ips: ['10.0.0.1'] }), source('b', { ips: ['10.0.0.2'], ports: [{ name: 'postgres', port: 6432 }] })], [[['10.0.0.1'], [], [5432]], [['10.0.0.2'], [], [6432]]]],
    ['named targetPort the workload lacks: left out', withSpec({ ports: [{ name: 'pg', port: 5432, targetPort: 'pgbouncer' }] }), [source('a')], []],
    ['no ports, not headless: nothing', withSpec({ ports: [] }), [source('a')], []],
    ['no ports, headless: bare addresses', withSpec({ ports: [], clusterIP: 'None' }), [source('a')], [[['10.0.100.70'], [], []]]],
    ['IPv6-first Service takes the IPv6 address; IPv4-only workloads left out', withSpec({ ipFamilies: ['IPv6', 'IPv4'] }), [source('a', { ips: ['10.0.0.1', 'fd00::1'] }), source('b')], [[['fd00::1'], [], [5432]]]],
    ['other namespace or labels: left out', postgres(), [source('a', { namespace: 'payments' }), source('b', { labels: { app: 'redis' } })], []],
  ];
  for (const [what, service, workloads, want] of cases) assert.deepEqual(ips(desiredSubsets(service, workloads)), want, what);
  const headless = withSpec({ clusterIP: 'None' });
  assert.equal(desiredSubsets(headless, [source('a')])[0].addresses![0].hostname, 'a');
  assert.equal(desiredEndpoints(headless, [])?.metadata?.labels?.['service.kubernetes.io/headless'], '');
  const appProtocol = withSpec({ ports: [{ name: 'pg', port: 5432, appProtocol: 'postgresql' }] });
  assert.deepEqual(desiredSubsets(appProtocol, [source('a')])[0].ports, [{ name: 'pg', port: 5432, protocol: 'TCP', appProtocol: 'postgresql' }]);
});

test('plan: create, nothing when unchanged (API defaults and key order ignored), update in place, take over a hand-made object', () => {
  const ready = [postgresVm(ASSUME_READY)];
  const plan = planEndpoints(postgres(), ready, undefined);
  assert.equal(plan.op, 'create');
  const stored: V1Endpoints = JSON.parse(JSON.stringify((plan as { endpoints: V1Endpoints }).endpoints));
  stored.metadata = { ...stored.metadata, resourceVersion: '41', uid: 'ep-uid', creationTimestamp: new Date(0), annotations: { note: 'kept' } };
  stored.subsets![0] = { ports: stored.subsets![0].ports, addresses: stored.subsets![0].addresses };
  assert.deepEqual(planEndpoints(postgres(), ready, stored), { op: 'none' });

  const update = planEndpoints(postgres(), [postgresVm()], stored);
  assert.equal(update.op, 'update');
  const body = (update as { endpoints: V1Endpoints }).endpoints;
  assert.equal(body.metadata!.resourceVersion, '41', 'optimistic concurrency on the version read');
  assert.deepEqual(body.metadata!.annotations, { note: 'kept' });
  assert.deepEqual(body.subsets![0].notReadyAddresses!.map((a) => a.ip), ['10.0.100.50']);

  const handMade: V1Endpoints = { metadata: { name: 'postgres', namespace: 'hybrid-app', resourceVersion: '5' }, subsets: [{ addresses: [{ ip: '192.0.2.1' }] }] };
  const takeover = planEndpoints(postgres(), ready, handMade);
  assert.equal(takeover.op, 'update', 'a selector Service owns its Endpoints, as in Kubernetes');
  assert.equal((takeover as { endpoints: V1Endpoints }).endpoints.metadata!.labels![ENDPOINTS_MANAGED_BY_LABEL], 'outpost-external-workloads-controller');
});

test('plan: a Service without a selector (or ExternalName, or deleted) gets none; a user\'s object is left alone, ours is deleted', () => {
  const manual = postgres();
  delete manual.spec!.selector;
  const externalName = postgres();
  externalName.spec = { ...externalName.spec!, type: 'ExternalName', externalName: 'db.example.com' };
  const ours = desiredEndpoints(postgres(), []);
  const users: V1Endpoints = { metadata: { name: 'postgres', namespace: 'hybrid-app' }, subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }] };
  const cases: [string, V1Service | undefined, V1Endpoints | undefined, string][] = [
    ['no selector, nothing there', manual, undefined, 'none'],
    ['no selector, a hand-made object', manual, users, 'none'],
    ['no selector, ours (selector removed)', manual, ours, 'delete'],
    ['ExternalName, ours', externalName, ours, 'delete'],
    ['ExternalName, nothing there', externalName, undefined, 'none'],
    ['Service deleted, ours', undefined, ours, 'delete'],
    ['Service deleted, a hand-made object', undefined, users, 'none'],
  ];
  for (const [what, service, existing, op] of cases) assert.equal(planEndpoints(service, [postgresVm(ASSUME_READY)], existing).op, op, what);
});

test('more than 1000 addresses: ready ones kept first, the object marked over-capacity; the mark goes when back under', () => {
  const many = Array.from({ length: 1005 }, (_, i) => source(`vm-${i}`, { ips: [`10.1.${i >> 8}.${i & 255}`], ready: i >= 10 }));
  const big = desiredEndpoints(postgres(), many);
  assert.equal(big.metadata!.annotations!['endpoints.kubernetes.io/over-capacity'], 'truncated');
  assert.equal(big.subsets![0].addresses!.length, 995, 'every ready address');
  assert.equal(big.subsets![0].notReadyAddresses!.length, 5, 'then not-ready ones up to 1000');
  const stored = { ...big, metadata: { ...big.metadata, resourceVersion: '9', annotations: { ...big.metadata!.annotations, note: 'kept' } } };
  assert.deepEqual(planEndpoints(postgres(), many, stored), { op: 'none' });
  const shrunk = planEndpoints(postgres(), many.slice(0, 20), stored);
  assert.equal(shrunk.op, 'update');
  assert.deepEqual((shrunk as { endpoints: V1Endpoints }).endpoints.metadata!.annotations, { note: 'kept' });
  assert.equal(desiredEndpoints(postgres(), many.slice(0, 1000)).metadata!.annotations, undefined, 'exactly 1000: not truncated');
});

test('revoked workloads (outpost.io/revoked-at) are left out of the Endpoints, even with publishNotReadyAddresses', () => {
  const REVOKED = { 'outpost.io/revoked-at': '2026-11-25T14:00:00Z' };
  assert.equal(desiredEndpoints(postgres(), [postgresVm({ ...ASSUME_READY, ...REVOKED })]).subsets, undefined);
  const publish = postgres();
  publish.spec!.publishNotReadyAddresses = true;
  assert.equal(desiredSubsets(publish, [postgresVm(REVOKED)]).length, 0);
  assert.deepEqual(desiredSubsets(postgres(), [source('a', { revoked: true }), source('b', { ips: ['10.0.100.71'] })]).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)), ['10.0.100.71']);
});

test("plan: an Endpoints object kube-controller-manager's endpoints controller manages is left to it (a real cluster)", () => {
  const kubes: V1Endpoints = { metadata: { name: 'postgres', namespace: 'hybrid-app', resourceVersion: '7', labels: { [ENDPOINTS_MANAGED_BY_LABEL]: 'endpoint-controller' } } };
  assert.deepEqual(planEndpoints(postgres(), [postgresVm(ASSUME_READY)], kubes), { op: 'none' });
  assert.deepEqual(planEndpoints(postgres(), [], kubes), { op: 'none' });
});
