// The shared test helpers: waitFor says what it waited for and what it saw last; the test PKI's
// leaves chain to its anchor, name the SPIFFE identity first, and land on disk with 0600 keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { waitFor } from './wait.js';
import { createTestPki, spiffeIdOf } from './pki.js';

test('waitFor returns the first value that is not undefined, null or false', async () => {
  let n = 0;
  assert.equal(await waitFor('the third poll', () => (++n >= 3 ? n : n === 1 ? null : false), { intervalMs: 1 }), 3);
  assert.equal(await waitFor('zero counts as a value', () => 0), 0);
});

test('on timeout waitFor names what it awaited, how long, and the last value or error', async () => {
  await assert.rejects(waitFor('the slice to list vm-1', () => undefined, { timeoutMs: 30, intervalMs: 5 }), /^Error: timed out after 30 ms waiting for the slice to list vm-1 \(last value: undefined\)$/);
  await assert.rejects(waitFor('two endpoints', async () => [1].length === 2, { timeoutMs: 30 }), /waiting for two endpoints \(last value: false\)/);
  await assert.rejects(
    waitFor('the API', () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6443')), { timeoutMs: 30, context: () => 'outpost up said: bind failed' }),
    /waiting for the API \(last error: connect ECONNREFUSED 127\.0\.0\.1:6443\)\noutpost up said: bind failed$/,
  );
});

test('waitFor gives up at once when abortIf has a reason', async () => {
  const started = Date.now();
  await assert.rejects(waitFor('control-plane.json', () => false, { timeoutMs: 5_000, abortIf: () => 'outpost up exited with 1' }), /gave up waiting for control-plane\.json: outpost up exited with 1/);
  assert.ok(Date.now() - started < 1_000);
});

test('a test PKI leaf chains to the anchor, names its SPIFFE identity first, and its key is written 0600', async () => {
  const pki = await createTestPki({ name: 'helpers.test' });
  try {
    const identity = spiffeIdOf('payments', 'web');
    const leaf = await pki.leaf({ identity, serverName: 'web.payments.svc.cluster.local', ips: ['127.0.0.1'] });
    const cert = new X509Certificate(leaf.certPem);
    assert.equal(cert.subjectAltName, `URI:${identity}, DNS:web.payments.svc.cluster.local, IP Address:127.0.0.1`);
    const issuer = new X509Certificate(leaf.issuerPem);
    assert.ok(cert.verify(issuer.publicKey) && issuer.verify(new X509Certificate(pki.trustAnchorsPem).publicKey));
    assert.ok(leaf.chainPem.startsWith(leaf.certPem.trimEnd()) && leaf.chainPem.includes(leaf.issuerPem.trim()));
    const files = pki.writeLeaf('web', leaf);
    assert.equal(statSync(files.keyFile).mode & 0o777, 0o600);
    assert.equal(readFileSync(files.trustFile, 'utf8'), pki.trustAnchorsPem);
    assert.equal(readFileSync(files.certFile, 'utf8'), leaf.chainPem);
  } finally {
    pki.cleanup();
  }
  assert.equal(existsSync(pki.dir()), true);
  pki.cleanup();
});
