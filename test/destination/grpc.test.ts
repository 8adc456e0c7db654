// The destination and policy gRPC services over real mTLS against a list/watch API (FakeApi):
// what proxies receive, changes reaching streams, slow clients, identity checks, API restarts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../src/core/log.js';
import { systemClock } from '../../src/core/clock.js';
import { DESTINATION_KINDS, MeshView } from '../../src/kube/mesh-view.js';
import { DestinationWatcher } from '../../src/destination/watcher.js';
import { ServiceMetrics } from '../../src/core/grpc/service-metrics.js';
import type { RunningGrpcServer } from '../../src/core/grpc/server.js';
import { startDestinationServer } from '../../src/destination/service.js';
import { PolicyWatcher } from '../../src/policy/watcher.js';
import { POLICY_KINDS } from '../../src/policy/inputs.js';
import { startPolicyServer } from '../../src/policy/service.js';
import { FakeApi } from './fake-api.js';
import { fixedServerCredentials } from '../../src/core/tls/renewing-credentials.js';
import { currentAddresses, destinationClient, policyClient, Recorder, stuckGetStream, testPki, type TestPki } from './harness.js';

const api = new FakeApi();
let pki: TestPki;
let dst: RunningGrpcServer;
let pol: RunningGrpcServer;
let views: MeshView[] = [];
const dstMetrics = new ServiceMetrics('destination');
const polMetrics = new ServiceMetrics('policy');
const clients: grpc.Client[] = [];

const slice = (ns: string, svc: string, port: number, eps: { ip: string; ew?: string; ready?: boolean }[], name = `${svc}-ew`) => ({
  metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': 'outpost-external-workloads-controller' } },
  addressType: 'IPv4',
  ports: [{ name: svc === 'payment-processor' ? 'http' : 'postgres', port, protocol: 'TCP' }],
  endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true }, ...(e.ew ? { targetRef: { kind: 'ExternalWorkload', name: e.ew, namespace: ns } } : {}) })),
});

function seed(): void {
  api.put('services', { metadata: { name: 'payment-processor', namespace: 'payments' }, spec: { ports: [{ name: 'http', port: 8080, targetPort: 8080 }], selector: { app: 'payment-processor' } } });
  api.put('services', { metadata: { name: 'postgres', namespace: 'hybrid-app' }, spec: { ports: [{ name: 'postgres', port: 5432, targetPort: 5432 }], selector: { app: 'postgres' } } });
  api.put('externalworkloads', {
    metadata: { name: 'payment-processor-vm-1', namespace: 'payments', labels: { app: 'payment-processor' } },
    spec: { meshTLS: { identity: 'spiffe://cluster.local/payment-processor', serverName: 'payment-processor-vm-1.payments.svc.cluster.local' }, workloadIPs: [{ ip: '10.0.50.100' }], ports: [{ name: 'http', port: 8080 }] },
  });
  api.put('externalworkloads', { metadata: { name: 'postgres-primary', namespace: 'hybrid-app', labels: { app: 'postgres', role: 'primary' } }, spec: { workloadIPs: [{ ip: '10.0.100.50' }], ports: [{ name: 'postgres', port: 5432 }] } });
  api.put('endpointslices', slice('payments', 'payment-processor', 8080, [{ ip: '10.0.50.100', ew: 'payment-processor-vm-1' }]));
  api.put('endpointslices', slice('hybrid-app', 'postgres', 5432, [{ ip: '10.0.100.50', ew: 'postgres-primary' }]));
  api.put('servers', { metadata: { name: 'postgres-server', namespace: 'hybrid-app' }, spec: { podSelector: { matchLabels: { app: 'postgres' } }, port: 5432, proxyProtocol: 'opaque' } });
  api.put('serverauthorizations', { metadata: { name: 'postgres-auth', namespace: 'hybrid-app' }, spec: { server: { name: 'postgres-server' }, client: { meshTLS: { serviceAccounts: [{ name: 'api-server' }] } } } });
}

before(async () => {
  await api.start();
  seed();
  pki = await testPki();
  const kc = api.kubeConfig();
  const dview = MeshView.standalone(kc, DESTINATION_KINDS, silentLogger, systemClock, 'cluster.local');
  const pview = MeshView.standalone(kc, POLICY_KINDS, silentLogger, systemClock, 'cluster.local');
  views = [dview, pview];
  const dwatcher = new DestinationWatcher(dview, 'spiffe');
  const pwatcher = new PolicyWatcher(pview, 'all-unauthenticated', 'spiffe');
  dview.start();
  pview.start();
  const common = { host: '127.0.0.1', port: 0, credentials: fixedServerCredentials(pki.serverCert, pki.ca.certPem), queueCapacity: 32, log: silentLogger };
  dst = await startDestinationServer({ ...common, view: dview, watcher: dwatcher, metrics: dstMetrics });
  pol = await startPolicyServer({ ...common, view: pview, watcher: pwatcher, metrics: polMetrics });
});

after(async () => {
  for (const c of clients) c.close();
  await dst?.stop();
  await pol?.stop();
  for (const v of views) await v.stop();
  await api.stop();
});

async function dclient(uri = 'spiffe://cluster.local/ns/hybrid-app/sa/api-server'): Promise<any> {
  const c = destinationClient(dst.address, await pki.client(uri));
  clients.push(c);
  return c;
}

test('Get streams the guide payment VM with identity, server name, H2 and labels', async () => {
  const c = await dclient();
  const rec = new Recorder(c.Get({ path: 'payment-processor.payments.svc.cluster.local:8080' }));
  const [first] = await rec.until((m) => m.length >= 1);
  const ep = first.add.endpoints[0];
  assert.deepEqual(
    { address: ep.address, port: ep.port, weight: ep.weight, id: ep.tlsIdentity, sni: ep.serverName, hint: ep.protocolHint, inbound: ep.inboundPort },
    { address: '10.0.50.100', port: 8080, weight: 10000, id: 'spiffe://cluster.local/payment-processor', sni: 'payment-processor-vm-1.payments.svc.cluster.local', hint: 'PROTOCOL_H2', inbound: 4143 },
  );
  assert.deepEqual(ep.metricLabels, { dst_namespace: 'payments', dst_service: 'payment-processor', dst_external_workload: 'payment-processor-vm-1' });
  rec.call.cancel();
});

test('postgres (Server proxyProtocol opaque) is opaque; a readiness flip reaches the stream', async () => {
  const c = await dclient();
  const rec = new Recorder(c.Get({ path: 'postgres.hybrid-app:5432' }));
  const [first] = await rec.until((m) => m.length >= 1);
  assert.equal(first.add.endpoints[0].protocolHint, 'PROTOCOL_OPAQUE');
  api.put('endpointslices', slice('hybrid-app', 'postgres', 5432, [{ ip: '10.0.100.50', ew: 'postgres-primary', ready: false }]));
  const msgs = await rec.until((m) => m.some((u) => u.noEndpoints), 3_000, 'noEndpoints');
  assert.deepEqual(currentAddresses(msgs), []);
  assert.ok(msgs.some((u) => u.remove?.endpoints[0].address === '10.0.100.50'));
  api.put('endpointslices', slice('hybrid-app', 'postgres', 5432, [{ ip: '10.0.100.50', ew: 'postgres-primary' }]));
  await rec.until((m) => currentAddresses(m).length === 1, 3_000, 're-add');
  rec.call.cancel();
});

test('a workload edit (identity) or a workload that appears after its slice reaches the stream', async () => {
  const c = await dclient();
  const rec = new Recorder(c.Get({ path: 'payment-processor.payments:8080' }));
  await rec.until((m) => currentAddresses(m).length === 1);
  const vm = (identity: string) => ({
    metadata: { name: 'payment-processor-vm-1', namespace: 'payments', labels: { app: 'payment-processor' } },
    spec: { meshTLS: { identity, serverName: 'payment-processor-vm-1.payments.svc.cluster.local' }, workloadIPs: [{ ip: '10.0.50.100' }], ports: [{ name: 'http', port: 8080 }] },
  });
  api.put('externalworkloads', vm('spiffe://cluster.local/payment-processor-v2'));
  await rec.until((m) => m.at(-1)?.add?.endpoints[0].tlsIdentity === 'spiffe://cluster.local/payment-processor-v2', 3_000, 'the new identity');
  api.put('externalworkloads', vm('spiffe://cluster.local/payment-processor'));
  await rec.until((m) => m.at(-1)?.add?.endpoints[0].tlsIdentity === 'spiffe://cluster.local/payment-processor', 3_000, 'the identity restored');
  api.put('endpointslices', slice('payments', 'payment-processor', 8080, [{ ip: '10.0.50.101', ew: 'payment-processor-vm-2' }], 'payment-processor-vm2'));
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(currentAddresses(rec.messages), ['10.0.50.100:8080'], 'held back until the workload is known');
  api.put('externalworkloads', { metadata: { name: 'payment-processor-vm-2', namespace: 'payments', labels: { app: 'payment-processor' } }, spec: { workloadIPs: [{ ip: '10.0.50.101' }], ports: [{ name: 'http', port: 8080 }] } });
  await rec.until((m) => currentAddresses(m).length === 2, 3_000, 'the second workload');
  api.delete('endpointslices', 'payments', 'payment-processor-vm2');
  await rec.until((m) => currentAddresses(m).length === 1, 3_000, 'the slice deleted');
  rec.call.cancel();
});

test('Get streams the HTTPRoutes attached to the service port, after its endpoints, and every change to them', async () => {
  const orders = (type: string, value: string, port = 8080) => ({
    metadata: { name: 'orders', namespace: 'payments', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { parentRefs: [{ group: 'core', kind: 'Service', name: 'payment-processor', port }], rules: [{ matches: [{ path: { type, value }, method: 'POST' }] }] },
  });
  api.put('httproutes', orders('PathPrefix', '/orders'));
  api.put('httproutes', { metadata: { name: 'server-route', namespace: 'payments' }, spec: { parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 'payment-processor' }] } });
  await new Promise((r) => setTimeout(r, 200));
  const c = await dclient();
  const rec = new Recorder(c.Get({ path: 'payment-processor.payments:8080' }));
  const initial = await rec.until((m) => m.length >= 2);
  assert.ok(initial[0].add, 'endpoints come first (the first message of a stream resets the client)');
  assert.deepEqual(initial[1].routes, { routes: [{ name: 'orders', matches: [{ pathType: 'PATH_PREFIX', path: '/orders', method: 'POST', headers: [], queryParams: [] }] }] });
  api.put('httproutes', orders('Exact', '/orders/new'));
  const changed = await rec.until((m) => m.length >= 3, 3_000, 'the changed route');
  assert.equal(changed[2].routes.routes[0].matches[0].pathType, 'PATH_EXACT');
  api.put('httproutes', orders('Exact', '/orders/new', 9999));
  const moved = await rec.until((m) => m.length >= 4, 3_000, 'the route moved to another port');
  assert.deepEqual(moved[3].routes, { routes: [] });
  api.delete('httproutes', 'payments', 'orders');
  api.delete('httproutes', 'payments', 'server-route');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(rec.messages.length, 4, 'no message when nothing attached to the port changed');
  rec.call.cancel();
});

test('bad authorities are refused with INVALID_ARGUMENT; an unknown service says it does not exist', async () => {
  const c = await dclient();
  const bad = await new Recorder(c.Get({ path: 'postgres:5432' })).ended();
  assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
  const rec = new Recorder(c.Get({ path: 'nope.hybrid-app.svc.cluster.local:80' }));
  const [m] = await rec.until((x) => x.length >= 1);
  assert.deepEqual(m.noEndpoints, { exists: false });
  rec.call.cancel();
});

test('GetProfile of ip:port resolves the workload', async () => {
  const c = await dclient();
  const rec = new Recorder(c.GetProfile({ path: '10.0.100.50:5432' }));
  const [p] = await rec.until((x) => x.length >= 1);
  assert.equal(p.opaqueProtocol, true);
  assert.equal(p.endpoint.metricLabels.dst_external_workload, 'postgres-primary');
  rec.call.cancel();
});

test('a client without a certificate from the trust anchors cannot connect', async () => {
  const other = await testPki();
  const c = destinationClient(dst.address, await other.client('spiffe://cluster.local/ns/x/sa/y'));
  clients.push(c);
  const s = await new Recorder(c.Get({ path: 'postgres.hybrid-app:5432' })).ended();
  assert.equal(s.code, grpc.status.UNAVAILABLE);
});

test('a client that never reads is closed; the others keep getting every change promptly', async () => {
  const before = dstMetrics.overflows;
  const slow = await stuckGetStream(dst.address, pki, 'payment-processor.payments:8080');
  try {
    const fast = new Recorder((await dclient()).Get({ path: 'payment-processor.payments:8080' }));
    await fast.until((m) => m.length >= 1);
    // Big updates (200 endpoints each) so that the slow client's HTTP/2 window fills quickly.
    for (let round = 0; round < 200 && dstMetrics.overflows === before; round++) {
      const eps = Array.from({ length: 200 }, (_, i) => ({ ip: `10.1.${round % 2}.${i}` }));
      api.put('endpointslices', slice('payments', 'payment-processor', 8080, [{ ip: '10.0.50.100', ew: 'payment-processor-vm-1' }, ...eps]));
      await new Promise((r) => setTimeout(r, 15));
    }
    assert.ok(dstMetrics.overflows > before, 'the slow stream overflowed');
    const t0 = Date.now();
    api.put('endpointslices', slice('payments', 'payment-processor', 8080, [{ ip: '10.0.50.100', ew: 'payment-processor-vm-1' }, { ip: '10.9.9.9' }]));
    await fast.until((m) => currentAddresses(m).join() === '10.0.50.100:8080,10.9.9.9:8080', 3_000, 'the last change');
    assert.ok(Date.now() - t0 < 1_000, `the fast client got the change in ${Date.now() - t0} ms`);
    // Once it reads again, the stuck client sees its stream ended with an error, so it re-subscribes.
    assert.match(await slow.drainAndWaitEnd(), /grpc-status 8|rst 11/);
    fast.call.cancel();
  } finally {
    slow.close();
  }
  assert.match(dstMetrics.text(), /outpost_destination_stream_overflows_total [1-9]/);
  api.put('endpointslices', slice('payments', 'payment-processor', 8080, [{ ip: '10.0.50.100', ew: 'payment-processor-vm-1' }]));
});

test('policy: the postgres VM gets its opaque Server admitting only api-server; edits stream; others are refused', async () => {
  const own = policyClient(pol.address, await pki.client('spiffe://cluster.local/ns/hybrid-app/externalworkload/postgres-primary'));
  const other = policyClient(pol.address, await pki.client('spiffe://cluster.local/ns/hybrid-app/sa/api-server'));
  clients.push(own, other);
  const rec = new Recorder(own.GetPort({ workload: 'hybrid-app/postgres-primary', port: 5432 }));
  const [p] = await rec.until((m) => m.length >= 1);
  assert.equal(p.protocol, 'OPAQUE');
  assert.deepEqual(p.labels, { kind: 'server', name: 'postgres-server' });
  assert.deepEqual(p.authorizations.map((a: any) => a.authentication.meshTls.identities), [['spiffe://cluster.local/ns/hybrid-app/sa/api-server']]);
  api.delete('serverauthorizations', 'hybrid-app', 'postgres-auth');
  const msgs = await rec.until((m) => m.length >= 2, 3_000, 'the policy edit');
  assert.deepEqual(msgs[1].authorizations, []);
  api.put('serverauthorizations', { metadata: { name: 'postgres-auth', namespace: 'hybrid-app' }, spec: { server: { name: 'postgres-server' }, client: { meshTLS: { serviceAccounts: [{ name: 'api-server' }] } } } });
  await rec.until((m) => m.length >= 3, 3_000, 'the policy restored');
  rec.call.cancel();
  const denied = await new Recorder(other.GetPort({ workload: 'hybrid-app/postgres-primary', port: 5432 })).ended();
  assert.equal(denied.code, grpc.status.PERMISSION_DENIED);
  const missing = await new Recorder(own.GetPort({ workload: 'hybrid-app/nope', port: 5432 })).ended();
  assert.equal(missing.code, grpc.status.NOT_FOUND);
  const dflt = new Recorder(own.GetPort({ workload: 'hybrid-app/postgres-primary', port: 9999 }));
  const [d] = await dflt.until((m) => m.length >= 1);
  assert.deepEqual(d.labels, { kind: 'default', name: 'all-unauthenticated' });
  dflt.call.cancel();
});

test('streams survive an API-server restart: informers relist and resume', async () => {
  const c = await dclient();
  const rec = new Recorder(c.Get({ path: 'postgres.hybrid-app:5432' }));
  await rec.until((m) => currentAddresses(m).length === 1);
  const port = api.port;
  await api.stop();
  await new Promise((r) => setTimeout(r, 300));
  await api.start(port);
  api.put('endpointslices', slice('hybrid-app', 'postgres', 5432, [{ ip: '10.0.100.50', ew: 'postgres-primary' }, { ip: '10.0.100.77' }]));
  await rec.until((m) => currentAddresses(m).length === 2, 10_000, 'the change after the restart');
  assert.ok(views[0].restarts() > 0);
  rec.call.cancel();
});
