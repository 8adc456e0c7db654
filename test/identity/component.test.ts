// The identity component inside `outpost up`: imported CA (like `linkerd install --identity-*`),
// its address in control-plane.json, and a new issuer or anchor bundle picked up without a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { createIntermediateCA, createRootCA } from '../../src/core/pki.js';
import { jwtKeyPath, loadOrCreateJwtKey } from '../../src/identity/jwt-key.js';
import { readControlPlaneInfo } from '../../src/core/control-plane-file.js';
import { WorkloadIdentityClient } from '../../src/proxy/identity/client.js';
import { waitFor } from '../support/wait.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';

let cp: TestControlPlane;
let dir: string;
let root: Awaited<ReturnType<typeof createRootCA>>;
const files = () => ({ anchors: join(dir, 'ca.crt'), cert: join(dir, 'issuer.crt'), key: join(dir, 'issuer.key') });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-identity-component-'));
  root = await createRootCA({ commonName: 'imported-root', lifetimeMs: 365 * 86_400_000 });
  const issuer = await createIntermediateCA(root, { commonName: 'imported-issuer-1', lifetimeMs: 30 * 86_400_000 });
  writeFileSync(files().anchors, root.certPem);
  writeFileSync(files().cert, issuer.certPem);
  writeFileSync(files().key, issuer.keyPem, { mode: 0o600 });
  cp = await startTestControlPlane({ 'identity-trust-anchors-file': files().anchors, 'identity-issuer-cert': files().cert, 'identity-issuer-key': files().key });
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'payments' } } });
  await core.createNamespacedServiceAccount({ namespace: 'payments', body: { metadata: { name: 'payment-processor-sa' } } });
  await cp.kubeConfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: 'workload.linkerd.io',
    version: 'v1beta1',
    namespace: 'payments',
    plural: 'externalworkloads',
    body: {
      apiVersion: 'workload.linkerd.io/v1beta1',
      kind: 'ExternalWorkload',
      metadata: { name: 'payment-processor-vm-1', namespace: 'payments', annotations: { 'outpost.io/service-account': 'payment-processor-sa' } },
      spec: { meshTLS: { identity: 'spiffe://cluster.local/payment-processor', serverName: 'payment-processor-vm-1.payments.svc.cluster.local' }, workloadIPs: [{ ip: '127.0.0.10' }] },
    },
  });
});

after(async () => {
  await cp?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function issuerOfNewCertificate(): Promise<string> {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({ namespace: 'payments', name: 'payment-processor-sa', body: { spec: { audiences: [], expirationSeconds: 600 } } });
  const anchors = readFileSync(files().anchors, 'utf8');
  const client = new WorkloadIdentityClient({ identityAddr: cp.info.listeners.identity, trustAnchorsPem: anchors, workload: { namespace: 'payments', name: 'payment-processor-vm-1' }, token: () => tr.status!.token });
  try {
    return new X509Certificate((await client.start()).certPem).issuer;
  } finally {
    client.close();
  }
}

test('the imported CA issues, and control-plane.json tells where identity and its anchors are', async () => {
  const info = readControlPlaneInfo(cp.dataDir)!;
  assert.match(info.listeners.identity, /^127\.0\.0\.1:\d+$/);
  assert.equal(readFileSync(info.trustAnchorsFile!, 'utf8').trim(), root.certPem.trim());
  assert.match(await issuerOfNewCertificate(), /imported-issuer-1/);
});

test('a new issuer and a rotated anchor bundle are picked up without a restart', async () => {
  const next = await createIntermediateCA(root, { commonName: 'imported-issuer-2', lifetimeMs: 30 * 86_400_000 });
  writeFileSync(files().key, next.keyPem, { mode: 0o600 });
  writeFileSync(files().cert, next.certPem);
  await waitFor('certificates from the new issuer', async () => /imported-issuer-2/.test(await issuerOfNewCertificate()), 8000);

  // Anchor rotation: a bundle with a second anchor (concatenated by hand, no newline in between)
  // is published in the ConfigMap, one PEM block per anchor.
  const second = await createRootCA({ commonName: 'second-root', lifetimeMs: 365 * 86_400_000 });
  writeFileSync(files().anchors, root.certPem.trim() + second.certPem.trim());
  const bundle = `${root.certPem.trim()}\n${second.certPem.trim()}\n`;
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  await waitFor('the two-anchor bundle in the ConfigMap', async () => {
    const cm = await core.readNamespacedConfigMap({ namespace: 'outpost', name: 'outpost-identity-trust-roots' });
    return cm.data?.['ca-bundle.crt'] === bundle;
  }, 8000);
  assert.equal(readFileSync(join(cp.dataDir, 'pki', 'trust-anchors.crt'), 'utf8'), bundle);
  // The JWT bundle (the key generated next to the imported CA) is republished with the anchors, unchanged.
  const cm = await core.readNamespacedConfigMap({ namespace: 'outpost', name: 'outpost-identity-trust-roots' });
  assert.equal(statSync(jwtKeyPath(cp.dataDir)).mode & 0o777, 0o600);
  assert.equal(cm.data?.['jwt-bundle.json'], loadOrCreateJwtKey(cp.dataDir).key.jwksJson);
  // The identity service still serves (its chain verifies against the new bundle).
  assert.match(await issuerOfNewCertificate(), /imported-issuer-2/);
});

test('deleting the ExternalWorkload stops its renewals', async () => {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({ namespace: 'payments', name: 'payment-processor-sa', body: { spec: { audiences: [], expirationSeconds: 600 } } });
  const client = new WorkloadIdentityClient({
    identityAddr: cp.info.listeners.identity,
    trustAnchorsPem: readFileSync(files().anchors, 'utf8'),
    workload: { namespace: 'payments', name: 'payment-processor-vm-1' },
    token: () => tr.status!.token,
  });
  try {
    await client.start();
    await client.renew();
    await cp.kubeConfig.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: 'workload.linkerd.io', version: 'v1beta1', namespace: 'payments', plural: 'externalworkloads', name: 'payment-processor-vm-1' });
    await waitFor('renewals to stop', () => client.renew().then(() => false, (e: Error) => /payment-processor-vm-1 no longer exists, so its certificate is not renewed/.test(e.message)), 8000);
  } finally {
    client.close();
  }
});
