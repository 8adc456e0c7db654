// `outpost proxy` joined to a real control plane (in-process, free ports): the server proxy's
// workload becomes ready through its probes and health reports, destination streams it to the client
// proxy, and a request by Service name crosses app A -> proxy A -> mTLS -> proxy B -> app B.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { writePublicFile } from '../../src/core/files.js';
import { controlPlanePki } from '../support/pki.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { createMesh, startTestProxy, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';

const ID_B = 'spiffe://cluster.local/ns/payments/sa/payment-processor';
const SERVER_NAME_B = 'payment-processor-vm.payments.svc.cluster.local';
let cp: TestControlPlane;
const cpDataDir = mkdtempSync(join(tmpdir(), 'outpost-proxy-cp-'));
let mesh: Mesh;
let proxyAPort = 0;
let app: Server;
let appPort: number;
const proxies: RunningProxy[] = [];

/** Certificate files signed by the control plane's issuer (as if from cert-manager). */
async function issuedFiles(name: string, identity: string, serverName: string) {
  const pki = await controlPlanePki(cp.dataDir);
  const { certFile, keyFile } = pki.writeLeaf(name, await pki.leaf({ identity, serverName }), mesh.dir);
  return { certFile, keyFile };
}

function viaProxy(port: number, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: url, headers: { host: new URL(url).host } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  mesh = await createMesh();
  app = createServer((req, res) => res.end(req.url === '/health' ? 'ok' : `from B ${req.url}`));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as { port: number }).port;
  cp = await startTestControlPlane({}, cpDataDir);
  writePublicFile(mesh.trustFile, readFileSync(join(cp.dataDir, 'pki', 'trust-anchors.crt'), 'utf8'));
  await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'payments' } } });
});

after(async () => {
  for (const p of proxies) await p.close();
  await cp?.dispose();
  app?.close();
  mesh?.cleanup();
  rmSync(cpDataDir, { recursive: true, force: true });
});

test('a request by Service name is discovered, balanced and served across two proxies joined to the control plane', async () => {
  const l = cp.info.listeners;
  const proxyB = await startTestProxy(mesh, await issuedFiles('b', ID_B, SERVER_NAME_B), {
    workload: { name: 'payment-processor-vm', namespace: 'payments' },
    destination: { endpoint: l.destination },
    policy: { endpoint: l.policy },
    health: { endpoint: l.health },
  });
  proxies.push(proxyB);
  const objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
  await objects.create({
    apiVersion: 'workload.linkerd.io/v1beta1',
    kind: 'ExternalWorkload',
    metadata: { name: 'payment-processor-vm', namespace: 'payments', labels: { app: 'payment-processor' }, annotations: { 'config.outpost.io/proxy-inbound-port': String(proxyB.ports.inbound) } },
    spec: {
      meshTLS: { identity: ID_B, serverName: SERVER_NAME_B },
      workloadIPs: [{ ip: '127.0.0.1' }],
      ports: [{ name: 'http', port: appPort }],
      probes: [{ path: '/health', port: appPort, period: '300ms', timeout: '1s', failureThreshold: 2, successThreshold: 1 }],
    },
  } as KubernetesObject);
  await objects.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'payment-processor', namespace: 'payments' },
    spec: { selector: { app: 'payment-processor' }, ports: [{ name: 'http', port: 80, targetPort: appPort }] },
  } as KubernetesObject);

  const proxyA = await startTestProxy(mesh, await issuedFiles('a', 'spiffe://cluster.local/ns/payments/sa/client', 'client.payments.svc.cluster.local'), {
    destination: { endpoint: l.destination },
  });
  proxies.push(proxyA);
  let last = '';
  let status = 0;
  for (let i = 0; i < 60 && status !== 200; i++) {
    // Absolute-form, as an app configured with HTTP_PROXY=127.0.0.1:4140 sends it.
    const r = await viaProxy(proxyA.ports.outbound, 'http://payment-processor.payments.svc.cluster.local/pay');
    status = r.status;
    last = r.body;
    if (status !== 200) await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(status, 200, `last answer: ${last}`);
  assert.equal(last, 'from B /pay');
  const m = await fetch(`http://127.0.0.1:${proxyA.ports.admin}/metrics`).then((r) => r.text());
  proxyAPort = proxyA.ports.outbound;
  assert.match(m, new RegExp(`request_total\\{direction="outbound",authority="payment-processor.payments.svc.cluster.local:80",target_addr="127.0.0.1:${appPort}",tls="true",server_id="${ID_B}"[^}]*dst_external_workload="payment-processor-vm"`));
});

test('the control plane restarts mid-traffic: zero failed requests (fail static)', async () => {
  assert.ok(proxyAPort, 'runs after the first test');
  const results: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await viaProxy(proxyAPort, 'http://payment-processor.payments.svc.cluster.local/during');
      results.push(r.status);
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  await new Promise((r) => setTimeout(r, 300));
  const ports = Object.fromEntries(['destination', 'policy', 'health', 'identity'].map((name) => [`${name}-port`, Number(cp.info.listeners[name].split(':').pop())]));
  await cp.stop();
  const during = results.length;
  await new Promise((r) => setTimeout(r, 800));
  assert.ok(results.length > during, 'traffic flowed while the control plane was down');
  cp = await startTestControlPlane(ports, cpDataDir);
  await new Promise((r) => setTimeout(r, 800));
  running = false;
  await loop;
  assert.ok(results.length > 20, `enough requests (${results.length})`);
  assert.deepEqual(results.filter((s) => s !== 200), []);
});
