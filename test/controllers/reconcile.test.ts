// Table tests of the pure EndpointSlice reconcile, on the guide's manifests and small variations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { reconcileEndpointSlices, isEmptyPlan, MAX_ENDPOINTS_PER_SLICE, type SlicePlan } from '../../src/controllers/endpoints/reconcile.js';
import { endpointSourceOf, type WorkloadEndpointSource } from '../../src/controllers/endpoints/source.js';
import { guide, type Manifest } from './guide.js';

function svc(m: Manifest, uid = 'svc-uid'): V1Service {
  return { ...m, metadata: { ...m.metadata, uid } };
}
function ew(m: Manifest, opts: { uid?: string; ready?: boolean; group?: Manifest; annotations?: Record<string, string> } = {}): WorkloadEndpointSource {
  const obj = { ...m, metadata: { ...m.metadata, uid: opts.uid ?? `${m.metadata.name}-uid`, annotations: { ...(m.metadata.annotations ?? {}), ...(opts.annotations ?? {}) } } };
  if (opts.ready !== undefined) obj.status = { conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False', reason: opts.ready ? 'ProbesPassing' : 'ProbesFailing' }] };
  return endpointSourceOf(obj, opts.group);
}
function synthetic(i: number, over: Partial<WorkloadEndpointSource> = {}): WorkloadEndpointSource {
  return { namespace: 'payments', name: `vm-${String(i).padStart(4, '0')}`, uid: `u${i}`, labels: { app: 'payment-processor' }, ips: [`10.1.${i >> 8}.${i & 255}`], ports: [{ name: 'http', port: 8080 }], ready: true, terminating: false, ...over };
}
/** The slices as the API would hold them after applying the plan (a resourceVersion added). */
function applied(existing: V1EndpointSlice[], plan: SlicePlan): V1EndpointSlice[] {
  const gone = new Set([...plan.delete, ...plan.update].map((s) => s.metadata!.name));
  return [...existing.filter((s) => !gone.has(s.metadata!.name)), ...[...plan.update, ...plan.create].map((s) => ({ ...s, metadata: { ...s.metadata, resourceVersion: '7' } }))];
}
const addresses = (slices: V1EndpointSlice[]) => slices.flatMap((s) => s.endpoints.map((e) => e.addresses[0])).sort();

const payment = () => svc(guide('Service', 'payment-processor'));
const paymentVm = (o = {}) => ew(guide('ExternalWorkload', 'payment-processor-vm-1'), o);

test('payment-processor: a ready workload becomes one IPv4 slice with Linkerd-compatible metadata', () => {
  const plan = reconcileEndpointSlices(payment(), [paymentVm({ ready: true })], []);
  assert.equal(plan.create.length, 1);
  assert.equal(plan.update.length + plan.delete.length, 0);
  const s = plan.create[0];
  assert.equal(s.addressType, 'IPv4');
  assert.equal(s.metadata!.namespace, 'payments');
  assert.deepEqual(s.metadata!.labels, { 'kubernetes.io/service-name': 'payment-processor', 'endpointslice.kubernetes.io/managed-by': 'outpost-external-workloads-controller' });
  assert.deepEqual(s.metadata!.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'payment-processor', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
  assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(s.endpoints, [
    { addresses: ['10.0.50.100'], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'ExternalWorkload', namespace: 'payments', name: 'payment-processor-vm-1', uid: 'payment-processor-vm-1-uid' } },
  ]);
});

test('readiness: not ready until a proxy reports, unless annotated assume-ready; a failing report makes it not ready', () => {
  const cases: [string, WorkloadEndpointSource, boolean][] = [
    ['never reported', paymentVm(), false],
    ['never reported, assume-ready', paymentVm({ annotations: { 'outpost.io/assume-ready': 'true' } }), true],
    ['reported ready', paymentVm({ ready: true }), true],
    ['reported failing, even if assume-ready', paymentVm({ ready: false, annotations: { 'outpost.io/assume-ready': 'true' } }), false],
  ];
  for (const [what, w, ready] of cases) {
    const ep = reconcileEndpointSlices(payment(), [w], []).create[0].endpoints[0];
    assert.deepEqual(ep.conditions, { ready, serving: ready, terminating: false }, what);
  }
  const terminating = { ...paymentVm({ ready: true }), terminating: true };
  assert.deepEqual(reconcileEndpointSlices(payment(), [terminating], []).create[0].endpoints[0].conditions, { ready: false, serving: true, terminating: true });
  const publish = payment();
  publish.spec!.publishNotReadyAddresses = true;
  assert.equal(reconcileEndpointSlices(publish, [paymentVm()], []).create[0].endpoints[0].conditions!.ready, true);
});

test('headless redis-cache selects both group members by effective labels, with hostnames and the headless label', () => {
  const group = guide('WorkloadGroup', 'redis-cache-fleet');
  const service = svc(guide('Service', 'redis-cache'));
  const members = [ew(guide('ExternalWorkload', 'redis-vm-1'), { group, ready: true }), ew(guide('ExternalWorkload', 'redis-vm-2'), { group, ready: true })];
  const plan = reconcileEndpointSlices(service, members, []);
  assert.equal(plan.create.length, 1, 'only an IPv4 slice: no member has an IPv6 address');
  const s = plan.create[0];
  assert.equal(s.metadata!.labels!['service.kubernetes.io/headless'], '');
  assert.deepEqual(s.endpoints.map((e) => [e.hostname, e.addresses[0]]), [['redis-vm-1', '10.0.200.10'], ['redis-vm-2', '10.0.200.11']]);
  assert.deepEqual(s.ports, [{ name: 'redis', port: 6379, protocol: 'TCP' }]);
  // Without the group, their own labels do not match the selector.
  assert.equal(reconcileEndpointSlices(service, [ew(guide('ExternalWorkload', 'redis-vm-1'))], []).create.length, 0);
});

test('hybrid-app: postgres and redis Services each list their workload', () => {
  for (const [svcName, ewName, ip] of [['postgres', 'postgres-primary', '10.0.100.50'], ['redis', 'redis-cache', '10.0.100.51']]) {
    const all = [ew(guide('ExternalWorkload', 'postgres-primary'), { ready: true }), ew(guide('ExternalWorkload', 'redis-cache', 'hybrid-app'), { ready: true })];
    const plan = reconcileEndpointSlices(svc(guide('Service', svcName, 'hybrid-app')), all, []);
    assert.deepEqual(addresses(plan.create), [ip]);
    assert.equal(plan.create[0].endpoints[0].targetRef!.name, ewName);
  }
});

test('targetPort: numeric taken as is, named resolved against the effective ports, unknown names left out', () => {
  const service = payment();
  service.spec!.ports = [
    { name: 'web', port: 80, targetPort: 'http' as unknown as never },
    { name: 'metrics', port: 9000, targetPort: 9090 as never },
    { name: 'admin', port: 81, targetPort: 'admin' as unknown as never },
    { name: 'plain', port: 7000 },
  ];
  const s = reconcileEndpointSlices(service, [paymentVm({ ready: true })], []).create[0];
  assert.deepEqual(s.ports, [
    { name: 'web', port: 8080, protocol: 'TCP' },
    { name: 'metrics', port: 9090, protocol: 'TCP' },
    { name: 'plain', port: 7000, protocol: 'TCP' },
  ]);
});

test('workloads whose named port resolves differently land in separate slices (one port set per slice)', () => {
  const service = payment();
  service.spec!.ports = [{ name: 'web', port: 80, targetPort: 'http' as unknown as never }];
  const plan = reconcileEndpointSlices(service, [synthetic(1), synthetic(2, { ports: [{ name: 'http', port: 9999 }] })], []);
  assert.deepEqual(plan.create.map((s) => s.ports![0].port).sort(), [8080, 9999]);
});

test('zone from topology.kubernetes.io/zone; IPv6 addresses go to their own slice family', () => {
  const service = payment();
  service.spec!.ipFamilies = ['IPv4', 'IPv6'];
  const w = synthetic(1, { ips: ['10.1.0.1', 'fd00::1'], labels: { app: 'payment-processor', 'topology.kubernetes.io/zone': 'eu-1a' } });
  const plan = reconcileEndpointSlices(service, [w], []);
  assert.deepEqual(plan.create.map((s) => [s.metadata!.name, s.addressType, s.endpoints[0].addresses[0], s.endpoints[0].zone]), [
    ['payment-processor-ew-0', 'IPv4', '10.1.0.1', 'eu-1a'],
    ['payment-processor-ew6-0', 'IPv6', 'fd00::1', 'eu-1a'],
  ]);
});

test('no write when nothing changed; a change updates the slice in place; the last endpoint gone deletes it', () => {
  const service = payment();
  let slices = applied([], reconcileEndpointSlices(service, [synthetic(1), synthetic(2)], []));
  assert.ok(isEmptyPlan(reconcileEndpointSlices(service, [synthetic(2), synthetic(1)], slices)));
  const notReady = reconcileEndpointSlices(service, [synthetic(1, { ready: false }), synthetic(2)], slices);
  assert.deepEqual([notReady.create.length, notReady.update.length, notReady.delete.length], [0, 1, 0]);
  assert.equal(notReady.update[0].metadata!.resourceVersion, '7', 'update carries the resourceVersion it read');
  slices = applied(slices, notReady);
  const relabelled = reconcileEndpointSlices(service, [synthetic(1, { labels: { app: 'other' } }), synthetic(2)], slices);
  assert.deepEqual(addresses(relabelled.update), ['10.1.0.2']);
  slices = applied(slices, relabelled);
  const gone = reconcileEndpointSlices(service, [], slices);
  assert.deepEqual([gone.create.length, gone.update.length, gone.delete.length], [0, 0, 1]);
});

test(`at most ${MAX_ENDPOINTS_PER_SLICE} endpoints per slice; a new workload fills the slice with room`, () => {
  const service = payment();
  const ws = Array.from({ length: 250 }, (_, i) => synthetic(i));
  const first = reconcileEndpointSlices(service, ws, []);
  assert.deepEqual(first.create.map((s) => s.endpoints.length), [100, 100, 50]);
  assert.deepEqual(first.create.map((s) => s.metadata!.name), ['payment-processor-ew-0', 'payment-processor-ew-1', 'payment-processor-ew-2']);
  const slices = applied([], first);
  const more = reconcileEndpointSlices(service, [...ws, synthetic(900)], slices);
  assert.deepEqual([more.create.length, more.update.length, more.delete.length], [0, 1, 0]);
  assert.equal(more.update[0].endpoints.length, 51);
});

test('a Service port change rewrites the existing slices in place rather than delete+create', () => {
  const service = payment();
  const slices = applied([], reconcileEndpointSlices(service, [synthetic(1)], []));
  service.spec!.ports = [{ name: 'http', port: 8080, targetPort: 8081 as never }];
  const plan = reconcileEndpointSlices(service, [synthetic(1)], slices);
  assert.deepEqual([plan.create.length, plan.update.length, plan.delete.length], [0, 1, 0]);
  assert.equal(plan.update[0].metadata!.name, 'payment-processor-ew-0');
  assert.equal(plan.update[0].ports![0].port, 8081);
});

test('Service labels are copied to its slices; a label change updates them; no selector deletes them', () => {
  const service = payment();
  const slices = applied([], reconcileEndpointSlices(service, [synthetic(1)], []));
  service.metadata!.labels = { team: 'payments' };
  const plan = reconcileEndpointSlices(service, [synthetic(1)], slices);
  assert.equal(plan.update[0].metadata!.labels!.team, 'payments');
  service.spec!.selector = undefined;
  assert.equal(reconcileEndpointSlices(service, [synthetic(1)], slices).delete.length, 1);
});

test('workloads of another namespace are never selected', () => {
  assert.equal(reconcileEndpointSlices(payment(), [synthetic(1, { namespace: 'other' })], []).create.length, 0);
});

test('revoked (outpost.io/revoked-at): left out of every slice like a deleted workload, even with publishNotReadyAddresses; undo brings it back', () => {
  const REVOKED = { 'outpost.io/revoked-at': '2026-11-25T14:00:00Z' };
  const before = applied([], reconcileEndpointSlices(payment(), [paymentVm({ ready: true })], []));
  const cases: [string, V1Service, WorkloadEndpointSource[], string[]][] = [
    ['revoked and ready', payment(), [paymentVm({ ready: true, annotations: REVOKED })], []],
    ['revoked, publishNotReadyAddresses', { ...payment(), spec: { ...payment().spec, publishNotReadyAddresses: true } }, [paymentVm({ annotations: REVOKED })], []],
    ['one of two revoked', payment(), [synthetic(1), synthetic(2, { revoked: true })], ['10.1.0.1']],
    ['an empty revoked-at is no revocation', payment(), [paymentVm({ ready: true, annotations: { 'outpost.io/revoked-at': '' } })], ['10.0.50.100']],
  ];
  for (const [what, service, workloads, want] of cases) {
    assert.deepEqual(addresses(applied(before, reconcileEndpointSlices(service, workloads, before))), want, what);
  }
  const gone = reconcileEndpointSlices(payment(), [paymentVm({ ready: true, annotations: REVOKED })], before);
  assert.equal(gone.delete.length, 1, 'the slice left empty is deleted');
  const back = reconcileEndpointSlices(payment(), [paymentVm({ ready: true })], applied(before, gone));
  assert.deepEqual(addresses(applied(applied(before, gone), back)), ['10.0.50.100']);
});
