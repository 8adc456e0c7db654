// The signing authority: leaves chain to the anchors (checked by openssl), carry exactly the
// workload's names, start 20 s early, last 24 h but never outlive the issuer; bad CA material is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createTestPki } from '../support/pki.js';
import { Authority, derToPem } from '../../src/identity/authority.js';
import { checkCsr } from '../../src/identity/csr-check.js';
import { createCsr, generateWorkloadKey } from '../../src/core/identity/csr.js';
import { newCaMaterial } from './fixtures.js';

const names = { identity: 'spiffe://cluster.local/payment-processor', serverName: 'payment-processor-vm-1.payments.svc.cluster.local' };
const DAY = 86_400_000;

test('a workload leaf verifies with openssl against the anchors, for client and server use, with exactly its names', async () => {
  const material = await newCaMaterial();
  const auth = Authority.load(material, 'cluster.local');
  const { spki } = checkCsr(await createCsr(generateWorkloadKey(), names), names);
  const now = Date.now();
  const leaf = auth.issueWorkloadLeaf({ spki, ...names, lifetimeMs: DAY, now });
  const dir = mkdtempSync(join(tmpdir(), 'outpost-authority-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), material.trustAnchorsPem);
    writeFileSync(join(dir, 'chain.crt'), leaf.chainDer.map((d) => derToPem(d)).join(''));
    writeFileSync(join(dir, 'leaf.crt'), derToPem(leaf.leafDer));
    for (const purpose of ['sslserver', 'sslclient']) {
      const out = execFileSync('openssl', ['verify', '-purpose', purpose, '-CAfile', join(dir, 'ca.crt'), '-untrusted', join(dir, 'chain.crt'), join(dir, 'leaf.crt')]).toString();
      assert.match(out, /leaf\.crt: OK/);
    }
    const text = execFileSync('openssl', ['x509', '-in', join(dir, 'leaf.crt'), '-text', '-noout']).toString();
    assert.match(text, /X509v3 Subject Alternative Name: \n\s+URI:spiffe:\/\/cluster\.local\/payment-processor, DNS:payment-processor-vm-1\.payments\.svc\.cluster\.local\n/);
    assert.match(text, /CA:FALSE/);
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const cert = new X509Certificate(leaf.leafDer);
  assert.equal(Date.parse(cert.validFrom), Math.floor((now - 20_000) / 1000) * 1000);
  assert.equal(Date.parse(cert.validTo), Math.floor((now + DAY) / 1000) * 1000);
  assert.equal(leaf.notAfter, Date.parse(cert.validTo));
});

test('a leaf never outlives its issuer', async () => {
  const auth = Authority.load(await newCaMaterial({ issuerLifetimeMs: 3_600_000 }), 'cluster.local');
  const { spki } = checkCsr(await createCsr(generateWorkloadKey(), names), names);
  const leaf = auth.issueWorkloadLeaf({ spki, ...names, lifetimeMs: DAY, now: Date.now() });
  assert.equal(Date.parse(new X509Certificate(leaf.leafDer).validTo), auth.issuerNotAfter);
  assert.ok(leaf.notAfter <= auth.issuerNotAfter);
});

test('service certificates name the service for mTLS between control-plane components', async () => {
  const material = await newCaMaterial();
  const auth = Authority.load(material, 'example.org');
  const c = auth.issueServiceCertificate('destination', { listen: '127.0.0.5', lifetimeMs: DAY, now: Date.now() });
  const cert = new X509Certificate(c.certPem);
  assert.equal(cert.subjectAltName, 'URI:spiffe://example.org/ns/outpost/sa/outpost-destination, DNS:destination.outpost.svc.cluster.local, DNS:outpost-destination.outpost.svc, DNS:localhost, IP Address:127.0.0.1, IP Address:127.0.0.5');
  assert.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(c.keyPem)));
  assert.ok(c.chainPem.startsWith(c.certPem));
  assert.ok(cert.verify(new X509Certificate(material.issuerCertPem).publicKey));
});

test('CA material that does not fit together is refused with the flag to fix', async () => {
  const a = await newCaMaterial();
  const b = await newCaMaterial();
  const { issuer: foreign } = await createTestPki({ name: 'foreign.test', lifetimeMs: DAY });
  const cases: [string, Parameters<typeof Authority.load>[0], RegExp][] = [
    ['issuer of another CA', { ...a, issuerCertPem: b.issuerCertPem, issuerKeyPem: b.issuerKeyPem }, /--identity-issuer-cert: the issuer .* does not chain to any of the trust anchors/],
    ['key of another issuer', { ...a, issuerKeyPem: b.issuerKeyPem }, /--identity-issuer-key: the issuer key does not belong to the issuer certificate/],
    ['empty anchors', { ...a, trustAnchorsPem: '' }, /--identity-trust-anchors-file: the trust anchors bundle holds no certificate/],
    ['garbage key', { ...a, issuerKeyPem: 'nope' }, /--identity-issuer-key: the issuer key cannot be read/],
    ['issuer signed by an anchor not in the bundle', { ...a, issuerCertPem: foreign.certPem, issuerKeyPem: foreign.keyPem }, /does not chain/],
  ];
  for (const [name, m, re] of cases) assert.throws(() => Authority.load(m, 'cluster.local'), re, name);
  // Several anchors in the bundle (anchor rotation): an issuer of either is accepted.
  // Concatenated by hand without a newline in between: the bundle comes back one PEM block per anchor.
  const both = { ...b, trustAnchorsPem: a.trustAnchorsPem.trim() + b.trustAnchorsPem.trim() };
  assert.equal(Authority.load(both, 'cluster.local').trustAnchorsPem(), `${a.trustAnchorsPem.trim()}\n${b.trustAnchorsPem.trim()}\n`);
});
