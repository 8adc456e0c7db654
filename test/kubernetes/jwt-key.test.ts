// The JWT-SVID signing key against the real kube-apiserver, as `outpost install` sets it up: identity,
// running as its own ServiceAccount with the rendered RBAC, fills the empty Secret
// outpost/outpost-identity-jwt-key and, restarted with a fresh data dir (a pod's emptyDir after a
// restart), signs with the same key: the JWKS and key id are unchanged and a token issued before the
// restart validates after it. Nothing of the key is written to the data dir; a re-apply of the install
// leaves the key alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRealKubernetes, type RealKubernetes } from '../support/real-kubernetes.js';
import { FREE_PORTS } from '../support/control-plane.js';
import { startControlPlane, type RunningControlPlane } from '../../src/controlplane/start.js';
import { silentLogger } from '../../src/core/log.js';
import { issueLeaf, loadCA } from '../../src/core/pki.js';
import { installCaMaterial } from '../../src/install/ca.js';
import { renderInstall, toYaml } from '../../src/install/render.js';
import { fetchJwtBundle, fetchJwtSvid, type MtlsIdentityConnection } from '../../src/api/identity/jwt-call.js';
import { validateJwtSvid } from '../../src/core/identity/jwt-svid.js';
import { jwtKeyPath } from '../../src/identity/jwt-key.js';

let kube: RealKubernetes;
let work: string;
let caFlags: { 'identity-trust-anchors-file': string; 'identity-issuer-cert': string; 'identity-issuer-key': string };
let install: string;
let client: { keyPem: string; chainPem: string };
let anchorsPem: string;
const running: RunningControlPlane[] = [];
const CALLER = 'spiffe://cluster.local/ns/payments/sa/payment-processor';

const k = async (args: string[], input?: string) => {
  const r = await kube.kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** The identity component alone, as its own ServiceAccount, on a fresh data dir (what a restarted pod has). */
async function startIdentity(name: string): Promise<{ cp: RunningControlPlane; dataDir: string; conn: MtlsIdentityConnection }> {
  const dataDir = join(work, name);
  const cp = await startControlPlane({ dataDir, listen: '127.0.0.1', apiPort: 0, kubeconfig: kube.kubeconfig, components: ['identity'], log: silentLogger, flags: { ...FREE_PORTS, ...caFlags } });
  running.push(cp);
  return { cp, dataDir, conn: { addr: cp.info.listeners.identity, trustAnchorsPem: anchorsPem, clientCertificate: client } };
}

const secretKey = async () => (await k(['get', 'secret', 'outpost-identity-jwt-key', '-n', 'outpost', '-o', 'jsonpath={.data.jwt-signing\\.key}'])).trim();

before(async () => {
  kube = await startRealKubernetes();
  work = mkdtempSync(join(tmpdir(), 'outpost-jwt-key-'));
  const { material } = await installCaMaterial({}, 'cluster.local');
  anchorsPem = material.trustAnchorsPem;
  writeFileSync(join(work, 'anchors.crt'), material.trustAnchorsPem);
  writeFileSync(join(work, 'issuer.crt'), material.issuerCertPem);
  writeFileSync(join(work, 'issuer.key'), material.issuerKeyPem, { mode: 0o600 });
  caFlags = { 'identity-trust-anchors-file': join(work, 'anchors.crt'), 'identity-issuer-cert': join(work, 'issuer.crt'), 'identity-issuer-key': join(work, 'issuer.key') };
  // The install without its Deployments (no kubelet here): CRDs, namespace, RBAC, ConfigMap, Secrets.
  const objects = renderInstall({ image: 'registry.example/outpost:test', ca: material, trustDomain: 'cluster.local' });
  install = toYaml(objects.filter((o) => !['Deployment', 'PodDisruptionBudget', 'MutatingWebhookConfiguration'].includes(o.kind)));
  await k(['apply', '--server-side', '-f', '-'], install);
  await k(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=outpost']);
  // A workload's certificate from the same issuer: the caller of SignJwtSvid (over mTLS, like a renewal).
  const issuer = await loadCA(readFileSync(join(work, 'issuer.crt'), 'utf8'), readFileSync(join(work, 'issuer.key'), 'utf8'));
  const leaf = await issueLeaf(issuer, { commonName: 'payment-processor', sans: { uris: [CALLER] }, lifetimeMs: 3_600_000, usages: ['client'] });
  client = { keyPem: leaf.keyPem!, chainPem: `${leaf.certPem.trim()}\n${issuer.certPem.trim()}\n` };
});

after(async () => {
  for (const cp of running) await cp.stop().catch(() => {});
  await kube?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a restarted identity signs with the key kept in its Secret: same JWKS and key id, earlier tokens still validate', { timeout: 180_000 }, async () => {
  assert.equal(await secretKey(), '', '`outpost install` renders the Secret empty');
  const first = await startIdentity('pod-1');
  const before = await fetchJwtSvid(first.conn, ['payments']);
  assert.equal(before.spiffeId, CALLER);
  const stored = await secretKey();
  assert.match(Buffer.from(stored, 'base64').toString(), /^-----BEGIN PRIVATE KEY-----/, 'identity filled the Secret with its key');
  assert.equal(existsSync(jwtKeyPath(first.dataDir)), false, 'no key file in the data dir against Kubernetes');
  await first.cp.stop();

  // Re-applying the same rendered install (e.g. `outpost install --out DIR`, applied again) meets no
  // conflict with what identity wrote, and does not wipe the key it stored.
  await k(['apply', '--server-side', '-f', '-'], install);
  assert.equal(await secretKey(), stored);

  const second = await startIdentity('pod-2'); // a fresh emptyDir
  const bundle = await fetchJwtBundle(second.conn);
  assert.equal(bundle.jwksJson.toString(), before.bundle.jwksJson.toString(), 'the same JWKS');
  assert.equal(bundle.jwks.keys[0].kid, before.bundle.jwks.keys[0].kid);
  const ok = validateJwtSvid(before.token, bundle.jwks, 'payments', Date.now());
  assert.equal(ok.spiffeId, CALLER, 'a token issued before the restart validates with the JWKS after it');
  const published = JSON.parse(await k(['get', 'configmap', 'outpost-identity-trust-roots', '-n', 'outpost', '-o', 'jsonpath={.data.jwt-bundle\\.json}']));
  assert.equal(published.keys[0].kid, before.bundle.jwks.keys[0].kid, 'the published JWT bundle names the same key');
  const after = await fetchJwtSvid(second.conn, ['payments']);
  assert.equal(JSON.parse(Buffer.from(after.token.split('.')[0], 'base64url').toString()).kid, before.bundle.jwks.keys[0].kid);
});

test('a Secret holding something else than a P-256 key stops identity with a line naming it (the key is never replaced silently)', { timeout: 120_000 }, async () => {
  for (const cp of running) await cp.stop().catch(() => {});
  await k(['patch', 'secret', 'outpost-identity-jwt-key', '-n', 'outpost', '--type=merge', '-p', JSON.stringify({ data: { 'jwt-signing.key': Buffer.from('not a key').toString('base64') } })]);
  await assert.rejects(startIdentity('pod-3'), /Secret outpost\/outpost-identity-jwt-key: jwt-signing\.key is not a PEM ECDSA P-256 private key/);
  assert.equal(Buffer.from(await secretKey(), 'base64').toString(), 'not a key');
});
