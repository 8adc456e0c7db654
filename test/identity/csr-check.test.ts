// Table tests of the CSR checks: only well-signed ECDSA P-256 requests for exactly the workload's
// two names pass; everything else is refused with a message that says what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { x509 } from '../../src/core/pki.js';
import { checkCsr, CsrRefusal } from '../../src/identity/csr-check.js';
import { createCsr, generateWorkloadKey, publicKeyDer } from '../../src/core/identity/csr.js';

const names = { identity: 'spiffe://cluster.local/payment-processor', serverName: 'payment-processor-vm-1.payments.svc.cluster.local' };

async function csrWith(opts: { keyAlg?: 'P-256' | 'P-384' | 'RSA'; sans?: x509.JsonGeneralName[] }): Promise<Buffer> {
  const keyAlg = opts.keyAlg ?? 'P-256';
  const params =
    keyAlg === 'RSA'
      ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: keyAlg, hash: keyAlg === 'P-384' ? 'SHA-384' : 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(params, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const sans = opts.sans ?? [
    { type: 'url', value: names.identity },
    { type: 'dns', value: names.serverName },
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=test', keys, signingAlgorithm: params, extensions: [new x509.SubjectAlternativeNameExtension(sans)] });
  return Buffer.from(csr.rawData);
}

test('a CSR from the proxy library for exactly the two names passes', async () => {
  const der = await createCsr(generateWorkloadKey(), names);
  const checked = checkCsr(der, names);
  assert.equal(checked.spki.length, 91);
});

test('a renewal CSR for the key proven in the TLS handshake skips the signature check, but never the names', async () => {
  const key = generateWorkloadKey();
  const der = await createCsr(key, names);
  der[der.length - 3] ^= 0x01; // broken signature
  const point = publicKeyDer(key).subarray(26);
  assert.doesNotThrow(() => checkCsr(der, names, { provenKey: point }));
  assert.throws(() => checkCsr(der, names, { provenKey: publicKeyDer(generateWorkloadKey()).subarray(26) }), /signature does not verify/);
  assert.throws(() => checkCsr(der, { ...names, serverName: 'other.ns.svc.cluster.local' }, { provenKey: point }), /not entitled/);
});

const refusals: { name: string; make: () => Promise<Buffer>; message: RegExp }[] = [
  { name: 'extra DNS SAN', make: () => csrWith({ sans: [{ type: 'url', value: names.identity }, { type: 'dns', value: names.serverName }, { type: 'dns', value: 'evil.example.com' }] }), message: /DNS evil\.example\.com, which this workload is not entitled to/ },
  { name: 'other URI', make: () => csrWith({ sans: [{ type: 'url', value: 'spiffe://cluster.local/admin' }, { type: 'dns', value: names.serverName }] }), message: /URI spiffe:\/\/cluster\.local\/admin/ },
  { name: 'extra IP SAN', make: () => csrWith({ sans: [{ type: 'url', value: names.identity }, { type: 'dns', value: names.serverName }, { type: 'ip', value: '10.0.0.1' }] }), message: /asks for IP 10\.0\.0\.1/ },
  { name: 'missing DNS SAN', make: () => csrWith({ sans: [{ type: 'url', value: names.identity }] }), message: /must ask for exactly the URI .* \(it asks for 1 URI and 0 DNS names\)/ },
  { name: 'no SANs at all', make: () => createCsr(generateWorkloadKey()), message: /0 URI and 0 DNS/ },
  { name: 'P-384 key', make: () => csrWith({ keyAlg: 'P-384' }), message: /uses an EC secp384r1 key; Outpost issues only ECDSA P-256/ },
  { name: 'RSA key', make: () => csrWith({ keyAlg: 'RSA' }), message: /uses an RSA key/ },
  {
    name: 'broken signature',
    make: async () => {
      const der = await createCsr(generateWorkloadKey(), names);
      der[der.length - 3] ^= 0x01;
      return der;
    },
    message: /signature does not verify/,
  },
  {
    name: 'tampered content (name swapped after signing)',
    make: async () => {
      const der = await createCsr(generateWorkloadKey(), { ...names, serverName: 'payment-processor-vm-2.payments.svc.cluster.local' });
      const i = der.indexOf(Buffer.from('vm-2'));
      der.write('vm-1', i);
      return der;
    },
    message: /signature does not verify/,
  },
  {
    name: 'public key point altered (not on the curve, or not the signer)',
    make: async () => {
      const der = await createCsr(generateWorkloadKey(), names);
      const at = der.indexOf(Buffer.from('034200', 'hex')) + 3 + 1 + 5; // inside the X coordinate
      der[at] ^= 0x01;
      return der;
    },
    message: /public key that cannot be read|signature does not verify/,
  },
  { name: 'not DER', make: async () => Buffer.from('hello, I am a CSR'), message: /not valid DER PKCS#10/ },
  { name: 'empty', make: async () => Buffer.alloc(0), message: /not valid DER PKCS#10/ },
];

for (const r of refusals) {
  test(`refused: ${r.name}`, async () => {
    const der = await r.make();
    assert.throws(() => checkCsr(der, names), (e: unknown) => e instanceof CsrRefusal && r.message.test(e.message));
  });
}
