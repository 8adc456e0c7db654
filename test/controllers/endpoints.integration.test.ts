// The controllers in a real control plane: the guide's manifests applied with real kubectl become
// EndpointSlices; changes to workloads, groups and Services show up in the slices quickly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, PatchStrategy, setHeaderOptions, type V1EndpointSlice } from '@kubernetes/client-node';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl } from '../support/cli.js';
import { GUIDE_DIR } from './guide.js';
import { waitFor } from '../support/wait.js';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** client-node returns class instances; compare their JSON. */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v));
const EW = { group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads' };
const WG = { group: 'workload.linkerd.io', version: 'v1beta1', plural: 'workloadgroups' };

describe('EndpointSlices for the guide', () => {
  let cp: TestControlPlane;
  let discovery: DiscoveryV1Api;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  const k = async (...args: string[]) => {
    const r = await kubectl(cp.kubeconfigPath, args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const slicesOf = async (namespace: string, service: string): Promise<V1EndpointSlice[]> =>
    (await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` })).items;
  const endpointsOf = async (namespace: string, service: string) =>
    (await slicesOf(namespace, service)).flatMap((s) => s.endpoints.map((e) => ({ ip: e.addresses[0], name: e.targetRef?.name, ready: e.conditions?.ready, hostname: e.hostname })));

  before(async () => {
    cp = await startTestControlPlane();
    discovery = cp.kubeConfig.makeApiClient(DiscoveryV1Api);
    custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
    core = cp.kubeConfig.makeApiClient(CoreV1Api);
    await k('apply', '--validate=false', '-f', join(GUIDE_DIR, '00-namespaces.yaml'), '-f', join(GUIDE_DIR, 'namespace.yaml'));
    for (const f of ['external-workload.yaml', 'payment-service.yaml', 'workload-group.yaml', 'redis-vm-1.yaml', 'redis-headless-service.yaml', 'services.yaml']) {
      await k('apply', '--validate=false', '-f', join(GUIDE_DIR, f));
    }
  });
  after(async () => cp?.dispose());

  test('payment-processor lists 10.0.50.100, not ready until assume-ready (no proxy), then ready — seen with real kubectl', async () => {
    await waitFor('payment-processor slice', async () => (await endpointsOf('payments', 'payment-processor')).length === 1);
    assert.deepEqual(await endpointsOf('payments', 'payment-processor'), [{ ip: '10.0.50.100', name: 'payment-processor-vm-1', ready: false, hostname: undefined }]);
    const describe = await waitFor('AwaitingProxy condition', async () => {
      const out = await k('describe', 'externalworkload', 'payment-processor-vm-1', '-n', 'payments');
      return out.includes('AwaitingProxy') ? out : undefined;
    });
    assert.match(describe, /outpost\.io\/assume-ready=true/, 'the condition message tells how to opt in');
    await k('annotate', 'externalworkload', 'payment-processor-vm-1', '-n', 'payments', 'outpost.io/assume-ready=true');
    await waitFor('ready endpoint', async () => (await endpointsOf('payments', 'payment-processor'))[0]?.ready === true);
    const table = await k('get', 'endpointslices', '-n', 'payments', '-l', 'kubernetes.io/service-name=payment-processor');
    assert.match(table, /payment-processor-ew-0\s+IPv4\s+8080\s+10\.0\.50\.100/);
    const [slice] = await slicesOf('payments', 'payment-processor');
    assert.equal(slice.metadata!.labels!['endpointslice.kubernetes.io/managed-by'], 'outpost-external-workloads-controller');
    assert.equal(slice.metadata!.ownerReferences![0].kind, 'Service');
  });

  test('headless redis-cache lists both group members with hostnames; the group counts them; effective labels are shown', async () => {
    const eps = await waitFor('redis-cache endpoints', async () => {
      const e = await endpointsOf('caching', 'redis-cache');
      return e.length === 2 ? e : undefined;
    });
    assert.deepEqual(eps.map((e) => [e.name, e.hostname, e.ip]), [['redis-vm-1', 'redis-vm-1', '10.0.200.10'], ['redis-vm-2', 'redis-vm-2', '10.0.200.11']]);
    const [slice] = await slicesOf('caching', 'redis-cache');
    assert.equal(slice.metadata!.labels!['service.kubernetes.io/headless'], '');
    await waitFor('group status', async () => /redis-cache-fleet\s+\S+\s+2\s+0\/2/.test(await k('get', 'workloadgroups', '-n', 'caching')));
    const described = await waitFor('effective labels annotation', async () => {
      const out = await k('describe', 'externalworkload', 'redis-vm-1', '-n', 'caching');
      return out.includes('outpost.io/effective-labels') ? out : undefined;
    });
    assert.match(described, /outpost\.io\/effective-labels: app=redis,datacenter=dc-1,instance=1,mesh=linkerd,tier=cache,workloadGroup=redis-cache-fleet/);
  });

  test('hybrid-app postgres and redis Services list their workloads', async () => {
    await waitFor('postgres', async () => (await endpointsOf('hybrid-app', 'postgres'))[0]?.ip === '10.0.100.50');
    await waitFor('redis', async () => (await endpointsOf('hybrid-app', 'redis'))[0]?.ip === '10.0.100.51');
  });

  test('the guide\'s `kubectl get endpoints postgres redis -n hybrid-app` lists the workloads once ready (core/v1 Endpoints mirror)', async () => {
    const notReady = await waitFor('postgres Endpoints (not ready)', async () => {
      const e = await core.readNamespacedEndpoints({ namespace: 'hybrid-app', name: 'postgres' });
      return e.subsets?.[0]?.notReadyAddresses?.length ? e : undefined;
    });
    assert.deepEqual(plain(notReady.subsets), [{ notReadyAddresses: [{ ip: '10.0.100.50', targetRef: { kind: 'ExternalWorkload', namespace: 'hybrid-app', name: 'postgres-primary', uid: notReady.subsets![0].notReadyAddresses![0].targetRef!.uid } }], ports: [{ name: 'postgres', port: 5432, protocol: 'TCP' }] }]);
    assert.equal(notReady.metadata!.labels!['endpoints.kubernetes.io/managed-by'], 'outpost-external-workloads-controller');
    assert.equal(notReady.metadata!.ownerReferences![0].kind, 'Service');
    const uidBefore = notReady.metadata!.uid;
    for (const name of ['postgres-primary', 'redis-cache']) await k('annotate', 'externalworkload', name, '-n', 'hybrid-app', 'outpost.io/assume-ready=true');
    const table = await waitFor('kubectl get endpoints', async () => {
      const out = await k('get', 'endpoints', 'postgres', 'redis', '-n', 'hybrid-app');
      return /postgres\s+10\.0\.100\.50:5432\s/.test(out) && /redis\s+10\.0\.100\.51:6379\s/.test(out) ? out : undefined;
    });
    assert.match(table, /^NAME\s+ENDPOINTS\s+AGE\n/);
    const ready = await core.readNamespacedEndpoints({ namespace: 'hybrid-app', name: 'postgres' });
    assert.equal(ready.metadata!.uid, uidBefore, 'updated in place');
    assert.equal(ready.subsets![0].notReadyAddresses, undefined);
    const hostnames = () => k('get', 'ep', '-n', 'caching', 'redis-cache', '-o', 'jsonpath={.subsets[0].notReadyAddresses[*].hostname}');
    await waitFor('headless redis-cache Endpoints with hostnames', async () => (await hostnames()) === 'redis-vm-1 redis-vm-2');
  });

  test('a Service without a selector keeps its hand-made Endpoints; no Endpoints for it otherwise', async () => {
    await k('create', 'service', 'clusterip', 'legacy-db', '-n', 'hybrid-app', '--tcp=5432:5432');
    await core.patchNamespacedService({ namespace: 'hybrid-app', name: 'legacy-db', body: [{ op: 'remove', path: '/spec/selector' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    const manual = { metadata: { name: 'legacy-db', namespace: 'hybrid-app' }, subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }] };
    await k('create', 'service', 'clusterip', 'no-endpoints', '-n', 'hybrid-app', '--clusterip=None');
    await core.patchNamespacedService({ namespace: 'hybrid-app', name: 'no-endpoints', body: [{ op: 'remove', path: '/spec/selector' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await core.createNamespacedEndpoints({ namespace: 'hybrid-app', body: manual });
    await k('annotate', 'service', 'legacy-db', '-n', 'hybrid-app', 'touched=yes'); // a Service event: the controller looks again
    await new Promise((r) => setTimeout(r, 300));
    const kept = await core.readNamespacedEndpoints({ namespace: 'hybrid-app', name: 'legacy-db' });
    assert.deepEqual(plain(kept.subsets), [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432, protocol: 'TCP' }] }]);
    assert.equal(kept.metadata!.labels, undefined);
    assert.match(await k('get', 'endpoints', 'legacy-db', '-n', 'hybrid-app'), /legacy-db\s+192\.0\.2\.10:5432/);
    const none = await kubectl(cp.kubeconfigPath, ['get', 'endpoints', 'no-endpoints', '-n', 'hybrid-app']);
    assert.match(none.stderr, /NotFound|not found/);

    // Given a selector, the Service's Endpoints become ours (as in Kubernetes); without it again, ours go.
    await core.patchNamespacedService({ namespace: 'hybrid-app', name: 'legacy-db', body: { spec: { selector: { app: 'postgres' } } } }, MERGE);
    const adopted = await waitFor('hand-made Endpoints taken over', async () => {
      const e = await core.readNamespacedEndpoints({ namespace: 'hybrid-app', name: 'legacy-db' });
      return e.metadata?.labels?.['endpoints.kubernetes.io/managed-by'] ? e : undefined;
    });
    assert.equal(adopted.metadata!.uid, kept.metadata!.uid, 'updated in place');
    assert.deepEqual(plain(adopted.subsets).map((s: { addresses: { ip: string }[] }) => s.addresses.map((a) => a.ip)), [['10.0.100.50']]);
    await core.patchNamespacedService({ namespace: 'hybrid-app', name: 'legacy-db', body: [{ op: 'remove', path: '/spec/selector' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await waitFor('our Endpoints deleted when the selector goes', async () => (await kubectl(cp.kubeconfigPath, ['get', 'endpoints', 'legacy-db', '-n', 'hybrid-app'])).code !== 0, 2000);
  });

  test('a group template change reaches every member within a second', async () => {
    const t0 = Date.now();
    await custom.patchNamespacedCustomObject({ ...WG, namespace: 'caching', name: 'redis-cache-fleet', body: { spec: { template: { metadata: { labels: { tier: 'warm' } } } } } }, MERGE);
    await waitFor('members leave redis-cache', async () => (await slicesOf('caching', 'redis-cache')).length === 0, { timeoutMs: 1000, intervalMs: 5 });
    assert.ok(Date.now() - t0 < 1000);
    await custom.patchNamespacedCustomObject({ ...WG, namespace: 'caching', name: 'redis-cache-fleet', body: { spec: { template: { metadata: { labels: { tier: 'cache' } } } } } }, MERGE);
    await waitFor('members back', async () => (await endpointsOf('caching', 'redis-cache')).length === 2, { timeoutMs: 1000, intervalMs: 5 });
  });

  test('workload label, IP, port and deletion changes, and Service changes and deletion, reach the slices fast', async () => {
    const timed = async (what: string, change: () => Promise<unknown>, done: () => Promise<boolean>) => {
      const t0 = Date.now();
      await change();
      await waitFor(what, done, { timeoutMs: 2000, intervalMs: 5 });
      return Date.now() - t0;
    };
    const ns = 'hybrid-app';
    const times = [
      await timed('IP change', () => custom.patchNamespacedCustomObject({ ...EW, namespace: ns, name: 'postgres-primary', body: { spec: { workloadIPs: [{ ip: '10.0.100.60' }] } } }, MERGE), async () => (await endpointsOf(ns, 'postgres'))[0]?.ip === '10.0.100.60'),
      await timed('label change', () => custom.patchNamespacedCustomObject({ ...EW, namespace: ns, name: 'postgres-primary', body: { metadata: { labels: { app: 'postgres-old' } } } }, MERGE), async () => (await slicesOf(ns, 'postgres')).length === 0),
      await timed('label back', () => custom.patchNamespacedCustomObject({ ...EW, namespace: ns, name: 'postgres-primary', body: { metadata: { labels: { app: 'postgres' } } } }, MERGE), async () => (await slicesOf(ns, 'postgres')).length === 1),
      await timed('Service targetPort named', () => core.patchNamespacedService({ namespace: ns, name: 'postgres', body: { spec: { ports: [{ name: 'postgres', port: 5432, targetPort: 'postgres' }] } } }, MERGE), async () => (await slicesOf(ns, 'postgres'))[0]?.ports?.[0]?.port === 5432),
      await timed('workload port renumbered', () => custom.patchNamespacedCustomObject({ ...EW, namespace: ns, name: 'postgres-primary', body: { spec: { ports: [{ name: 'postgres', port: 6432, protocol: 'TCP' }] } } }, MERGE), async () => (await slicesOf(ns, 'postgres'))[0]?.ports?.[0]?.port === 6432),
      await timed('workload deleted', () => custom.deleteNamespacedCustomObject({ ...EW, namespace: ns, name: 'postgres-primary' }), async () => (await slicesOf(ns, 'postgres')).length === 0),
      await timed('Service deleted', () => core.deleteNamespacedService({ namespace: ns, name: 'redis' }), async () => (await slicesOf(ns, 'redis')).length === 0),
    ];
    await waitFor('redis Endpoints gone with its Service', async () => (await kubectl(cp.kubeconfigPath, ['get', 'endpoints', 'redis', '-n', ns])).code !== 0, 2000);
    await waitFor('postgres Endpoints empty after its workload was deleted', async () => (await core.readNamespacedEndpoints({ namespace: ns, name: 'postgres' })).subsets === undefined, 2000);
    // Generous bound for a shared 2-core test machine; bench/endpoints.ts measures the p99.
    for (const t of times) assert.ok(t < 1000, `took ${t} ms`);
  });

  test('outpost up serves the health API with an identity-issued certificate for health.outpost.svc.cluster.local', async () => {
    const [host, port] = cp.info.listeners.health.split(':');
    const ca = readFileSync(cp.info.trustAnchorsFile!, 'utf8');
    const san = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host, port: Number(port), ca, servername: 'health.outpost.svc.cluster.local', ALPNProtocols: ['h2'] }, () => {
        resolve(socket.getPeerCertificate().subjectaltname ?? '');
        socket.destroy();
      });
      socket.on('error', reject);
    });
    assert.match(san, /DNS:health\.outpost\.svc\.cluster\.local/);
  });
});
