// `outpost diagnostics` computes with the running control plane's trust domain and default policy
// (read from DATA_DIR/control-plane.json), so its answers match what proxies receive.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl, outpost } from '../support/cli.js';

let cp: TestControlPlane;

before(async () => {
  cp = await startTestControlPlane({ 'identity-trust-domain': 'example.org', 'default-inbound-policy': 'deny' });
  const file = join(cp.dataDir, 'objects.yaml');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: workload.linkerd.io/v1beta1
kind: ExternalWorkload
metadata: { name: web-vm, namespace: shop }
spec:
  meshTLS: { identity: "spiffe://example.org/ns/shop/sa/web", serverName: web-vm.shop.svc.cluster.local }
  workloadIPs: [{ ip: 10.0.9.1 }]
  ports: [{ name: http, port: 8080 }, { name: admin, port: 9000 }]
---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: web-admin, namespace: shop }
spec: { podSelector: { matchLabels: {} }, port: 9000 }
---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: { name: web-admin-ops, namespace: shop }
spec: { server: { name: web-admin }, client: { meshTLS: { serviceAccounts: [{ name: ops }] } } }
`,
  );
  const r = await kubectl(cp.kubeconfigPath, ['apply', '-f', file]);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await cp?.dispose();
});

test('diagnostics policy uses the control plane\'s default policy unless told otherwise', async () => {
  const asRunning = await outpost(['diagnostics', 'policy', 'externalworkload/web-vm', '-n', 'shop', '--port', '8080', '-o', 'json', '--kubeconfig', cp.kubeconfigPath]);
  assert.equal(asRunning.code, 0, asRunning.stderr);
  const p = JSON.parse(asRunning.stdout);
  assert.deepEqual(p.labels ?? p.policy?.labels, { kind: 'default', name: 'deny' }, asRunning.stdout);
  const overridden = await outpost(['diagnostics', 'policy', 'externalworkload/web-vm', '-n', 'shop', '--port', '8080', '-o', 'json', '--kubeconfig', cp.kubeconfigPath, '--default-inbound-policy', 'all-authenticated']);
  assert.equal(overridden.code, 0, overridden.stderr);
  const o = JSON.parse(overridden.stdout);
  assert.deepEqual(o.labels ?? o.policy?.labels, { kind: 'default', name: 'all-authenticated' });
});

test('diagnostics policy names ServiceAccounts in the control plane\'s trust domain', async () => {
  const r = await outpost(['diagnostics', 'policy', 'externalworkload/web-vm', '-n', 'shop', '--port', '9000', '-o', 'json', '--kubeconfig', cp.kubeconfigPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /"spiffe:\/\/example\.org\/ns\/shop\/sa\/ops"/);
  assert.doesNotMatch(r.stdout, /cluster\.local\/ns\/shop\/sa\/ops/);
});
