// The workload health API against a real control plane: a scripted proxy (gRPC client with a real
// mTLS certificate) reports; the Ready condition and the EndpointSlice follow; a silent proxy turns
// not ready after the grace and comes back; another workload's certificate is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import type { CertificateAuthority } from '../../src/core/pki.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import { startControllers, type RunningControllers } from '../../src/controllers/run.js';
import { serviceClient } from '../../src/api/load.js';
import type { HealthAck__Output as HealthAckMessage, HealthReport as HealthReportMessage } from '../../src/api/gen/health.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl } from '../support/cli.js';
import { guide } from './guide.js';
import { fixedServerCredentials } from '../../src/core/tls/renewing-credentials.js';
import { waitFor } from '../support/wait.js';

const GRACE_MS = 1500;
const WORKLOAD = 'payments/payment-processor-vm-1';
const IDENTITY = 'spiffe://cluster.local/payment-processor'; // its spec.meshTLS.identity in the guide
const SERVER_NAME = 'payment-processor-vm-1.payments.svc.cluster.local';

type Stream = grpc.ClientDuplexStream<HealthReportMessage, HealthAckMessage>;

interface ScriptedProxy {
  stream: Stream;
  acks: HealthAckMessage[];
  status: Promise<grpc.StatusObject>;
  report(ready: boolean, failing?: string): void;
  close(): void;
}

describe('workload health API', () => {
  let cp: TestControlPlane;
  let pki: TestPki;
  let controllers: RunningControllers;
  let custom: CustomObjectsApi;
  let discovery: DiscoveryV1Api;
  const clients: grpc.Client[] = [];

  async function proxyWith(identity: string, issuer?: CertificateAuthority, serverName = SERVER_NAME): Promise<ScriptedProxy> {
    const leaf = await pki.leaf({ commonName: 'proxy', identity, serverName, usages: ['client'], issuer });
    const Client = serviceClient('outpost.health.v1.WorkloadHealth');
    const client = new Client(`127.0.0.1:${controllers.healthPort}`, grpc.credentials.createSsl(Buffer.from(pki.trustAnchorsPem), Buffer.from(leaf.keyPem), Buffer.from(leaf.chainPem)));
    clients.push(client);
    const stream = (client as unknown as { Report(): Stream }).Report();
    const acks: HealthAckMessage[] = [];
    stream.on('data', (a: HealthAckMessage) => acks.push(a));
    const status = new Promise<grpc.StatusObject>((resolve) => {
      stream.on('status', resolve);
      stream.on('error', () => {});
    });
    return {
      stream,
      acks,
      status,
      report: (ready, failing) =>
        stream.write({ workload: WORKLOAD, ready, probes: [{ name: 'http-get:8080/health', success: ready, message: failing ?? '', checkedAtUnixMs: Date.now() }], proxyVersion: 'test', inboundPort: 4143, adminPort: 4191, adminAddress: '0.0.0.0:4191', tapAddress: '[::]:4190' }),
      close: () => stream.end(),
    };
  }

  const readyCondition = async () => {
    const ew = (await custom.getNamespacedCustomObject({ group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads', namespace: 'payments', name: 'payment-processor-vm-1' })) as { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };
    return ew.status?.conditions?.find((c) => c.type === 'Ready');
  };
  const proxyStatus = async () =>
    ((await custom.getNamespacedCustomObject({ group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads', namespace: 'payments', name: 'payment-processor-vm-1' })) as { status?: { proxy?: { connected: boolean; version?: string; adminAddress?: string; tapAddress?: string; inboundPort?: number; certificateNotAfter?: string } } }).status?.proxy;
  const resourceVersion = async () =>
    ((await custom.getNamespacedCustomObject({ group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads', namespace: 'payments', name: 'payment-processor-vm-1' })) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const endpointReady = async () => (await discovery.listNamespacedEndpointSlice({ namespace: 'payments', labelSelector: 'kubernetes.io/service-name=payment-processor' })).items[0]?.endpoints[0]?.conditions?.ready;

  before(async () => {
    cp = await startTestControlPlane();
    pki = await createTestPki();
    const server = await pki.leaf({ commonName: 'health', dns: ['localhost'], ips: ['127.0.0.1'], usages: ['server'] });
    // A second set of controllers on the same API, as a second control plane would run them: the
    // control plane's own instance holds the Lease and writes slices; this one serves health.
    controllers = await startControllers({
      kubeConfig: cp.kubeConfig,
      clock: systemClock,
      log: silentLogger,
      disconnectGraceMs: GRACE_MS,
      health: { host: '127.0.0.1', port: 0, credentials: fixedServerCredentials(server, pki.trustAnchorsPem) },
    });
    custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
    discovery = cp.kubeConfig.makeApiClient(DiscoveryV1Api);
    await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'payments' } } });
    const objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
    await objects.create(guide('ExternalWorkload', 'payment-processor-vm-1'));
    await objects.create(guide('Service', 'payment-processor'));
    await waitFor('workload known to the health server', () => controllers.index.workloads.has(WORKLOAD) || undefined);
    await waitFor('not-ready endpoint', async () => (await endpointReady()) === false);
  });
  after(async () => {
    for (const c of clients) c.close();
    await controllers?.stop();
    await cp?.dispose();
  });

  test('only one of the two controller sets leads', () => {
    assert.equal(controllers.isLeader(), false);
  });

  test('reports drive the Ready condition and the endpoint; silence turns it not ready after the grace; the proxy returning brings it back', async () => {
    const proxy = await proxyWith(IDENTITY);
    proxy.report(true);
    await waitFor('ready endpoint', async () => (await endpointReady()) === true);
    assert.equal((await readyCondition())?.reason, 'ProbesPassing');
    assert.equal(proxy.acks[0].heartbeatIntervalMs, 500, 'a third of the grace');
    assert.equal(proxy.acks[0].probesJson, '[]', 'the effective probes, on the first ack');
    const seen = await waitFor('status.proxy', async () => (await proxyStatus())?.connected === true ? await proxyStatus() : undefined);
    assert.equal(seen!.version, 'test');
    // The proxy listens on every address: the control plane records the one its stream comes from.
    assert.equal(seen!.adminAddress, '127.0.0.1:4191');
    assert.equal(seen!.tapAddress, '127.0.0.1:4190', 'the tap listener the proxy reported, for viz tap');
    assert.equal(seen!.inboundPort, 4143);
    assert.ok(Date.parse(seen!.certificateNotAfter!) > Date.now(), 'the presented certificate expiry');

    proxy.report(false, 'HTTP 503 from /health');
    await waitFor('not-ready endpoint', async () => (await endpointReady()) === false);
    const failing = await readyCondition();
    assert.equal(failing?.reason, 'ProbesFailing');
    assert.match(failing!.message, /http-get:8080\/health: HTTP 503/);
    const described = (await kubectl(cp.kubeconfigPath, ['describe', 'externalworkload', 'payment-processor-vm-1', '-n', 'payments'])).stdout;
    assert.match(described, /ProbesFailing/);

    proxy.report(true);
    await waitFor('ready again', async () => (await endpointReady()) === true);
    // Heartbeats that change nothing write nothing.
    const versionBefore = await resourceVersion();
    const acked = proxy.acks.length;
    proxy.report(true);
    proxy.report(true);
    const lastReportAt = Date.now();
    await waitFor('acks', () => proxy.acks.length >= acked + 2 || undefined);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await resourceVersion(), versionBefore, 'no status write for an unchanged verdict');
    // The stream stays open but goes silent.
    await new Promise((r) => setTimeout(r, GRACE_MS / 3));
    assert.equal(await endpointReady(), true, 'still ready within the grace');
    await waitFor('heartbeat lost', async () => (await readyCondition())?.reason === 'HeartbeatLost', GRACE_MS * 4);
    assert.ok(Date.now() - lastReportAt >= GRACE_MS, 'not before the grace');
    await waitFor('endpoint not ready', async () => (await endpointReady()) === false);
    proxy.close();
    await waitFor('status.proxy disconnected', async () => (await proxyStatus())?.connected === false || undefined);

    const back = await proxyWith(IDENTITY);
    back.report(true);
    await waitFor('back after reconnect', async () => (await endpointReady()) === true);
    back.close();
  });

  test("a client holding another workload's certificate cannot report for this one", async () => {
    const before = await readyCondition();
    const intruder = await proxyWith('spiffe://cluster.local/ns/payments/externalworkload/someone-else');
    intruder.report(!(before?.status === 'True'));
    const status = await intruder.status;
    assert.equal(status.code, grpc.status.PERMISSION_DENIED);
    assert.match(status.details, /was not issued to payments\/payment-processor-vm-1/);
    assert.doesNotMatch(status.details, /spiffe:\/\/cluster\.local\/payment-processor\b/, "the workload's own identity is not told");
    assert.equal((await readyCondition())?.status, before?.status, 'condition untouched');
  });

  test('a certificate with the identity but another workload\'s serverName (a sibling) cannot report for this one', async () => {
    const before = await readyCondition();
    const sibling = await proxyWith(IDENTITY, undefined, 'payment-processor-vm-2.payments.svc.cluster.local');
    sibling.report(!(before?.status === 'True'));
    assert.equal((await sibling.status).code, grpc.status.PERMISSION_DENIED);
    assert.equal((await readyCondition())?.status, before?.status, 'condition untouched');
  });

  test('a certificate from another trust anchor is refused at the TLS handshake; an unknown workload is NOT_FOUND', async () => {
    const other = await createTestPki({ name: 'other.test' });
    const stranger = await proxyWith(IDENTITY, other.issuer);
    stranger.report(true);
    assert.notEqual((await stranger.status).code, grpc.status.OK);
    const lost = await proxyWith(IDENTITY);
    lost.stream.write({ workload: 'payments/no-such-vm', ready: true, probes: [], proxyVersion: 'test', inboundPort: 0, adminPort: 0, adminAddress: '' });
    assert.equal((await lost.status).code, grpc.status.NOT_FOUND);
  });

  test('deleting the workload revokes it: the next ack says so, and its endpoint goes away', async () => {
    const proxy = await proxyWith(IDENTITY);
    proxy.report(true);
    await waitFor('first ack', () => proxy.acks.length >= 1 || undefined);
    assert.equal(proxy.acks[0].revoked, false);
    await custom.deleteNamespacedCustomObject({ group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads', namespace: 'payments', name: 'payment-processor-vm-1' });
    await waitFor('workload gone from the health server', () => !controllers.index.workloads.has(WORKLOAD) || undefined);
    proxy.report(true);
    await waitFor('revoked ack', () => proxy.acks.at(-1)?.revoked === true || undefined);
    await waitFor('slice gone', async () => (await endpointReady()) === undefined);
    proxy.close();
  });
});
