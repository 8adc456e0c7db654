// Auto-removal against a real control plane (docs/adr/0010): a VM auto-registers into the guide's
// redis-cache-fleet group, reports healthy with its issued certificate, goes away; after the grace
// it is HeartbeatLost, and after --auto-registered-remove-after it is deleted. A hand-made member
// whose heartbeat was lost long ago stays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { kubectl, REPO_ROOT } from '../support/cli.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { serviceClient } from '../../src/api/load.js';
import type { HealthAck__Output as HealthAckMessage, HealthReport as HealthReportMessage } from '../../src/api/gen/health.js';
import { WorkloadIdentityClient } from '../../src/proxy/identity/client.js';
import { waitFor } from '../support/wait.js';

const NS = 'caching';
const GV = { group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads', namespace: NS };
let cp: TestControlPlane;
let work: string;
let custom: CustomObjectsApi;

async function k(args: string[]): Promise<string> {
  const r = await kubectl(cp.kubeconfigPath, args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const readyOf = async (name: string) => {
  try {
    const ew = (await custom.getNamespacedCustomObject({ ...GV, name })) as { status?: { conditions?: { type: string; reason: string }[] } };
    return ew.status?.conditions?.find((c) => c.type === 'Ready')?.reason ?? 'none';
  } catch (e) {
    if ((e as { code?: number }).code === 404) return 'deleted';
    throw e;
  }
};

before(async () => {
  cp = await startTestControlPlane({ 'workload-disconnect-grace': 600, 'auto-registered-remove-after': 1_500 });
  work = mkdtempSync(join(tmpdir(), 'outpost-autoremove-'));
  custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  const fixtures = join(REPO_ROOT, 'test', 'fixtures', 'guide');
  await k(['apply', '-f', join(fixtures, '00-namespaces.yaml')]);
  await k(['apply', '-f', join(fixtures, 'workload-group.yaml')]);
  await k(['create', 'serviceaccount', 'redis-sa', '-n', NS]);
  await k(['annotate', 'workloadgroup', 'redis-cache-fleet', '-n', NS, 'outpost.io/service-account=redis-sa']);
});

after(async () => {
  await cp?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('an auto-registered member that lost its heartbeat is deleted after remove-after; a hand-made one never', async () => {
  // A hand-made member of the group, not ready with HeartbeatLost since long ago.
  await custom.createNamespacedCustomObject({ ...GV, body: { apiVersion: 'workload.linkerd.io/v1beta1', kind: 'ExternalWorkload', metadata: { name: 'redis-hand-made', namespace: NS, labels: { workloadGroup: 'redis-cache-fleet' } }, spec: { workloadIPs: [{ ip: '127.0.11.9' }] } } });
  const old = new Date(Date.now() - 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
  await custom.patchNamespacedCustomObjectStatus(
    { ...GV, name: 'redis-hand-made', body: { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'HeartbeatLost', message: 'test', lastTransitionTime: old, lastProbeTime: old }] } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );

  const anchors = await k(['get', 'configmap', 'outpost-identity-trust-roots', '-n', 'outpost', '-o', 'jsonpath={.data.ca-bundle\\.crt}']);
  const token = (await k(['create', 'token', 'redis-sa', '-n', NS, '--duration=1h'])).trim();
  const vm = new WorkloadIdentityClient({ identityAddr: cp.info.listeners.identity, trustAnchorsPem: anchors, workload: { namespace: NS, group: 'redis-cache-fleet', address: '127.0.11.1' }, stateDir: join(work, 'vm'), token: () => token });
  const creds = await vm.start();
  vm.close();
  const name = vm.workload()!.name;
  assert.equal(name, 'redis-cache-fleet-127-0-11-1');

  // Its proxy reports healthy once, then the VM goes away (the stream ends).
  const Client = serviceClient('outpost.health.v1.WorkloadHealth');
  const client = new Client(cp.info.listeners.health, grpc.credentials.createSsl(Buffer.from(anchors), Buffer.from(creds.keyPem), Buffer.from(creds.certPem + creds.chainPem)), { 'grpc.ssl_target_name_override': 'health.outpost.svc.cluster.local' });
  const stream = (client as unknown as { Report(): grpc.ClientDuplexStream<HealthReportMessage, HealthAckMessage> }).Report();
  stream.on('error', () => {});
  await new Promise<void>((resolve) => {
    stream.once('data', () => resolve());
    stream.write({ workload: `${NS}/${name}`, ready: true, probes: [], proxyVersion: 'test', inboundPort: 4143, adminPort: 4191, adminAddress: '127.0.0.1:4191' });
  });
  await waitFor('ready', async () => (await readyOf(name)) === 'ProbesPassing' || undefined);
  stream.end();
  client.close();
  const goneAt = Date.now();

  await waitFor('heartbeat lost after the grace', async () => (await readyOf(name)) === 'HeartbeatLost' || undefined, 5_000);
  await waitFor('deleted after remove-after', async () => (await readyOf(name)) === 'deleted' || undefined, 8_000);
  assert.ok(Date.now() - goneAt >= 600 + 1_500 - 1_000, 'not before grace + remove-after (less the second precision of Kubernetes times)');
  assert.equal(await readyOf('redis-hand-made'), 'HeartbeatLost', 'a hand-made workload is never deleted');
  // The group tells where the VM went.
  await waitFor('the removal Event on the group', async () => {
    const out = await k(['get', 'events', '-n', NS, '--field-selector', 'involvedObject.kind=WorkloadGroup', '-o', 'jsonpath={range .items[*]}{.reason} {.involvedObject.name} {.message}{"\\n"}{end}']);
    return /AutoRegisteredWorkloadRemoved redis-cache-fleet removed auto-registered ExternalWorkload redis-cache-fleet-127-0-11-1 \(127\.0\.11\.1\): no report/.test(out) || undefined;
  });
});
