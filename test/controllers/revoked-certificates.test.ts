// A revoked workload's certificate against a real control plane (embedded API, identity,
// controllers, destination, policy), over real mTLS with certificates of its own issuer: two VMs
// share one identity (as a group's members do); once vm-a is revoked, its certificate may neither
// report for its sibling (status, admin and tap addresses untouched) nor use destination, policy
// or the revocations stream; its own proxy is told it is revoked. The sibling keeps working.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { controlPlanePki } from '../support/pki.js';
import { serviceClient } from '../../src/api/load.js';
import type { HealthAck__Output as HealthAckMessage, HealthReport as HealthReportMessage } from '../../src/api/gen/health.js';
import { revokeWorkload } from '../../src/workload/revoke.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl } from '../support/cli.js';
import { destinationClient, policyClient, Recorder } from '../destination/harness.js';
import { waitFor } from '../support/wait.js';

const NS = 'payments';
const IDENTITY = 'spiffe://cluster.local/payment-processor';
const serverNameOf = (vm: string) => `${vm}.${NS}.svc.cluster.local`;
let cp: TestControlPlane;
const clients: grpc.Client[] = [];

async function credsFor(vm: string): Promise<grpc.ChannelCredentials> {
  const leaf = await (await controlPlanePki(cp.dataDir)).leaf({ identity: IDENTITY, serverName: serverNameOf(vm), usages: ['client', 'server'] });
  return grpc.credentials.createSsl(Buffer.from(leaf.trustAnchorsPem), Buffer.from(leaf.keyPem), Buffer.from(leaf.chainPem));
}

/** One health report for `workload`; resolves with the acks seen and the final status (or undefined while open). */
async function report(creds: grpc.ChannelCredentials, workload: string, adminAddress: string): Promise<{ acks: HealthAckMessage[]; status?: grpc.StatusObject; close(): void }> {
  const Client = serviceClient('outpost.health.v1.WorkloadHealth');
  const client = new Client(cp.info.listeners.health, creds, { 'grpc.ssl_target_name_override': 'health.outpost.svc.cluster.local' });
  clients.push(client);
  const stream = (client as unknown as { Report(): grpc.ClientDuplexStream<HealthReportMessage, HealthAckMessage> }).Report();
  const out: { acks: HealthAckMessage[]; status?: grpc.StatusObject; close(): void } = { acks: [], close: () => stream.end() };
  stream.on('data', (a: HealthAckMessage) => out.acks.push(a));
  stream.on('status', (s) => (out.status = s));
  stream.on('error', () => {});
  stream.write({ workload: `${NS}/${workload}`, ready: true, probes: [], proxyVersion: 'test', inboundPort: 4143, adminPort: 4191, adminAddress, tapAddress: adminAddress.replace(/:\d+$/, ':4190') });
  await waitFor(`an answer for ${workload}`, () => (out.acks.length > 0 || out.status ? true : undefined));
  return out;
}

const proxyStatus = async (vm: string) =>
  ((await cp.kubeConfig.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads', namespace: NS, name: vm })) as {
    status?: { proxy?: { adminAddress?: string }; conditions?: { type: string; status: string }[] };
  }).status;

const workload = (vm: string, ip: string) => ({
  apiVersion: 'workload.linkerd.io/v1beta1',
  kind: 'ExternalWorkload',
  metadata: { name: vm, namespace: NS, labels: { app: 'payment-processor' }, annotations: { 'outpost.io/service-account': 'payment-processor-sa' } },
  spec: { meshTLS: { identity: IDENTITY, serverName: serverNameOf(vm) }, workloadIPs: [{ ip }], ports: [{ name: 'http', port: 8080 }] },
});

before(async () => {
  cp = await startTestControlPlane();
  const objs = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    workload('vm-a', '192.0.2.1'),
    workload('vm-b', '192.0.2.2'),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'payment-processor', namespace: NS }, spec: { selector: { app: 'payment-processor' }, ports: [{ name: 'http', port: 8080 }] } },
  ];
  const r = await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
  assert.equal(r.code, 0, r.stderr);
  await revokeWorkload(cp.kubeConfig, { namespace: NS, name: 'vm-a', reason: 'stolen laptop' });
  // The informers of every component hear of it within milliseconds; no report is sent before.
  await new Promise((r) => setTimeout(r, 1000));
});

after(async () => {
  for (const c of clients) c.close();
  await cp?.dispose();
});

test("a revoked workload's certificate cannot report for a sibling sharing its identity, nor set its addresses", async () => {
  const revoked = await credsFor('vm-a');
  // Let every deny-list informer catch up: the revoked proxy itself is told so on its own stream.
  await waitFor('the health server knows vm-a is revoked', async () => ((await report(revoked, 'vm-a', '192.0.2.1:4191')).acks[0]?.revoked === true ? true : undefined));

  const forSibling = await report(revoked, 'vm-b', '203.0.113.66:4191');
  assert.equal(forSibling.status?.code, grpc.status.PERMISSION_DENIED, 'refused');
  assert.match(forSibling.status!.details, /was not issued to payments\/vm-b/);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await proxyStatus('vm-b'))?.proxy?.adminAddress, undefined, "the sibling's admin address is untouched");
  assert.notEqual((await proxyStatus('vm-b'))?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', 'the sibling is not made Ready');

  const own = await report(revoked, 'vm-a', '192.0.2.1:4191');
  assert.equal(own.acks[0]?.revoked, true, 'its own proxy hears it is revoked');
  assert.equal((await proxyStatus('vm-a'))?.proxy?.adminAddress, undefined, 'and its report changes nothing');
  own.close();

  // The sibling's own certificate still reports for it.
  const sibling = await report(await credsFor('vm-b'), 'vm-b', '192.0.2.2:4191');
  assert.equal(sibling.acks[0]?.revoked, false);
  await waitFor("the sibling's own report lands", async () => ((await proxyStatus('vm-b'))?.proxy?.adminAddress === '127.0.0.1:4191' || (await proxyStatus('vm-b'))?.proxy?.adminAddress === '192.0.2.2:4191' ? true : undefined));
  sibling.close();
});

test('destination, policy and the revocations stream refuse a revoked certificate; the sibling is served', async () => {
  const revoked = await credsFor('vm-a');
  const sibling = await credsFor('vm-b');
  const opts = { 'grpc.ssl_target_name_override': 'localhost' };
  const refusedOrServed = async (open: (creds: grpc.ChannelCredentials) => grpc.ClientReadableStream<unknown>, creds: grpc.ChannelCredentials) => {
    const rec = new Recorder(open(creds));
    await waitFor('a message or a status', () => (rec.messages.length > 0 || rec.status ? true : undefined));
    rec.call.cancel();
    return rec;
  };
  const services: [string, (creds: grpc.ChannelCredentials) => grpc.ClientReadableStream<unknown>][] = [
    ['destination', (creds) => {
      const c = destinationClient(cp.info.listeners.destination, creds);
      clients.push(c);
      return c.Get({ path: `payment-processor.${NS}.svc.cluster.local:8080` });
    }],
    ['policy', (creds) => {
      const c = policyClient(cp.info.listeners.policy, creds);
      clients.push(c);
      return c.GetPort({ workload: `${NS}/vm-b`, port: 8080 });
    }],
    ['revocations', (creds) => {
      const c = new (serviceClient('outpost.policy.v1.Revocations') as any)(cp.info.listeners.policy, creds, opts);
      clients.push(c);
      return c.WatchRevocations({ workload: `${NS}/vm-b` });
    }],
  ];
  for (const [name, open] of services) {
    await waitFor(`${name} refuses the revoked certificate`, async () => ((await refusedOrServed(open, revoked)).status?.code === grpc.status.PERMISSION_DENIED ? true : undefined));
    const denied = await refusedOrServed(open, revoked);
    assert.match(denied.status!.details, /client certificate is revoked: ExternalWorkload payments\/vm-a/, name);
    const served = await refusedOrServed(open, sibling);
    assert.ok(served.messages.length > 0, `${name} serves the sibling (got ${JSON.stringify(served.status)})`);
  }
});
