// Table output: kubectl-style ages, Name first and Age last, per-kind cells, PartialObjectMetadata
// rows (for -A and --show-labels), watch events and Accept negotiation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/store/types.js';
import { findByKind } from '../../src/apiserver/resources/index.js';
import { admitObject } from '../../src/apiserver/schema/admit.js';
import { buildTable, humanDuration, negotiateTable, tableForObject, tableWatchEvent } from '../../src/apiserver/table.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const created = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

test('ages read like kubectl', () => {
  const cases: [number, string][] = [
    [0, '0s'], [17, '17s'], [119, '119s'], [120, '2m'], [5 * 60 + 7, '5m7s'], [5 * 60, '5m'], [10 * 60 + 5, '10m'],
    [179 * 60, '179m'], [3 * 3600, '3h'], [3 * 3600 + 25 * 60, '3h25m'], [8 * 3600 + 59 * 60, '8h'], [47 * 3600, '47h'],
    [2 * 86400 + 3 * 3600, '2d3h'], [7 * 86400, '7d'], [8 * 86400 + 5 * 3600, '8d'], [800 * 86400, '2y70d'], [9 * 365 * 86400, '9y'],
  ];
  for (const [s, want] of cases) assert.equal(humanDuration(s * 1000), want, `${s}s`);
  assert.equal(humanDuration(-500), '0s');
  assert.equal(humanDuration(-5000), '<invalid>');
});

function stored(kind: string, group: string, obj: Omit<KubeObject, 'metadata'> & { metadata: KubeObject['metadata'] }): KubeObject {
  const rt = findByKind(group, kind)!;
  const admitted = admitObject(rt, rt.versions.find((v) => v.storage)!.name, obj);
  assert.deepEqual(admitted.causes, []);
  return admitted.object;
}

test('ExternalWorkload rows: identity, IPs, ready, wide group and service account; metadata object', () => {
  const rt = findByKind('workload.linkerd.io', 'ExternalWorkload')!;
  const ew1 = stored('ExternalWorkload', 'workload.linkerd.io', {
    metadata: { name: 'payment-processor-vm-1', namespace: 'payments', labels: { app: 'payment-processor' }, uid: 'u1', resourceVersion: '12', creationTimestamp: created(17), managedFields: [{}] } as any,
    spec: { meshTLS: { identity: 'spiffe://cluster.local/payment-processor', serverName: 'p.payments.svc.cluster.local' }, workloadIPs: [{ ip: '10.0.50.100' }] },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const ew2 = stored('ExternalWorkload', 'workload.linkerd.io', {
    metadata: { name: 'redis-vm-2', namespace: 'caching', labels: { workloadGroup: 'redis-cache-fleet' }, annotations: { 'outpost.io/service-account': 'redis' }, creationTimestamp: created(3 * 86400) },
    spec: { workloadIPs: [{ ip: '10.0.200.11' }, { ip: 'fd00::11' }] },
  });
  const ew3 = stored('ExternalWorkload', 'workload.linkerd.io', { metadata: { name: 'lonely', namespace: 'ns', creationTimestamp: created(60) }, spec: {} });
  const table = buildTable(rt, [ew1, ew2, ew3], { now: NOW, resourceVersion: '99' });
  assert.equal(table.kind, 'Table');
  assert.equal(table.apiVersion, 'meta.k8s.io/v1');
  assert.deepEqual(table.metadata, { resourceVersion: '99' });
  assert.deepEqual(table.columnDefinitions.map((c) => [c.name, c.priority]), [['Name', 0], ['Identity', 0], ['IPs', 0], ['Ready', 0], ['Group', 1], ['Service-Account', 1], ['Age', 0]]);
  assert.equal(table.columnDefinitions[0].format, 'name');
  assert.deepEqual(table.rows[0].cells, ['payment-processor-vm-1', 'spiffe://cluster.local/payment-processor', '10.0.50.100', 'True', '<none>', '<none>', '17s']);
  assert.deepEqual(table.rows[1].cells, ['redis-vm-2', '(group redis-cache-fleet)', '10.0.200.11,fd00::11', 'Unknown', 'redis-cache-fleet', 'redis', '3d']);
  assert.equal(table.rows[2].cells[1], 'spiffe://cluster.local/ns/ns/externalworkload/lonely');
  const meta = table.rows[0].object!;
  assert.equal(meta.kind, 'PartialObjectMetadata');
  assert.equal(meta.apiVersion, 'meta.k8s.io/v1');
  assert.equal(meta.metadata.namespace, 'payments');
  assert.deepEqual(meta.metadata.labels, { app: 'payment-processor' });
  assert.equal(meta.metadata.managedFields, undefined);
  assert.equal((meta as any).spec, undefined);
});

test('Service, EndpointSlice, Server, Namespace and Event cells', () => {
  const svc = stored('Service', '', { metadata: { name: 'web', namespace: 'd', creationTimestamp: created(5) }, spec: { clusterIP: '198.19.240.10', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }], selector: { app: 'web', tier: 'fe' } } });
  const svcRow = tableForObject(findByKind('', 'Service')!, svc, { now: NOW }).rows[0].cells;
  assert.equal(svcRow[1], 'ClusterIP');
  assert.equal(svcRow[2], '198.19.240.10'); // allocated at create (src/apiserver/service-ips.ts), shown as stored
  assert.deepEqual(svcRow.slice(3), ['<none>', '80/TCP,53/UDP', '5s', 'app=web,tier=fe']); // Age before the wide Selector, as kube-apiserver prints it
  const headless = stored('Service', '', { metadata: { name: 'h', namespace: 'd' }, spec: { clusterIP: 'None', selector: {} } });
  assert.deepEqual(tableForObject(findByKind('', 'Service')!, headless, { now: NOW }).rows[0].cells, ['h', 'ClusterIP', 'None', '<none>', '<none>', '<unknown>', '<none>']);

  const slice = stored('EndpointSlice', 'discovery.k8s.io', {
    metadata: { name: 'web-abc', namespace: 'd', creationTimestamp: created(65) },
    addressType: 'IPv4',
    endpoints: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'].map((a) => ({ addresses: [a], conditions: { ready: true } })),
    ports: [{ name: 'http', port: 8080 }],
  });
  assert.deepEqual(tableForObject(findByKind('discovery.k8s.io', 'EndpointSlice')!, slice, { now: NOW }).rows[0].cells, ['web-abc', 'IPv4', '8080', '10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...', '65s']);

  const srv = stored('Server', 'policy.linkerd.io', { metadata: { name: 'pg', namespace: 'd' }, spec: { podSelector: { matchLabels: { app: 'pg' } }, port: 5432, proxyProtocol: 'opaque' } });
  assert.deepEqual(tableForObject(findByKind('policy.linkerd.io', 'Server')!, srv, { now: NOW }).rows[0].cells.slice(0, 3), ['pg', '5432', 'opaque']);

  const ns = stored('Namespace', '', { metadata: { name: 'payments', creationTimestamp: created(7200) } });
  assert.deepEqual(tableForObject(findByKind('', 'Namespace')!, ns, { now: NOW }).rows[0].cells, ['payments', 'Active', '120m']);

  const ev = stored('Event', '', {
    metadata: { name: 'ew.1', namespace: 'd', creationTimestamp: created(600) },
    involvedObject: { kind: 'ExternalWorkload', name: 'vm-1', namespace: 'd' },
    type: 'Warning', reason: 'ProbeFailed', message: 'GET /health: 503', lastTimestamp: created(42),
  });
  assert.deepEqual(tableForObject(findByKind('', 'Event')!, ev, { now: NOW }).rows[0].cells, ['ew.1', '42s', 'Warning', 'ProbeFailed', 'externalworkload/vm-1', 'GET /health: 503', '10m']);
});

test('WorkloadGroup rows count members', () => {
  const wg = stored('WorkloadGroup', 'workload.linkerd.io', { metadata: { name: 'fleet', namespace: 'c' }, spec: { meshTLS: { identity: 'spiffe://cluster.local/redis-cache' } }, status: { members: 3, readyMembers: 2 } });
  assert.deepEqual(tableForObject(findByKind('workload.linkerd.io', 'WorkloadGroup')!, wg, { now: NOW }).rows[0].cells.slice(0, 4), ['fleet', 'spiffe://cluster.local/redis-cache', 3, '2/3']);
});

test('watch events carry a one-row Table; includeObject is honoured', () => {
  const rt = findByKind('', 'Namespace')!;
  const ns: KubeObject = { metadata: { name: 'a', resourceVersion: '7', creationTimestamp: created(1) }, status: { phase: 'Terminating' } };
  const ev = tableWatchEvent(rt, 'MODIFIED', ns, { now: NOW });
  assert.equal(ev.type, 'MODIFIED');
  assert.equal(ev.object.rows.length, 1);
  assert.equal(ev.object.metadata.resourceVersion, '7');
  assert.deepEqual(ev.object.rows[0].cells, ['a', 'Terminating', '1s']);
  assert.equal(buildTable(rt, [ns], { now: NOW, includeObject: 'None' }).rows[0].object, undefined);
  assert.equal(buildTable(rt, [ns], { now: NOW, includeObject: 'Object' }).rows[0].object, ns);
  assert.equal(buildTable(rt, [ns], { now: NOW, version: 'v1beta1' }).apiVersion, 'meta.k8s.io/v1beta1');
});

test('Accept negotiation picks the Table version kubectl asks for', () => {
  assert.equal(negotiateTable('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'), 'v1');
  assert.equal(negotiateTable('application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'), 'v1beta1');
  assert.equal(negotiateTable('application/json'), undefined);
  assert.equal(negotiateTable('application/json, */*;q=0.8'), undefined);
  assert.equal(negotiateTable(undefined), undefined);
});
