// Auto-registration against a real control plane (docs/adr/0010): two VMs (identity clients on two
// loopback addresses) join the guide's redis-cache-fleet group with a token of the group's
// ServiceAccount, report healthy with their issued certificates, and appear with hostnames in the
// redis-cache headless Service's EndpointSlice; a restart reclaims the entry with no token; a token
// of another ServiceAccount, a missing group and a bad address are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CustomObjectsApi, DiscoveryV1Api } from '@kubernetes/client-node';
import { kubectl, REPO_ROOT } from '../support/cli.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { serviceClient } from '../../src/api/load.js';
import type { HealthAck__Output as HealthAckMessage, HealthReport as HealthReportMessage } from '../../src/api/gen/health.js';
import { certifyOnce, CertifyCallError } from '../../src/api/identity/certify-call.js';
import { WorkloadIdentityClient } from '../../src/proxy/identity/client.js';
import { createCsr, generateWorkloadKey } from '../../src/core/identity/csr.js';
import { createControlPlaneIdentity } from '../../src/proxy/identity/source.js';
import { parseProxyConfig } from '../../src/proxy/config.js';
import { silentLogger } from '../../src/core/log.js';
import { identityMetricsText } from '../../src/identity/component.js';
import type { Credentials } from '../../src/proxy/types.js';
import { waitFor } from '../support/wait.js';

const GROUP = 'redis-cache-fleet';
const NS = 'caching';
let cp: TestControlPlane;
let work: string;
let anchors: string;
let custom: CustomObjectsApi;
const closers: (() => void)[] = [];

async function k(args: string[]): Promise<string> {
  const r = await kubectl(cp.kubeconfigPath, args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function member(address: string, stateDir: string, token?: string): WorkloadIdentityClient {
  const c = new WorkloadIdentityClient({
    identityAddr: cp.info.listeners.identity,
    trustAnchorsPem: anchors,
    workload: { namespace: NS, group: GROUP, address },
    stateDir,
    token: () => token,
  });
  closers.push(() => c.close());
  return c;
}

/** A scripted proxy's health stream, authenticated with the issued certificate. */
function reportHealthy(creds: Credentials, workload: string): Promise<void> {
  const Client = serviceClient('outpost.health.v1.WorkloadHealth');
  const client = new Client(cp.info.listeners.health, grpc.credentials.createSsl(Buffer.from(anchors), Buffer.from(creds.keyPem), Buffer.from(creds.certPem + creds.chainPem)), {
    'grpc.ssl_target_name_override': 'health.outpost.svc.cluster.local',
  });
  closers.push(() => client.close());
  const stream = (client as unknown as { Report(): grpc.ClientDuplexStream<HealthReportMessage, HealthAckMessage> }).Report();
  stream.on('error', () => {});
  closers.push(() => stream.end());
  return new Promise((resolve, reject) => {
    stream.once('data', () => resolve());
    stream.once('status', (s: grpc.StatusObject) => reject(new Error(`health stream ended: ${s.details}`)));
    stream.write({ workload, ready: true, probes: [], proxyVersion: 'test', inboundPort: 4143, adminPort: 4191, adminAddress: '127.0.0.1:4191' });
  });
}

async function members(): Promise<{ name: string; ips: string[]; annotations: Record<string, string> }[]> {
  const list = (await custom.listNamespacedCustomObject({ group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads', namespace: NS })) as {
    items: { metadata: { name: string; annotations?: Record<string, string> }; spec?: { workloadIPs?: { ip: string }[] } }[];
  };
  return list.items.map((i) => ({ name: i.metadata.name, ips: (i.spec?.workloadIPs ?? []).map((w) => w.ip), annotations: i.metadata.annotations ?? {} }));
}

before(async () => {
  cp = await startTestControlPlane();
  work = mkdtempSync(join(tmpdir(), 'outpost-autoregister-'));
  custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  const fixtures = join(REPO_ROOT, 'test', 'fixtures', 'guide');
  await k(['apply', '-f', join(fixtures, '00-namespaces.yaml')]);
  await k(['apply', '-f', join(fixtures, 'workload-group.yaml')]);
  await k(['apply', '-f', join(fixtures, 'redis-headless-service.yaml')]);
  await k(['create', 'serviceaccount', 'redis-sa', '-n', NS]);
  await k(['create', 'serviceaccount', 'other-sa', '-n', NS]);
  await k(['annotate', 'workloadgroup', GROUP, '-n', NS, 'outpost.io/service-account=redis-sa']);
  anchors = await k(['get', 'configmap', 'outpost-identity-trust-roots', '-n', 'outpost', '-o', 'jsonpath={.data.ca-bundle\\.crt}']);
});

after(async () => {
  for (const c of closers.reverse()) c();
  await cp?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('two VMs auto-register into redis-cache-fleet and both appear behind the headless Service; a restart reclaims its entry with no token', async () => {
  const token = (await k(['create', 'token', 'redis-sa', '-n', NS, '--duration=1h'])).trim();
  const dirs = [join(work, 'vm-a'), join(work, 'vm-b')];
  const vms = [member('127.0.10.1', dirs[0], token), member('127.0.10.2', dirs[1], token)];
  const creds = await Promise.all(vms.map((v) => v.start()));

  assert.deepEqual(vms.map((v) => v.workload()), [
    { namespace: NS, name: 'redis-cache-fleet-127-0-10-1' },
    { namespace: NS, name: 'redis-cache-fleet-127-0-10-2' },
  ]);
  // The group's identity; the member's own server name.
  assert.equal(creds[0].identity, 'spiffe://cluster.local/redis-cache');
  assert.equal(creds[1].serverName, 'redis-cache-fleet-127-0-10-2.caching.svc.cluster.local');
  // The name is remembered, 0600, next to the key and certificate.
  assert.equal(statSync(join(dirs[0], 'workload.json')).mode & 0o777, 0o600);
  assert.equal(JSON.parse(readFileSync(join(dirs[0], 'workload.json'), 'utf8')).name, 'redis-cache-fleet-127-0-10-1');

  const registered = await members();
  assert.deepEqual(registered.map((m) => [m.name, m.ips, m.annotations['outpost.io/auto-registered'], m.annotations['outpost.io/service-account']]).sort(), [
    ['redis-cache-fleet-127-0-10-1', ['127.0.10.1'], 'true', 'redis-sa'],
    ['redis-cache-fleet-127-0-10-2', ['127.0.10.2'], 'true', 'redis-sa'],
  ]);
  assert.match(identityMetricsText(), /identity_workloads_registered_total\{action="create"\} 2\n/);
  // kubectl sees the group's template labels on them (effective labels), so the Service selects them.
  const shown = await k(['get', 'externalworkloads', '-n', NS, '-l', 'workloadGroup=redis-cache-fleet', '-o', 'name']);
  assert.equal(shown.trim().split('\n').length, 2);

  // Each VM's proxy reports healthy with its issued certificate; both become ready endpoints.
  await Promise.all(vms.map((v, i) => reportHealthy(creds[i], `${NS}/${v.workload()!.name}`)));
  const discovery = cp.kubeConfig.makeApiClient(DiscoveryV1Api);
  const endpoints = await waitFor(
    'both members ready in the redis-cache EndpointSlice',
    async () => {
      const slices = (await discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=redis-cache' })).items;
      const eps = slices.flatMap((s) => s.endpoints ?? []);
      return eps.length === 2 && eps.every((e) => e.conditions?.ready) ? eps : undefined;
    },
    10_000,
  );
  assert.deepEqual(endpoints.map((e) => [e.hostname, e.addresses[0]]).sort(), [
    ['redis-cache-fleet-127-0-10-1', '127.0.10.1'],
    ['redis-cache-fleet-127-0-10-2', '127.0.10.2'],
  ]);

  // Restart VM A: same state dir, no token. It reclaims its entry: same name, no duplicate.
  vms[0].close();
  const restarted = member('127.0.10.1', dirs[0]);
  const again = await restarted.start();
  assert.equal(restarted.workload()?.name, 'redis-cache-fleet-127-0-10-1');
  assert.equal(again.identity, 'spiffe://cluster.local/redis-cache');
  assert.equal((await members()).length, 2, 'no duplicate entry');
  // Each VM's second ask (with the names it learnt) found its entry as it should be, and so did the restart.
  assert.match(identityMetricsText(), /identity_workloads_registered_total\{action="keep"\} 3\n/);

  // Even when its entry was deleted while it was away, its certificate registers it again.
  await k(['delete', 'externalworkload', 'redis-cache-fleet-127-0-10-1', '-n', NS]);
  restarted.close();
  const back = member('127.0.10.1', dirs[0]);
  await back.start();
  assert.deepEqual((await members()).map((m) => m.name).sort(), ['redis-cache-fleet-127-0-10-1', 'redis-cache-fleet-127-0-10-2']);

  // A running VM whose entry was removed (e.g. while it was unreachable) reclaims it on demand.
  await k(['delete', 'externalworkload', 'redis-cache-fleet-127-0-10-2', '-n', NS]);
  assert.deepEqual(await vms[1].reclaim(), { namespace: NS, name: 'redis-cache-fleet-127-0-10-2' });
  assert.equal((await members()).length, 2);
});

test('refused with a clear reason: a token of another ServiceAccount, a missing group, a bad address, a hand-made workload under the name', async () => {
  const other = (await k(['create', 'token', 'other-sa', '-n', NS, '--duration=1h'])).trim();
  const good = (await k(['create', 'token', 'redis-sa', '-n', NS, '--duration=1h'])).trim();
  const csr = await createCsr(generateWorkloadKey());
  const ask = (workload: string, token: string) => certifyOnce({ addr: cp.info.listeners.identity, trustAnchorsPem: anchors }, { identity: '', token, csr, workload });
  const refused = async (p: Promise<unknown>, reason: string, message: RegExp) => {
    const e = await p.then(
      () => assert.fail('expected a refusal'),
      (x: unknown) => x,
    );
    assert.ok(e instanceof CertifyCallError, String(e));
    assert.equal(e.reason, reason, e.message);
    assert.match(e.message, message);
  };

  await refused(ask(`${NS}/group:${GROUP}@127.0.10.3`, other), 'service_account_mismatch', /is not bound to ServiceAccount caching\/other-sa, whose token this is/);
  await refused(ask(`${NS}/group:no-such-group@127.0.10.3`, good), 'group_not_found', /WorkloadGroup caching\/no-such-group does not exist/);
  await refused(ask(`${NS}/group:${GROUP}@not-an-ip`, good), 'invalid_request', /"not-an-ip" is not an IPv4 or IPv6 address/);
  assert.ok(!(await members()).some((m) => m.name.endsWith('127-0-10-3')), 'nothing registered for a refused request');

  // A client given another SA's token says so and never registers.
  await assert.rejects(member('127.0.10.4', join(work, 'vm-d'), other).start(), /is not bound to ServiceAccount caching\/other-sa/);

  // A hand-made workload under the derived name is never taken over.
  const handMade = join(work, 'hand-made.yaml');
  writeFileSync(handMade, `apiVersion: workload.linkerd.io/v1beta1\nkind: ExternalWorkload\nmetadata:\n  name: redis-cache-fleet-127-0-10-5\n  namespace: ${NS}\nspec:\n  meshTLS:\n    identity: spiffe://cluster.local/x\n    serverName: x.caching.svc.cluster.local\n  workloadIPs:\n    - ip: 127.0.10.5\n`);
  await k(['apply', '-f', handMade]);
  await refused(ask(`${NS}/group:${GROUP}@127.0.10.5`, good), 'workload_conflict', /was not auto-registered, so it is not taken over/);
});

test('the proxy hook: workload.group and workload.address instead of workload.name register the proxy', async () => {
  const token = join(work, 'hook.token');
  writeFileSync(token, await k(['create', 'token', 'redis-sa', '-n', NS, '--duration=1h']));
  writeFileSync(join(work, 'ca.crt'), anchors);
  const [host, port] = cp.info.listeners.identity.split(':');
  const base = parseProxyConfig({
    identity: { trustAnchors: join(work, 'ca.crt'), tokenPath: token, endpoint: `${host}:${port}`, dir: join(work, 'hook') },
    destination: { endpoint: `${host}:${port}` },
    workload: { name: 'placeholder', namespace: NS },
  });
  // As the lead's config change will parse them: workload.group / workload.address, no name.
  const config = { ...base, workload: { namespace: NS, group: GROUP, address: '127.0.10.6' } };
  const identity = await createControlPlaneIdentity(config, silentLogger);
  closers.push(() => identity.close());
  assert.deepEqual(identity.workload(), { namespace: NS, name: 'redis-cache-fleet-127-0-10-6' });
  assert.equal(identity.current()?.identity, 'spiffe://cluster.local/redis-cache');

  const bad = { ...base, workload: { namespace: NS, group: GROUP, address: 'vm-7' } };
  await assert.rejects(createControlPlaneIdentity(bad, silentLogger), /workload\.address: required with workload\.group, the IPv4 or IPv6 address this VM registers with \(got "vm-7"\)/);
});
