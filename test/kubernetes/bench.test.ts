// The real-Kubernetes bench itself: `scripts/real-kubernetes.sh up DIR` gives a working cluster that
// real kubectl reaches with full TLS verification, whose controller manager runs its controllers,
// and `down DIR` stops exactly its processes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startRealKubernetes, type RealKubernetes } from '../support/real-kubernetes.js';
import { waitFor } from '../support/wait.js';
import { run, REPO_ROOT } from '../support/cli.js';

let kube: RealKubernetes;
before(async () => {
  kube = await startRealKubernetes();
});
after(async () => kube?.stop());

test('kubectl reaches the real kube-apiserver as admin, verifying its certificate', async () => {
  const config = readFileSync(kube.kubeconfig, 'utf8');
  assert.match(config, /certificate-authority-data: \S+/);
  assert.doesNotMatch(config, /insecure-skip-tls-verify/);
  const version = await kube.kubectl(['version', '-o', 'json']);
  assert.equal(version.code, 0, version.stderr);
  assert.match(JSON.parse(version.stdout).serverVersion.gitVersion, /^v1\.34\./);
  const whoami = await kube.kubectl(['auth', 'whoami', '-o', 'json']);
  assert.equal(whoami.code, 0, whoami.stderr);
  assert.ok(JSON.parse(whoami.stdout).status.userInfo.groups.includes('system:masters'));
  // A client that does not trust the bench's CA is refused at the handshake.
  const untrusted = await kube.kubectl(['--certificate-authority', '/etc/ssl/certs/ca-certificates.crt', 'get', 'ns']);
  assert.notEqual(untrusted.code, 0);
  assert.match(untrusted.stderr, /certificate/i);
});

test('the real kube-controller-manager runs: ServiceAccounts, ReplicaSets, Pods and EndpointSlices appear', async () => {
  const manifest = `
apiVersion: v1
kind: Namespace
metadata: {name: bench-check}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: bench-check}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example.invalid/web:1, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: bench-check}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;
  const applied = await kube.kubectl(['apply', '-f', '-'], manifest);
  assert.equal(applied.code, 0, applied.stderr);
  await waitFor('the default ServiceAccount', async () => (await kube.kubectl(['get', 'sa', 'default', '-n', 'bench-check'])).code === 0, { timeoutMs: 30_000, intervalMs: 200 });
  await waitFor('2 pods of the Deployment', async () => {
    const pods = await kube.kubectl(['get', 'pods', '-n', 'bench-check', '-l', 'app=web', '-o', 'json']);
    return pods.code === 0 && JSON.parse(pods.stdout).items.length === 2;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  await waitFor('the EndpointSlice of Service web', async () => {
    const slices = await kube.kubectl(['get', 'endpointslices', '-n', 'bench-check', '-l', 'kubernetes.io/service-name=web', '-o', 'json']);
    if (slices.code !== 0) return false;
    const items = JSON.parse(slices.stdout).items;
    return items.length === 1 && items[0].metadata.labels['endpointslice.kubernetes.io/managed-by'] === 'endpointslice-controller.k8s.io';
  }, { timeoutMs: 30_000, intervalMs: 200 });
  // Service cluster IPs come from the bench's range (inside 198.18.0.0/15), never 10.x.
  const svc = JSON.parse((await kube.kubectl(['get', 'svc', 'web', '-n', 'bench-check', '-o', 'json'])).stdout);
  assert.match(svc.spec.clusterIP, /^198\.19\./);
});

test('down stops exactly the bench processes', async () => {
  const pids = ['etcd', 'kube-apiserver', 'kube-controller-manager'].map((n) => Number(readFileSync(join(kube.dir, `${n}.pid`), 'utf8')));
  const bystander = spawn('sleep', ['60']);
  try {
    await run('bash', ['scripts/real-kubernetes.sh', 'down', kube.dir], { cwd: REPO_ROOT });
    for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), false, `pid ${pid} still runs`);
    assert.equal(bystander.exitCode, null, 'an unrelated process was stopped');
    const after = await kube.kubectl(['get', 'ns', '--request-timeout', '3s']);
    assert.notEqual(after.code, 0);
  } finally {
    bystander.kill();
  }
});
