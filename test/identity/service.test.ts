// The identity service over real gRPC and real TLS: bootstrap by token, renewal by the current
// certificate over mTLS, refusals with the right gRPC status and an actionable message, rate limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { certifyOnce, CertifyCallError, type CertifyCallRequest } from '../../src/api/identity/certify-call.js';
import { createCsr, generateWorkloadKey } from '../../src/core/identity/csr.js';
import { guideWorkload, newCaMaterial, startTestIdentityServer, type TestIdentityServer } from './fixtures.js';
import { createTestPki } from '../support/pki.js';

const names = { identity: 'spiffe://cluster.local/payment-processor', serverName: 'payment-processor-vm-1.payments.svc.cluster.local' };
const workload = 'payments/payment-processor-vm-1';
let s: TestIdentityServer;

before(async () => {
  s = await startTestIdentityServer();
  s.directory.addServiceAccount('payments', 'payment-processor-sa', 'good-token');
  s.directory.addServiceAccount('payments', 'other-sa', 'other-token');
  s.directory.addServiceAccount('shop', 'payment-processor-sa', 'shop-token');
  s.directory.addWorkload(guideWorkload());
  s.directory.addWorkload({ metadata: { name: 'unbound-vm', namespace: 'payments' } });
});
after(() => s.close());

async function call(req: Partial<CertifyCallRequest> & { key?: string }, clientCertificate?: { keyPem: string; chainPem: string }) {
  const key = req.key ?? generateWorkloadKey();
  return certifyOnce(
    { addr: s.addr, trustAnchorsPem: s.material.trustAnchorsPem, clientCertificate },
    { identity: names.identity, workload, csr: req.csr ?? (await createCsr(key, names)), ...req },
  );
}

async function refused(p: Promise<unknown>, code: number, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CertifyCallError, String(e));
    assert.equal(e.grpcCode, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

test('bootstrap with a token returns a leaf for exactly the workload names and its issuer chain', async () => {
  const res = await call({ token: 'good-token' });
  const leaf = new X509Certificate(res.leafDer);
  assert.equal(leaf.subjectAltName, `URI:${names.identity}, DNS:${names.serverName}`);
  assert.equal(res.intermediatesDer.length, 1);
  assert.ok(leaf.verify(new X509Certificate(res.intermediatesDer[0]).publicKey));
  assert.equal(res.validUntil, Date.parse(leaf.validTo));
});

test('renewal needs no token: the current certificate, over mTLS, is the credential', async () => {
  const key = generateWorkloadKey();
  const first = await call({ token: 'good-token', key });
  const chainPem = new X509Certificate(first.leafDer).toString() + new X509Certificate(first.intermediatesDer[0]).toString();
  const renewed = await call({ key }, { keyPem: key, chainPem });
  assert.notEqual(new X509Certificate(renewed.leafDer).serialNumber, new X509Certificate(first.leafDer).serialNumber);
  assert.match(s.metrics.render(), /identity_cert_issued_total\{kind="renewal"\} [1-9]/);
});

test('a client certificate from another CA is not a credential', async () => {
  const evil = await createTestPki({ name: 'evil.test' });
  const leaf = await evil.leaf({ identity: names.identity, serverName: names.serverName });
  await refused(call({ key: leaf.keyPem }, { keyPem: leaf.keyPem, chainPem: leaf.chainPem }), status.UNAUTHENTICATED, /no credentials/);
});

test('refusals carry a gRPC status and say what to do', async () => {
  await refused(call({}), status.UNAUTHENTICATED, /send a ServiceAccount token/);
  await refused(call({ token: 'expired-or-tampered' }), status.UNAUTHENTICATED, /token was rejected/);
  await refused(call({ token: 'shop-token' }), status.PERMISSION_DENIED, /cannot certify workloads in namespace payments/);
  await refused(call({ token: 'other-token' }), status.PERMISSION_DENIED, /is not bound to ServiceAccount payments\/other-sa, whose token this is/);
  await refused(call({ token: 'good-token', workload: 'payments/unbound-vm' }), status.FAILED_PRECONDITION, /kubectl annotate externalworkload unbound-vm -n payments outpost\.io\/service-account=payment-processor-sa/);
  await refused(call({ token: 'good-token', csr: await createCsr(generateWorkloadKey(), { ...names, serverName: 'evil.example.com' }) }), status.INVALID_ARGUMENT, /DNS evil\.example\.com, which this workload is not entitled to/);
  await refused(call({ token: 'good-token', csr: Buffer.from('junk') }), status.INVALID_ARGUMENT, /not valid DER PKCS#10/);
  assert.match(s.metrics.render(), /identity_cert_refused_total\{reason="service_account_mismatch"\} 1/);
});

test('an unentitled caller learns nothing of another workload: not its ServiceAccount, identity or serverName (ADR 0003)', async () => {
  s.directory.addWorkload({ metadata: { name: 'other-vm', namespace: 'payments', annotations: { 'outpost.io/service-account': 'other-sa' } } });
  const otherNames = { identity: 'spiffe://cluster.local/ns/payments/sa/other-sa', serverName: 'other-vm.payments.svc.cluster.local' };
  const secrets = [/payment-processor-sa/, /spiffe:\/\/cluster\.local\/payment-processor/, /payment-processor-vm-1\.payments\.svc/];
  const message = (e: unknown) => (assert.ok(e instanceof CertifyCallError, String(e)), e.message);
  // A token of another ServiceAccount of the namespace.
  const bySa = message(await call({ token: 'other-token' }).catch((e: unknown) => e));
  for (const re of secrets) assert.doesNotMatch(bySa, re);
  // The certificate of another workload, renewing as this one.
  const key = generateWorkloadKey();
  const other = await certifyOnce({ addr: s.addr, trustAnchorsPem: s.material.trustAnchorsPem }, { ...otherNames, workload: 'payments/other-vm', token: 'other-token', csr: await createCsr(key, otherNames) });
  const chainPem = new X509Certificate(other.leafDer).toString() + new X509Certificate(other.intermediatesDer[0]).toString();
  const byCert = message(await call({ key }, { keyPem: key, chainPem }).catch((e: unknown) => e));
  assert.match(byCert, /is not a certificate of ExternalWorkload payments\/payment-processor-vm-1/);
  for (const re of secrets) assert.doesNotMatch(byCert, re);
});

test('an identity mismatch tells an entitled caller its names (and only then)', async () => {
  const err = await call({ token: 'good-token', identity: '' }).catch((e: CertifyCallError) => e);
  assert.ok(err instanceof CertifyCallError);
  assert.deepEqual(err.expected, names);
  const other = await call({ token: 'other-token', identity: '' }).catch((e: CertifyCallError) => e);
  assert.ok(other instanceof CertifyCallError);
  assert.equal(other.expected, undefined);
});

test('the client refuses an identity server that does not chain to its trust anchors', async () => {
  const foreign = await newCaMaterial();
  await assert.rejects(
    certifyOnce({ addr: s.addr, trustAnchorsPem: foreign.trustAnchorsPem, timeoutMs: 3000 }, { identity: names.identity, workload, token: 'good-token', csr: await createCsr(generateWorkloadKey(), names) }),
    (e: unknown) => e instanceof CertifyCallError && e.unreachable && /does the trust anchors file match/.test(e.message),
  );
});

test('a caller hammering the service gets RESOURCE_EXHAUSTED', async () => {
  const limited = await startTestIdentityServer({ ratePerSecond: 2 });
  try {
    const conn = { addr: limited.addr, trustAnchorsPem: limited.material.trustAnchorsPem };
    const req = { identity: names.identity, workload, csr: await createCsr(generateWorkloadKey(), names) };
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push(await certifyOnce(conn, req).then(() => 0, (e: CertifyCallError) => e.grpcCode));
    assert.deepEqual(codes.slice(0, 2), [status.UNAUTHENTICATED, status.UNAUTHENTICATED]);
    assert.equal(codes[3], status.RESOURCE_EXHAUSTED);
  } finally {
    await limited.close();
  }
});
