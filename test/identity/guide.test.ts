// The guide's identity flow against a real control plane, as a new user would run it: real kubectl
// (create serviceaccount, annotate, create token, export trust roots), the real CLI, openssl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { kubectl, outpost, REPO_ROOT } from '../support/cli.js';
import { waitFor } from '../support/wait.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { certifyOnce, CertifyCallError } from '../../src/api/identity/certify-call.js';
import { createCsr, generateWorkloadKey } from '../../src/core/identity/csr.js';
import { WorkloadIdentityClient } from '../../src/proxy/identity/client.js';

const NAMES = { identity: 'spiffe://cluster.local/payment-processor', serverName: 'payment-processor-vm-1.payments.svc.cluster.local' };
const WORKLOAD = 'payments/payment-processor-vm-1';
let cp: TestControlPlane;
let work: string;
let identityAddr: string;
let anchors: string;

async function k(args: string[]): Promise<string> {
  const r = await kubectl(cp.kubeconfigPath, args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function token(sa: string, ns = 'payments', extra: string[] = []): Promise<string> {
  const file = join(work, `${ns}-${sa}-${Math.random().toString(36).slice(2)}.token`);
  writeFileSync(file, await k(['create', 'token', sa, '--namespace', ns, '--duration=1h', ...extra]));
  return file;
}

function certify(tokenFile: string, out: string, extra: string[] = []) {
  return outpost(['identity', 'certify', '--token', tokenFile, '--workload', WORKLOAD, '--trust-anchors', join(work, 'ca.crt'), '--out', out, ...extra]);
}

/** Certify directly over gRPC with a hand-made CSR (what the CLI never sends). */
async function certifyRaw(tokenFile: string, csr: Buffer) {
  return certifyOnce({ addr: identityAddr, trustAnchorsPem: anchors }, { identity: NAMES.identity, workload: WORKLOAD, token: readFileSync(tokenFile, 'utf8'), csr });
}

before(async () => {
  cp = await startTestControlPlane();
  work = mkdtempSync(join(tmpdir(), 'outpost-guide-identity-'));
  identityAddr = cp.info.listeners.identity;
  const fixtures = join(REPO_ROOT, 'test', 'fixtures', 'guide');
  await k(['apply', '-f', join(fixtures, '00-namespaces.yaml')]);
  await k(['apply', '-f', join(fixtures, 'external-workload.yaml')]);
  await k(['create', 'namespace', 'shop']);
  // The guide's export command.
  anchors = await k(['get', 'configmap', 'outpost-identity-trust-roots', '-n', 'outpost', '-o', 'jsonpath={.data.ca-bundle\\.crt}']);
  writeFileSync(join(work, 'ca.crt'), anchors);
});

after(async () => {
  await cp?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the guide: serviceaccount, binding, token, trust roots, certify; openssl verifies the chain', async () => {
  await k(['create', 'serviceaccount', 'payment-processor-sa', '-n', 'payments']);
  const tok = await token('payment-processor-sa');

  // Without the binding the workload is refused, with the exact command to fix it.
  const unbound = await certify(tok, join(work, 'unbound'), ['--identity-addr', identityAddr]);
  assert.equal(unbound.code, 1);
  assert.match(unbound.stderr, /not bound to a ServiceAccount.*kubectl annotate externalworkload payment-processor-vm-1 -n payments outpost\.io\/service-account=payment-processor-sa/);
  assert.doesNotMatch(unbound.stderr, /\n\s+at /);

  await k(['annotate', 'externalworkload', 'payment-processor-vm-1', '-n', 'payments', 'outpost.io/service-account=payment-processor-sa']);
  const out = join(work, 'vm1');
  // No --identity-addr: found through DATA_DIR/control-plane.json.
  const r = await certify(tok, out, ['--data-dir', cp.dataDir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /identity\s+spiffe:\/\/cluster\.local\/payment-processor/);
  assert.equal(statSync(join(out, 'proxy.key')).mode & 0o777, 0o600);
  const crt = join(out, 'proxy.crt');
  const verify = execFileSync('openssl', ['verify', '-CAfile', join(work, 'ca.crt'), '-untrusted', crt, crt]).toString();
  assert.match(verify, /proxy\.crt: OK/);
  const text = execFileSync('openssl', ['x509', '-in', crt, '-text', '-noout']).toString();
  assert.match(text, /URI:spiffe:\/\/cluster\.local\/payment-processor/);
  assert.match(text, /DNS:payment-processor-vm-1\.payments\.svc\.cluster\.local/);

  // An Event on the ExternalWorkload records the issuance.
  await waitFor('the issuance Event', async () => /IdentityIssued/.test(await k(['get', 'events', '-n', 'payments', '-o', 'jsonpath={.items[*].reason}'])));

  // The dedicated audience works as well as the API's default one.
  const aud = await certifyRaw(await token('payment-processor-sa', 'payments', ['--audience', 'identity.outpost.io']), await createCsr(generateWorkloadKey(), NAMES));
  assert.ok(aud.leafDer.length > 0);

  // `outpost identity trust-roots` prints the same bundle.
  const roots = await outpost(['identity', 'trust-roots', '--data-dir', cp.dataDir]);
  assert.equal(roots.code, 0, roots.stderr);
  assert.equal(roots.stdout.trim(), anchors.trim());
});

test('refused with a clear reason (over gRPC): tampered, expired, other-namespace and other-ServiceAccount tokens; bad CSRs', async () => {
  const tok = await token('payment-processor-sa');
  const jwt = readFileSync(tok, 'utf8').trim();
  const [h, p, sig] = jwt.split('.');
  const tampered = join(work, 'tampered.token');
  writeFileSync(tampered, `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'system:serviceaccount:payments:admin' })).toString('base64url')}.${sig}`);
  // A genuinely expired token: the API's own signing key, an exp in the past.
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const past = Math.floor(Date.now() / 1000) - 7200;
  const body = `${h}.${Buffer.from(JSON.stringify({ ...claims, iat: past, nbf: past, exp: past + 600 })).toString('base64url')}`;
  const key = createPrivateKey(readFileSync(join(cp.dataDir, 'pki', 'service-account.key')));
  const expired = join(work, 'expired.token');
  writeFileSync(expired, `${body}.${sign('sha256', Buffer.from(body), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`);

  await k(['create', 'serviceaccount', 'payment-processor-sa', '-n', 'shop']);
  await k(['create', 'serviceaccount', 'other-sa', '-n', 'payments']);
  const cases: [string, string, RegExp][] = [
    ['tampered', tampered, /token was rejected/],
    ['expired', expired, /token was rejected \(.*expired/],
    ['other namespace', await token('payment-processor-sa', 'shop'), /ServiceAccount shop\/payment-processor-sa, which cannot certify workloads in namespace payments/],
    ['other ServiceAccount', await token('other-sa'), /is not bound to ServiceAccount payments\/other-sa, whose token this is/],
  ];
  const csr = await createCsr(generateWorkloadKey(), NAMES);
  for (const [name, file, re] of cases) {
    await assert.rejects(certifyRaw(file, csr), (e: unknown) => e instanceof CertifyCallError && re.test(e.message), name);
  }

  const refused = async (csr: Buffer, re: RegExp) =>
    assert.rejects(certifyRaw(tok, csr), (e: unknown) => e instanceof CertifyCallError && e.grpcCode === status.INVALID_ARGUMENT && re.test(e.message));
  await refused(await createCsr(generateWorkloadKey(), { ...NAMES, serverName: 'evil.example.com' }), /DNS evil\.example\.com/);
  const broken = await createCsr(generateWorkloadKey(), NAMES);
  broken[broken.length - 2] ^= 0xff;
  await refused(broken, /signature does not verify/);
  const rsa = Buffer.from(execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=x', '-addext', `subjectAltName=URI:${NAMES.identity},DNS:${NAMES.serverName}`, '-outform', 'DER']));
  await refused(rsa, /uses an RSA key/);
});

test('renewal by certificate after a restart with no token; deleting the ServiceAccount stops renewals and revokes its tokens', async () => {
  const out = join(work, 'vm1');
  const client = new WorkloadIdentityClient({ identityAddr, trustAnchorsPem: anchors, workload: { namespace: 'payments', name: 'payment-processor-vm-1' }, stateDir: out });
  try {
    const persisted = await client.start();
    const renewed = await client.renew();
    assert.notEqual(renewed.certPem, persisted.certPem);
    assert.equal(renewed.identity, NAMES.identity);

    const tok = await token('payment-processor-sa');
    await k(['delete', 'serviceaccount', 'payment-processor-sa', '-n', 'payments']);
    await assert.rejects(certifyRaw(tok, await createCsr(generateWorkloadKey(), NAMES)), (e: unknown) => e instanceof CertifyCallError && e.grpcCode === status.UNAUTHENTICATED && /token was rejected/.test(e.message));
    await waitFor('renewals to stop', () => client.renew().then(() => false, (e: Error) => /was deleted, so renewals stopped/.test(e.message)));
  } finally {
    client.close();
  }
});
