// The proxy's control-plane clients against a whole real control plane (in-process, free ports):
// the probes of the ExternalWorkload run against a local app, the health reports make it an endpoint
// that destination streams to the proxy, a failing app takes it out again, and policy answers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { controlPlanePki } from '../../support/pki.js';
import { startControlPlaneClients, type ControlPlaneClients } from '../../../src/proxy/control/index.js';
import type { Credentials } from '../../../src/proxy/types.js';
import { startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';
import { waitFor } from '../../support/wait.js';
import { TestIdentity } from './fixtures.js';

const IDENTITY = 'spiffe://cluster.local/ns/payments/sa/payment-processor';

let cp: TestControlPlane;
const dataDir = mkdtempSync(join(tmpdir(), 'outpost-proxy-control-'));
let app: http.Server;
let appStatus = 200;
let clients: ControlPlaneClients | undefined;

/** A workload certificate from the control plane's own identity issuer (as the identity service would sign it). */
async function workloadCredentials(dataDir: string): Promise<Credentials> {
  const leaf = await (await controlPlanePki(dataDir)).leaf({ commonName: 'payment-processor-vm', identity: IDENTITY, serverName: 'payment-processor-vm.payments.svc.cluster.local' });
  return { identity: IDENTITY, serverName: leaf.serverName!, certPem: leaf.certPem, keyPem: leaf.keyPem, chainPem: leaf.issuerPem, trustAnchorsPem: leaf.trustAnchorsPem, notAfter: leaf.notAfter };
}

before(async () => {
  app = http.createServer((req, res) => res.writeHead(req.url === '/health' ? appStatus : 404).end());
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  cp = await startTestControlPlane({}, dataDir);
  await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'payments' } } });
  const objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
  const appPort = (app.address() as { port: number }).port;
  await objects.create({
    apiVersion: 'workload.linkerd.io/v1beta1',
    kind: 'ExternalWorkload',
    metadata: { name: 'payment-processor-vm', namespace: 'payments', labels: { app: 'payment-processor' } },
    spec: {
      meshTLS: { identity: IDENTITY, serverName: 'payment-processor-vm.payments.svc.cluster.local' },
      workloadIPs: [{ ip: '10.0.50.100' }],
      ports: [{ name: 'http', port: 8080 }],
      probes: [{ path: '/health', port: appPort, period: '300ms', timeout: '1s', failureThreshold: 2, successThreshold: 1 }],
    },
  } as KubernetesObject);
  await objects.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'payment-processor', namespace: 'payments' },
    spec: { selector: { app: 'payment-processor' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
  } as KubernetesObject);
});

after(async () => {
  clients?.close();
  await cp?.dispose();
  app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('probes from the manifest make the workload an endpoint, and a failing app removes it', async () => {
  const listeners = cp.info.listeners;
  clients = startControlPlaneClients({
    identity: new TestIdentity(await workloadCredentials(cp.dataDir)),
    workload: { namespace: 'payments', name: 'payment-processor-vm' },
    destination: listeners.destination,
    policy: listeners.policy,
    health: listeners.health,
    inboundPort: 4143,
  });
  const watch = clients.discovery!.resolve('payment-processor.payments.svc.cluster.local:8080');
  const endpoints = () => watch.current()?.endpoints.map((e) => e.address).join(',');
  await waitFor('a first answer from destination', () => watch.current(), 10_000);

  // The proxy learns its probe from the health acks, the app answers 200: the workload becomes an endpoint.
  await waitFor('the workload as a ready endpoint', () => endpoints() === '10.0.50.100', 15_000);
  const ep = watch.current()!.endpoints[0];
  assert.equal(ep.identity, IDENTITY);
  assert.equal(ep.port, 8080);
  assert.deepEqual(clients.probes.current().probes.map((p) => p.name), [`http-get:${(app.address() as { port: number }).port}/health`]);

  // The app starts failing: after failureThreshold checks the endpoint leaves the Service.
  appStatus = 503;
  await waitFor('the endpoint removed', () => endpoints() === '', 15_000);
  appStatus = 200;
  await waitFor('the endpoint back', () => endpoints() === '10.0.50.100', 15_000);

  // An address that is no Service: destination refuses it, the proxy learns "no such service" at once.
  const external = clients.discovery!.resolve('192.0.2.10:443');
  await waitFor('an answer for a non-service authority', () => external.current(), 10_000);
  assert.equal(external.current()!.exists, false);
  external.close();

  // Policy answers for the workload's port (the first answer ends the deny-by-default wait).
  const port = clients.policy!.watchPort(8080);
  await waitFor('a policy for port 8080', () => port.current(), 10_000);
});

test('a control-plane restart keeps the endpoints and policy, then the streams come back', async () => {
  assert.ok(clients, 'runs after the first test');
  const watch = clients.discovery!.resolve('payment-processor.payments.svc.cluster.local:8080');
  const port = clients.policy!.watchPort(8080);
  await waitFor('state before the restart', () => watch.current()?.endpoints.length === 1 && port.current(), 10_000);
  const ports = Object.fromEntries(['destination', 'policy', 'health', 'identity'].map((name) => [`${name}-port`, Number(cp.info.listeners[name].split(':').pop())]));
  await cp.dispose();
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(watch.current()!.endpoints.map((e) => e.address), ['10.0.50.100'], 'endpoints kept through the outage');
  assert.ok(port.current(), 'policy kept through the outage');

  cp = await startTestControlPlane(ports, dataDir);
  // The reopened streams deliver fresh state: prove it with a change only the new control plane knows.
  const objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
  await objects.patch(
    { apiVersion: 'workload.linkerd.io/v1beta1', kind: 'ExternalWorkload', metadata: { name: 'payment-processor-vm', namespace: 'payments' }, spec: { workloadIPs: [{ ip: '10.0.50.101' }] } } as KubernetesObject,
    undefined, undefined, undefined, undefined, PatchStrategy.MergePatch,
  );
  await waitFor('the new address from the restarted control plane', () => watch.current()?.endpoints.map((e) => e.address).join() === '10.0.50.101', 30_000);
  watch.close();
  port.close();
});
