// The admission decision and its JSON Patch, without an API server: the owner named from the
// ReplicaSet, a patch that turns the stored pod into the injected one, non-pod requests untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podOwner, reviewPod } from '../../src/injector/review.js';
import { defaultMeshSettings } from '../../src/inject/mesh.js';

const mesh = defaultMeshSettings({ trustAnchorsPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', createdBy: 'test' });
const nsEnabled = { namespaceAnnotations: async () => ({ 'linkerd.io/inject': 'enabled' }) };

test('the owner of a pod is its Deployment when its ReplicaSet is named <deployment>-<pod-template-hash>', () => {
  const rs = (name: string, hash?: string) => ({ metadata: { labels: (hash ? { 'pod-template-hash': hash } : {}) as Record<string, string>, ownerReferences: [{ kind: 'ReplicaSet', name, controller: true }] } });
  assert.deepEqual(podOwner(rs('api-server-5d7f8b9c6', '5d7f8b9c6')), { kind: 'Deployment', name: 'api-server' });
  assert.deepEqual(podOwner(rs('bare-rs')), { kind: 'ReplicaSet', name: 'bare-rs' });
  assert.deepEqual(podOwner({ metadata: { ownerReferences: [{ kind: 'StatefulSet', name: 'db' }] } }), { kind: 'StatefulSet', name: 'db' });
  assert.equal(podOwner({ metadata: {} }), undefined);
});

test('the JSON Patch adds exactly the injected fields and nothing else', async () => {
  const pod = { metadata: { generateName: 'api-', labels: { app: 'api' } }, spec: { containers: [{ name: 'api' }], volumes: [{ name: 'data', emptyDir: {} }] } };
  const out = await reviewPod({ uid: 'u1', kind: { kind: 'Pod' }, namespace: 'hybrid-app', operation: 'CREATE', object: pod }, nsEnabled, mesh);
  assert.equal(out.result, 'injected');
  const ops = JSON.parse(Buffer.from(out.response.patch!, 'base64').toString());
  assert.deepEqual(ops.map((o: { op: string; path: string }) => `${o.op} ${o.path}`), ['replace /metadata/labels', 'add /metadata/annotations', 'replace /spec/volumes', 'add /spec/initContainers']);
  const volumes = ops.find((o: { path: string }) => o.path === '/spec/volumes').value;
  assert.deepEqual(volumes[0], { name: 'data', emptyDir: {} }, "the pod's own volumes come first, unchanged");
  assert.equal(out.response.uid, 'u1');
});

test('updates, other kinds and pods that ask for nothing are allowed unchanged', async () => {
  const none = { namespaceAnnotations: async () => undefined };
  for (const req of [
    { uid: 'a', kind: { kind: 'Pod' }, operation: 'UPDATE', object: { metadata: {}, spec: {} } },
    { uid: 'b', kind: { kind: 'Service' }, operation: 'CREATE', object: { metadata: {} } },
  ]) {
    const out = await reviewPod(req, nsEnabled, mesh);
    assert.deepEqual(out.response, { uid: req.uid, allowed: true });
  }
  const out = await reviewPod({ uid: 'c', kind: { kind: 'Pod' }, operation: 'CREATE', namespace: 'x', object: { metadata: {}, spec: { containers: [] } } }, none, mesh);
  assert.equal(out.result, 'skipped');
  assert.equal(out.response.patch, undefined);
});

test('outpost install registers the injector: its ServiceAccount may only get namespaces, watch pods and create events; the webhook calls its Service, trusting the mesh CA', async () => {
  const { renderInstall } = await import('../../src/install/render.js');
  const { installCaMaterial } = await import('../../src/install/ca.js');
  const ca = await installCaMaterial({}, 'cluster.local');
  const objects = renderInstall({ image: 'registry.example/outpost:test', ca: ca.material, trustDomain: 'cluster.local' }) as any[];
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.deepEqual(find('ClusterRole', 'outpost-injector').rules, [
    { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ]);
  const args = find('Deployment', 'outpost-injector').spec.template.spec.containers[0].args;
  assert.ok(args.includes('--components=injector') && args.includes('--injector-port=8443'));
  assert.deepEqual(find('Service', 'outpost-injector').spec.ports[0], { name: 'https', port: 8443, targetPort: 'https', protocol: 'TCP' });
  const hook = find('MutatingWebhookConfiguration', 'outpost-proxy-injector');
  assert.ok(objects.indexOf(hook) > objects.indexOf(find('Service', 'outpost-injector')), 'registered after the Service it calls');
  const w = hook.webhooks[0];
  assert.deepEqual(w.clientConfig.service, { namespace: 'outpost', name: 'outpost-injector', port: 8443, path: '/inject' });
  assert.equal(Buffer.from(w.clientConfig.caBundle, 'base64').toString(), ca.material.trustAnchorsPem);
  assert.equal(w.failurePolicy, 'Ignore');
  assert.deepEqual(w.rules, [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }]);
  assert.deepEqual(w.namespaceSelector.matchExpressions[1], { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'outpost'] });
});

test('outpost injector webhook-config prints the registration for an injector outside the cluster; bad flags exit 2 naming them', async () => {
  const { outpost } = await import('../support/cli.js');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { parse } = await import('yaml');
  const dir = mkdtempSync(join(tmpdir(), 'outpost-webhook-'));
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  writeFileSync(join(dir, 'ca.crt'), pem);
  const r = await outpost(['injector', 'webhook-config', '--url', 'https://198.18.0.1:8443/inject', '--failure-policy', 'Fail', '--trust-anchors', join(dir, 'ca.crt')]);
  assert.equal(r.code, 0, r.stderr);
  const w = parse(r.stdout).webhooks[0];
  assert.equal(w.clientConfig.url, 'https://198.18.0.1:8443/inject');
  assert.equal(Buffer.from(w.clientConfig.caBundle, 'base64').toString(), pem);
  assert.equal(w.failurePolicy, 'Fail');
  for (const [args, msg] of [
    [['--url', 'http://198.18.0.1:8443/inject'], /--url: .* must be https:\/\//],
    [['--url', 'https://198.18.0.1:8443/mutate'], /--url: the injector serves \/inject/],
    [['--url', 'https://198.18.0.1:8443/inject', '--failure-policy', 'Maybe'], /--failure-policy: must be Ignore or Fail/],
  ] as const) {
    const bad = await outpost(['injector', 'webhook-config', ...args, '--trust-anchors', join(dir, 'ca.crt')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, msg);
  }
});
