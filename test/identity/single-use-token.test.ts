// Bootstrap tokens are single-use (docs/adr/0018), against a real control plane (embedded API,
// real kubectl tokens, real TLS): a token enrols once; the same enrolment retried (same key) is not
// a second use; a second host with the same token is refused with the reason; a proxy restarted on
// its persisted certificate renews without a token; a group's token enrols each member once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { CoreV1Api } from '@kubernetes/client-node';
import { certifyOnce, CertifyCallError, type CertifyCallRequest } from '../../src/api/identity/certify-call.js';
import { createCsr, generateWorkloadKey } from '../../src/core/identity/csr.js';
import { WorkloadIdentityClient } from '../../src/proxy/identity/client.js';
import { USED_TOKEN_LABEL } from '../../src/identity/token-ledger.js';
import { kubectl, REPO_ROOT } from '../support/cli.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';

const NAMES = { identity: 'spiffe://cluster.local/payment-processor', serverName: 'payment-processor-vm-1.payments.svc.cluster.local' };
const WORKLOAD = 'payments/payment-processor-vm-1';
let cp: TestControlPlane;
let work: string;
let anchors: string;

async function k(args: string[], input?: string): Promise<string> {
  const r = await kubectl(cp.kubeconfigPath, args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const token = async (sa: string, ns: string) => (await k(['create', 'token', sa, '-n', ns, '--duration=1h'])).trim();
const enrol = async (req: Omit<CertifyCallRequest, 'csr'> & { key: string; names?: { identity: string; serverName: string } }) =>
  certifyOnce({ addr: cp.info.listeners.identity, trustAnchorsPem: anchors }, { ...req, csr: await createCsr(req.key, req.names ?? NAMES) });

before(async () => {
  cp = await startTestControlPlane();
  work = mkdtempSync(join(tmpdir(), 'outpost-single-use-'));
  const fixtures = join(REPO_ROOT, 'test', 'fixtures', 'guide');
  for (const f of ['00-namespaces.yaml', 'external-workload.yaml', 'workload-group.yaml']) await k(['apply', '-f', join(fixtures, f)]);
  await k(['create', 'serviceaccount', 'payment-processor-sa', '-n', 'payments']);
  await k(['create', 'serviceaccount', 'redis-sa', '-n', 'caching']);
  await k(['annotate', 'externalworkload', 'payment-processor-vm-1', '-n', 'payments', 'outpost.io/service-account=payment-processor-sa']);
  await k(['annotate', 'workloadgroup', 'redis-cache-fleet', '-n', 'caching', 'outpost.io/service-account=redis-sa']);
  anchors = await k(['get', 'configmap', 'outpost-identity-trust-roots', '-n', 'outpost', '-o', 'jsonpath={.data.ca-bundle\\.crt}']);
});

after(async () => {
  await cp?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a token enrols once: a retry with the same key is the same enrolment, another host is refused', async () => {
  const tok = await token('payment-processor-sa', 'payments');
  const key = generateWorkloadKey();
  const first = await enrol({ ...NAMES, workload: WORKLOAD, token: tok, key });
  // The answer was lost and the VM asks again with the same key: not a second use.
  const again = await enrol({ ...NAMES, workload: WORKLOAD, token: tok, key });
  assert.equal(new X509Certificate(again.leafDer).publicKey.export({ format: 'der', type: 'spki' }).toString('hex'), new X509Certificate(first.leafDer).publicKey.export({ format: 'der', type: 'spki' }).toString('hex'));
  // Another host with a copy of the token, its own key.
  await assert.rejects(enrol({ ...NAMES, workload: WORKLOAD, token: tok, key: generateWorkloadKey() }), (e: unknown) => {
    assert.ok(e instanceof CertifyCallError, String(e));
    assert.equal(e.grpcCode, status.PERMISSION_DENIED);
    assert.equal(e.reason, 'token_used');
    assert.match(e.message, /this bootstrap token was already used at \d{4}-\d\d-\d\dT.*outpost workload onboard payment-processor-vm-1 -n payments --renew/);
    return true;
  });
  // The record is in the API, readable by an admin, and holds no secret.
  const records = await cp.kubeConfig.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: 'outpost', labelSelector: `${USED_TOKEN_LABEL}=true` });
  assert.ok(records.items.some((s) => s.metadata?.annotations?.['outpost.io/workload'] === WORKLOAD && !s.data));
  // A fresh token enrols again.
  assert.ok((await enrol({ ...NAMES, workload: WORKLOAD, token: await token('payment-processor-sa', 'payments'), key: generateWorkloadKey() })).leafDer.length > 0);
});

test('a proxy restarted on its persisted certificate renews without the (used) token', async () => {
  const stateDir = join(work, 'vm1');
  const tokenFile = join(work, 'vm1.token');
  writeFileSync(tokenFile, await token('payment-processor-sa', 'payments'), { mode: 0o600 });
  const options = { identityAddr: cp.info.listeners.identity, trustAnchorsPem: anchors, workload: { namespace: 'payments', name: 'payment-processor-vm-1' }, stateDir, token: () => readFileSync(tokenFile, 'utf8').trim() };
  const first = new WorkloadIdentityClient(options);
  const issued = await first.start();
  first.close();
  // Reboot: the token file is still there (and used); the persisted certificate is the credential.
  const rebooted = new WorkloadIdentityClient(options);
  try {
    const persisted = await rebooted.start();
    assert.equal(persisted.certPem, issued.certPem, 'the persisted certificate is used');
    const renewed = await rebooted.renew();
    assert.notEqual(renewed.certPem, issued.certPem);
    assert.equal(renewed.identity, NAMES.identity);
  } finally {
    rebooted.close();
  }
});

test("a group's token registers each member once", async () => {
  const tok = await token('redis-sa', 'caching');
  const member = (ip: string) => ({ identity: '', workload: `caching/group:redis-cache-fleet@${ip}`, token: tok });
  const names = (ip: string) => ({ identity: 'spiffe://cluster.local/redis-cache', serverName: `redis-cache-fleet-${ip.replace(/\./g, '-')}.caching.svc.cluster.local` });
  for (const ip of ['192.0.2.7', '192.0.2.8']) {
    const r = await enrol({ ...member(ip), identity: names(ip).identity, names: names(ip), key: generateWorkloadKey() });
    assert.equal(r.registered, `caching/redis-cache-fleet-${ip.replace(/\./g, '-')}`);
  }
  await assert.rejects(enrol({ ...member('192.0.2.7'), identity: names('192.0.2.7').identity, names: names('192.0.2.7'), key: generateWorkloadKey() }), (e: unknown) => e instanceof CertifyCallError && e.reason === 'token_used');
});
