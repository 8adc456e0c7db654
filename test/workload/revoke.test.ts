// `outpost workload revoke` against a real control plane (in-process, free ports; real kubectl, real
// gRPC over mTLS): the workload leaves its Service's EndpointSlice within a second, its renewal is
// refused with a message naming the revocation, every proxy's deny list names its certificate (and
// no other), its health acks say revoked; --undo restores all of it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { controlPlanePki, type TestPki } from '../support/pki.js';
import { waitFor } from '../support/wait.js';
import { workloadInProcess as inProcess } from './in-process.js';
import { createHealthReporter, createRevocationsClient, type RevocationsClient } from '../../src/proxy/control/index.js';
import { certifyOnce, CertifyCallError } from '../../src/api/identity/certify-call.js';
import { createCsr } from '../../src/core/identity/csr.js';
import type { Credentials, IdentitySource } from '../../src/proxy/types.js';
import { kubectl, outpost } from '../support/cli.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';

const NS = 'payments';
const VM1 = { name: 'vm-1', identity: 'spiffe://cluster.local/ns/payments/sa/vm-sa', serverName: 'vm-1.payments.svc.cluster.local', ip: '127.0.0.61' };
// Same ServiceAccount (so the same SPIFFE identity) as vm-1: only the serverName tells them apart.
const VM2 = { name: 'vm-2', identity: VM1.identity, serverName: 'vm-2.payments.svc.cluster.local', ip: '127.0.0.62' };

const manifests = `
apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: vm-sa, namespace: ${NS} }
---
${[VM1, VM2]
  .map(
    (w) => `apiVersion: workload.linkerd.io/v1beta1
kind: ExternalWorkload
metadata:
  name: ${w.name}
  namespace: ${NS}
  labels: { app: payment-processor }
  annotations: { outpost.io/service-account: vm-sa, outpost.io/assume-ready: "true" }
spec:
  meshTLS: { identity: "${w.identity}", serverName: ${w.serverName} }
  workloadIPs: [{ ip: ${w.ip} }]
  ports: [{ name: http, port: 8080 }]
---`,
  )
  .join('\n')}
apiVersion: v1
kind: Service
metadata: { name: payment-processor, namespace: ${NS} }
spec:
  selector: { app: payment-processor }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

interface Issued {
  keyPem: string;
  certPem: string;
  chainPem: string;
  credentials: Credentials;
}

describe('outpost workload revoke', () => {
  let cp: TestControlPlane;
  let pki: TestPki;
  const certs: Record<string, Issued> = {};
  const closers: (() => void)[] = [];
  const kc = () => ['--kubeconfig', cp.kubeconfigPath];

  const issue = async (w: typeof VM1): Promise<Issued> => {
    const leaf = await pki.leaf({ identity: w.identity, serverName: w.serverName });
    return {
      keyPem: leaf.keyPem,
      certPem: leaf.certPem,
      chainPem: leaf.chainPem,
      credentials: { identity: w.identity, serverName: w.serverName, certPem: leaf.certPem, keyPem: leaf.keyPem, chainPem: leaf.issuerPem, trustAnchorsPem: leaf.trustAnchorsPem, notAfter: leaf.notAfter },
    };
  };
  const identitySource = (c: Credentials): IdentitySource => ({ current: () => c, subscribe: () => () => {}, close: () => {} });
  const sliceAddresses = async (): Promise<string[]> => {
    const r = await kubectl(cp.kubeconfigPath, ['get', 'endpointslices', '-n', NS, '-l', 'kubernetes.io/service-name=payment-processor', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout).items as { endpoints?: { addresses: string[] }[] }[]).flatMap((s) => (s.endpoints ?? []).map((e) => e.addresses[0])).sort();
  };
  const renew = (w: typeof VM1) =>
    createCsr(certs[w.name].keyPem, { identity: w.identity, serverName: w.serverName }).then((csr) =>
      certifyOnce({ addr: cp.info.listeners.identity, trustAnchorsPem: pki.trustAnchorsPem, clientCertificate: { keyPem: certs[w.name].keyPem, chainPem: certs[w.name].chainPem } }, { identity: w.identity, csr, workload: `${NS}/${w.name}` }),
    );
  const peerCert = (w: typeof VM1) => ({ subjectaltname: new X509Certificate(certs[w.name].certPem).subjectAltName });
  /** Opens a health stream as the workload's proxy would and answers whether the first ack says revoked. */
  const healthAck = async (w: typeof VM1): Promise<boolean> => {
    let acked = false;
    const reporter = createHealthReporter({
      target: cp.info.listeners.health,
      identity: identitySource(certs[w.name].credentials),
      workload: `${NS}/${w.name}`,
      health: { current: () => ({ ready: true, probes: [] }), onChange: () => () => {} },
      // Called on the first ack, just before its `revoked` is applied.
      onProbes: () => void setImmediate(() => (acked = true)),
    });
    reporter.start();
    try {
      await waitFor('a health ack', () => acked);
      return reporter.isRevoked();
    } finally {
      reporter.stop();
    }
  };

  before(async () => {
    cp = await startTestControlPlane();
    pki = await controlPlanePki(cp.dataDir);
    const applied = await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], { input: manifests });
    assert.equal(applied.code, 0, applied.stderr);
    certs[VM1.name] = await issue(VM1);
    certs[VM2.name] = await issue(VM2);
    await waitFor('both workloads in the EndpointSlice', async () => (await sliceAddresses()).length === 2, 10_000);
  });
  after(async () => {
    for (const c of closers) c();
    await cp?.dispose();
  });

  it('revokes: out of the Service within a second, renewal refused, deny list pushed to proxies, health acks revoked', async () => {
    // A peer proxy (vm-2) watching the deny list before the revocation.
    const client: RevocationsClient = createRevocationsClient({ target: cp.info.listeners.policy, identity: identitySource(certs[VM2.name].credentials), workload: `${NS}/${VM2.name}` });
    closers.push(() => client.close());
    await waitFor('the first (empty) deny list', () => client.hasReceived);
    assert.equal(client.isRevokedPeer(peerCert(VM1)), false);
    assert.ok(await renew(VM1), 'renews before the revocation');

    const r = await outpost(['workload', 'revoke', VM1.name, '-n', NS, '--reason', 'VM decommissioned', ...kc()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ExternalWorkload payments\/vm-1 revoked at/);
    const revokedAt = Date.now();

    await waitFor('vm-1 to leave the EndpointSlice', async () => JSON.stringify(await sliceAddresses()) === JSON.stringify([VM2.ip]), 1_000);
    assert.ok(Date.now() - revokedAt < 1_500, 'left the EndpointSlice within about a second');
    await waitFor('the deny list to reach the peer', () => client.isRevokedPeer(peerCert(VM1)), 3_000);
    assert.equal(client.isRevokedPeer(peerCert(VM2)), false, 'same SPIFFE identity, other serverName: not refused');
    assert.deepEqual(client.current().map((e) => [e.namespace, e.workload, e.serverName, e.reason]), [[NS, VM1.name, VM1.serverName, 'VM decommissioned']]);

    // Real kubectl sees the annotation and the ConfigMap.
    const ew = JSON.parse((await kubectl(cp.kubeconfigPath, ['get', 'externalworkload', VM1.name, '-n', NS, '-o', 'json'])).stdout);
    assert.match(ew.metadata.annotations['outpost.io/revoked-at'], /^\d{4}-\d\d-\d\dT/);
    assert.equal(ew.metadata.annotations['outpost.io/revoked-reason'], 'VM decommissioned');
    const cm = await kubectl(cp.kubeconfigPath, ['get', 'configmap', 'outpost-revocations', '-n', 'outpost', '-o', 'jsonpath={.data.revocations\\.json}']);
    assert.deepEqual(JSON.parse(cm.stdout).map((e: { workload: string; identity: string }) => [e.workload, e.identity]), [[VM1.name, VM1.identity]]);

    await assert.rejects(renew(VM1), (e: unknown) => {
      assert.ok(e instanceof CertifyCallError, String(e));
      assert.equal(e.grpcCode, grpc.status.PERMISSION_DENIED);
      assert.match(e.message, /payments\/vm-1 was revoked at .* \(VM decommissioned\)/);
      assert.match(e.message, /outpost workload revoke --undo vm-1 -n payments/);
      return true;
    });
    assert.ok(await renew(VM2), 'the other workload still renews');
    assert.equal(await healthAck(VM1), true, 'the health ack says revoked');

    // Idempotent: a re-run changes nothing (same time, one entry).
    const again = await inProcess(['revoke', VM1.name, '-n', NS, ...kc()]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /was already revoked at .*\n[\s\S]*already listed/);
    const ew2 = JSON.parse((await kubectl(cp.kubeconfigPath, ['get', 'externalworkload', VM1.name, '-n', NS, '-o', 'json'])).stdout);
    assert.equal(ew2.metadata.annotations['outpost.io/revoked-at'], ew.metadata.annotations['outpost.io/revoked-at']);
    assert.equal(ew2.metadata.annotations['outpost.io/revoked-reason'], 'VM decommissioned', 'a re-run without --reason keeps the reason');
  });

  it('--undo restores: back in the Service, renewals issued, off the deny list, health acks not revoked', async () => {
    const client = createRevocationsClient({ target: cp.info.listeners.policy, identity: identitySource(certs[VM2.name].credentials) });
    closers.push(() => client.close());
    await waitFor('the deny list', () => client.isRevokedPeer(peerCert(VM1)));

    const r = await inProcess(['revoke', '--undo', VM1.name, '-n', NS, ...kc()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /revocation lifted; deny list entry removed/);
    await waitFor('vm-1 back in the EndpointSlice', async () => (await sliceAddresses()).length === 2, 2_000);
    await waitFor('the peer to drop vm-1 from its deny list', () => !client.isRevokedPeer(peerCert(VM1)), 3_000);
    assert.deepEqual(client.current(), []);
    assert.ok(await renew(VM1), 'renews again');
    assert.equal(await healthAck(VM1), false);
    const ew = JSON.parse((await kubectl(cp.kubeconfigPath, ['get', 'externalworkload', VM1.name, '-n', NS, '-o', 'json'])).stdout);
    assert.equal(ew.metadata.annotations['outpost.io/revoked-at'], undefined);

    const twice = await inProcess(['revoke', '--undo', VM1.name, '-n', NS, ...kc()]);
    assert.equal(twice.code, 0, twice.stderr);
    assert.match(twice.stdout, /was not revoked; deny list unchanged/);
  });

  it('refuses bad input and unknown workloads with a clear message', async () => {
    const missing = await inProcess(['revoke', 'nope', '-n', NS, ...kc()]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ExternalWorkload payments\/nope does not exist/);
    const noNs = await inProcess(['revoke', VM1.name, ...kc()]);
    assert.match(noNs.stderr, /--namespace is required/);
  });

  it('fail static: a proxy keeps refusing a revoked certificate while the control plane is down', async () => {
    const client = createRevocationsClient({ target: cp.info.listeners.policy, identity: identitySource(certs[VM2.name].credentials) });
    closers.push(() => client.close());
    await waitFor('the first list', () => client.hasReceived);
    const r = await inProcess(['revoke', VM1.name, '-n', NS, ...kc()]);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('the deny list', () => client.isRevokedPeer(peerCert(VM1)));
    assert.equal(client.isRevokedServerName(VM1.serverName.toUpperCase()), true);
    assert.equal(client.isRevokedServerName(VM2.serverName), false);
    await cp.stop();
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(client.isRevokedPeer(peerCert(VM1)), true, 'the last list is kept');
  });

});
