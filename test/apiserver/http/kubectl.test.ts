// Real kubectl 1.32 against the API server: the guide's manifests, get/describe/label/apply,
// server-side apply, ServiceAccounts and tokens (protobuf bodies), watch, delete.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/paths.js';
import { startTestApi, type TestApi } from './harness.js';

const GUIDE = join(REPO_ROOT, 'test', 'fixtures', 'guide');
const FIRST = ['00-namespaces.yaml', 'namespace.yaml'];
let api: TestApi;

before(async () => {
  api = await startTestApi();
});
after(async () => {
  await api?.stop();
});

async function ok(args: string[], input?: string): Promise<string> {
  const r = await api.kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

test('kubectl apply -f of every guide manifest (namespaces first), then again: unchanged', async () => {
  const files = [...FIRST, ...readdirSync(GUIDE).filter((f) => f.endsWith('.yaml') && !FIRST.includes(f)).sort()];
  for (const f of files) assert.match(await ok(['apply', '-f', join(GUIDE, f)]), /created/, f);
  const again = await ok(['apply', '-f', join(GUIDE, 'external-workload.yaml')]);
  assert.match(again, /externalworkload.workload.linkerd.io\/payment-processor-vm-1 unchanged/);
});

test('kubectl get: tables, -A -o wide, --show-labels, -o yaml, jsonpath, not found', async () => {
  const list = await ok(['get', 'externalworkloads', '-n', 'payments']);
  const header = list.split('\n')[0].trim().split(/\s{2,}/);
  assert.ok(header.length > 2, `server-side Table columns expected, got ${header.join('|')}`);
  assert.match(list, /payment-processor-vm-1/);
  assert.match(await ok(['get', 'externalworkload', '-n', 'payments', '--show-labels']), /app=payment-processor/);
  assert.match(await ok(['get', 'ew', '-n', 'payments']), /payment-processor-vm-1/);
  const wide = await ok(['get', 'svc', '-A', '-o', 'wide']);
  assert.match(wide, /^NAMESPACE\s+NAME/);
  assert.match(wide, /payments\s+payment-processor\s+ClusterIP/);
  assert.match(wide, /app=payment-processor/);
  const yaml = await ok(['get', 'ew', 'payment-processor-vm-1', '-n', 'payments', '-o', 'yaml']);
  assert.match(yaml, /identity: spiffe:\/\/cluster.local\/payment-processor/);
  assert.match(yaml, /resourceVersion: "\d+"/);
  assert.match(yaml, /uid: [0-9a-f-]{36}/);
  assert.equal(await ok(['get', 'ew', 'payment-processor-vm-1', '-n', 'payments', '-o', 'jsonpath={.spec.workloadIPs[0].ip}']), '10.0.50.100');
  assert.equal(await ok(['get', 'ns', 'default', '-o', 'jsonpath={.status.phase}']), 'Active');
  const missing = await api.kubectl(['get', 'ew', 'nope', '-n', 'payments']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /externalworkloads.workload.linkerd.io "nope" not found/);
  const empty = await api.kubectl(['get', 'ew', '-n', 'default']);
  assert.match(empty.stderr, /No resources found in default namespace/);
});

test('kubectl describe an ExternalWorkload', async () => {
  const out = await ok(['describe', 'externalworkload', 'payment-processor-vm-1', '-n', 'payments']);
  assert.match(out, /Name:\s+payment-processor-vm-1/);
  assert.match(out, /Namespace:\s+payments/);
  assert.match(out, /spiffe:\/\/cluster.local\/payment-processor/);
});

test('kubectl label, then apply --server-side keeps it and prunes what the manager stopped applying', async () => {
  assert.match(await ok(['label', 'ew', 'payment-processor-vm-1', '-n', 'payments', 'tier=edge']), /labeled/);
  const manifest = (location: boolean) =>
    JSON.stringify({
      apiVersion: 'workload.linkerd.io/v1beta1',
      kind: 'ExternalWorkload',
      metadata: { name: 'ssa-vm', namespace: 'payments', labels: { app: 'ssa', ...(location ? { location: 'east' } : {}) } },
      spec: { meshTLS: { identity: 'spiffe://cluster.local/ssa', serverName: 'ssa.payments.svc.cluster.local' }, workloadIPs: [{ ip: '192.0.2.7' }], ports: [{ port: 80 }] },
    });
  assert.match(await ok(['apply', '--server-side', '-f', '-'], manifest(true)), /ssa-vm serverside-applied/);
  await ok(['label', 'ew', 'ssa-vm', '-n', 'payments', 'tier=edge']);
  assert.match(await ok(['apply', '--server-side', '-f', '-'], manifest(false)), /serverside-applied/);
  const labels = JSON.parse(await ok(['get', 'ew', 'ssa-vm', '-n', 'payments', '-o', 'jsonpath={.metadata.labels}']));
  assert.deepEqual(labels, { app: 'ssa', tier: 'edge' });
  assert.equal(await ok(['get', 'ew', 'ssa-vm', '-n', 'payments', '-o', 'jsonpath={.spec.ports[0].protocol}']), 'TCP');
  // Server-side apply over a client-side-applied object.
  assert.match(await ok(['apply', '--server-side', '-f', join(GUIDE, 'external-workload.yaml')]), /serverside-applied/);
  assert.equal(await ok(['get', 'ew', 'payment-processor-vm-1', '-n', 'payments', '-o', 'jsonpath={.metadata.labels.tier}']), 'edge');
});

test('kubectl create serviceaccount / token / namespace (protobuf bodies)', async () => {
  assert.match(await ok(['create', 'serviceaccount', 'payment-processor-sa', '-n', 'payments']), /serviceaccount\/payment-processor-sa created/);
  const dup = await api.kubectl(['create', 'serviceaccount', 'payment-processor-sa', '-n', 'payments']);
  assert.match(dup.stderr, /serviceaccounts "payment-processor-sa" already exists/);
  const token = (await ok(['create', 'token', 'payment-processor-sa', '-n', 'payments', '--duration=1h'])).trim();
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  assert.equal(claims.sub, 'system:serviceaccount:payments:payment-processor-sa');
  assert.equal(claims.exp - claims.iat, 3600);
  assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
  const missing = await api.kubectl(['create', 'token', 'nope', '-n', 'payments']);
  assert.match(missing.stderr, /serviceaccounts "nope" not found/);
  assert.match(await ok(['create', 'namespace', 'tmpns']), /namespace\/tmpns created/);
  assert.match(await ok(['create', 'token', 'default', '-n', 'tmpns']), /^ey/, 'every namespace has a default ServiceAccount');
  const review = await api.call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: { spec: { token } } });
  assert.equal(review.status, 201);
  assert.equal(review.json.status.authenticated, true);
  assert.equal(review.json.status.user.username, 'system:serviceaccount:payments:payment-processor-sa');
  // The token authenticates but grants nothing beyond discovery.
  assert.equal((await api.call('GET', '/version', { token })).status, 200);
  const denied = await api.call('GET', '/api/v1/namespaces/payments/services', { token });
  assert.equal(denied.status, 403);
  assert.match(denied.json.message, /cannot list resource "services"/);
  assert.equal((await api.call('GET', '/api/v1/namespaces', { token: 'garbage' })).status, 401);
  assert.equal((await api.call('GET', '/api/v1/namespaces', { token: null })).status, 401);
  assert.equal((await api.call('GET', '/livez', { token: null })).status, 200);
  // Deleting the ServiceAccount revokes its tokens at once.
  await ok(['delete', 'serviceaccount', 'payment-processor-sa', '-n', 'payments']);
  const revoked = await api.call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: { spec: { token } } });
  assert.equal(revoked.json.status.authenticated, undefined);
  assert.match(revoked.json.status.error, /deleted/);
});

test('kubectl get -w prints the change', async () => {
  const child = spawn('kubectl', ['--kubeconfig', api.kubeconfig, '--cache-dir', `${api.kubeconfig}.cache`, 'get', 'ew', '-n', 'payments', '-w'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const seen = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${out}`)), 15_000);
      const check = () => {
        if (re.test(out)) {
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolve();
        }
      };
      child.stdout.on('data', (d) => {
        out += d;
        check();
      });
      check();
    });
  try {
    await seen(/payment-processor-vm-1/);
    await ok(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'workload.linkerd.io/v1beta1',
      kind: 'ExternalWorkload',
      metadata: { name: 'watched-vm', namespace: 'payments' },
      spec: { meshTLS: { identity: 'spiffe://cluster.local/w', serverName: 'w.payments.svc.cluster.local' }, workloadIPs: [{ ip: '192.0.2.9' }] },
    }));
    await seen(/watched-vm/);
  } finally {
    child.kill();
  }
});

test('kubectl delete -f, and namespace deletion cascades', async () => {
  const out = await ok(['delete', '-f', join(GUIDE, 'redis-vm-1.yaml')]);
  assert.match(out, /redis-vm-1" deleted/);
  assert.match(out, /redis-vm-2" deleted/);
  assert.match((await api.kubectl(['get', 'ew', 'redis-vm-1', '-n', 'caching'])).stderr, /not found/);
  assert.match(await ok(['delete', 'namespace', 'caching']), /namespace "caching" deleted/);
  assert.match((await api.kubectl(['get', 'svc', 'redis-cache', '-n', 'caching'])).stderr, /not found/);
  assert.equal(api.store.list({ group: 'workload.linkerd.io', resource: 'workloadgroups' }, { namespace: 'caching' }).items.length, 0);
  // A file holding a namespace and objects in it: the namespace terminates, its objects still delete.
  const all = await ok(['delete', '-f', join(GUIDE, 'namespace.yaml')]);
  assert.match(all, /namespace "hybrid-app" deleted\n.*postgres-primary" deleted\n.*redis-cache" deleted/);
  assert.match((await api.kubectl(['get', 'namespace', 'hybrid-app'])).stderr, /not found/);
  assert.equal(api.store.list({ group: '', resource: 'services' }, { namespace: 'hybrid-app' }).items.length, 0);
  const del = await api.kubectl(['delete', 'namespace', 'default']);
  assert.equal(del.code, 1);
  assert.match(del.stderr, /may not be deleted/);
});

test('restart on the same data dir: every object is back and resourceVersions keep increasing', async () => {
  const before = await ok(['get', 'ew', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.metadata.resourceVersion} {end}']);
  await api.restart();
  const after = await ok(['get', 'ew', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.metadata.resourceVersion} {end}']);
  assert.equal(after, before);
  const highest = Math.max(...before.trim().split(' ').map((kv) => Number(kv.split('=')[1])));
  await ok(['label', 'ew', 'payment-processor-vm-1', '-n', 'payments', 'restarted=yes']);
  const rv = Number(await ok(['get', 'ew', 'payment-processor-vm-1', '-n', 'payments', '-o', 'jsonpath={.metadata.resourceVersion}']));
  assert.ok(rv > highest, `${rv} > ${highest}`);
});
