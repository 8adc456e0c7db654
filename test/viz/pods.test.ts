// Injected pods in the viz: each pod's proxy is a scrape target on the pod's own IP, labelled with
// the Deployment it belongs to, so `viz stat deploy/api-server` adds up its pods' proxies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podInfo } from '../../src/viz/pod-targets.js';
import { stat } from '../../src/viz/service.js';
import { MemoryBackend, type ScrapedTarget } from '../../src/viz/backend.js';
import { TargetHistory } from '../../src/viz/history.js';
import { parsePrometheusText } from '../../src/viz/prom-text.js';
import { ProxyMetrics } from '../../src/proxy/metrics/proxy-metrics.js';

const pod = (name: string, ip: string | undefined, ready: string, injected = true) => ({
  metadata: { name, namespace: 'hybrid-app', labels: { app: 'api-server', 'pod-template-hash': 'abc', 'linkerd.io/proxy-deployment': 'api-server' } },
  spec: { serviceAccountName: 'api-server', initContainers: injected ? [{ name: 'outpost-init' }, { name: 'outpost-proxy' }] : [], containers: [{ ports: [{ containerPort: 8080 }] }] },
  status: { podIP: ip, conditions: [{ type: 'Ready', status: ready }] },
});

test('a pod target: the proxy on the pod IP, its Deployment as app, its ServiceAccount identity, its readiness', () => {
  assert.deepEqual(podInfo(pod('api-server-abc-1', '198.18.0.11', 'True'), 'cluster.local', 'spiffe'), {
    key: 'hybrid-app/api-server-abc-1',
    labels: { namespace: 'hybrid-app', workload: 'api-server-abc-1', app: 'api-server', workload_kind: 'pod' },
    identity: 'spiffe://cluster.local/ns/hybrid-app/sa/api-server',
    health: 'Ready',
    adminAddress: '198.18.0.11:4191',
    tapAddress: '198.18.0.11:4190',
    ports: [{ name: undefined, port: 8080 }],
  });
  assert.equal(podInfo(pod('x', '198.18.0.12', 'True', false), 'cluster.local', 'spiffe'), undefined, 'a pod without the proxy is no target');
  const pending = podInfo(pod('y', undefined, 'False'), 'cluster.local', 'spiffe')!;
  assert.equal(pending.adminAddress, undefined, 'no IP yet: nothing to scrape');
  assert.equal(pending.health, 'NotReady');
});

test('viz stat deploy/api-server adds up the inbound traffic of its pods and counts their proxies', async () => {
  const pods = [podInfo(pod('api-server-abc-1', '198.18.0.11', 'True'), 'cluster.local', 'spiffe')!, podInfo(pod('api-server-abc-2', '198.18.0.12', 'True'), 'cluster.local', 'spiffe')!];
  const targets: ScrapedTarget[] = pods.map((w, i) => {
    const m = new ProxyMetrics();
    const before = m.render();
    const h = m.httpFor('direction="inbound",tls="true"');
    for (let r = 0; r < 50; r++) h.response(r < 45 + i * 5 ? 200 : 500, 5);
    const history = new TargetHistory(1000);
    history.record(0, parsePrometheusText(before));
    history.record(10_000, parsePrometheusText(m.render()));
    return { labels: w.labels, history };
  });
  const rows = await stat(
    { backend: new MemoryBackend(() => targets), workloads: () => pods, proxyUp: () => true, serviceRoutes: () => [] },
    { resource: { kind: 'deployment', name: 'api-server' }, namespace: 'hybrid-app', allNamespaces: false, windowMs: 60_000 },
  );
  assert.equal(rows.length, 1);
  assert.equal(rows[0].name, 'api-server');
  assert.equal(rows[0].meshed, '2/2');
  assert.equal(rows[0].rps, 10, '100 requests over 10 s from both pods');
  assert.equal(rows[0].successRate, 0.95);
});
