// CA material on disk: generated once (keys 0600), imported with all three flags, and a new issuer
// written to disk is noticed without a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { silentLogger } from '../../src/core/log.js';
import { pkiPaths, prepareCaMaterial, watchMaterial } from '../../src/identity/ca-material.js';
import { Authority, type CaMaterial } from '../../src/identity/authority.js';
import { createIntermediateCA, loadCA, splitPemBundle } from '../../src/core/pki.js';
import { newCaMaterial } from './fixtures.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'outpost-ca-'));
}

test('first start generates an anchor and an issuer with private keys 0600; the second start reuses them', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = await prepareCaMaterial(dir, {});
  assert.equal(first.generated, true);
  const p = pkiPaths(dir);
  for (const key of [p.anchorKey, p.issuerKey]) assert.equal(statSync(key).mode & 0o777, 0o600, key);
  assert.equal(readFileSync(p.trustAnchors, 'utf8'), first.material.trustAnchorsPem);
  const auth = Authority.load(first.material, 'cluster.local');
  assert.match(auth.issuerCertificate.subject, /issuer\.outpost\.identity/);
  const second = await prepareCaMaterial(dir, {});
  assert.equal(second.generated, false);
  assert.deepEqual(second.material, first.material);
});

test('import needs all three files, and copies them into the data dir', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const m = await newCaMaterial();
  writeFileSync(join(dir, 'ca.crt'), m.trustAnchorsPem);
  writeFileSync(join(dir, 'issuer.crt'), m.issuerCertPem);
  writeFileSync(join(dir, 'issuer.key'), m.issuerKeyPem);
  await assert.rejects(prepareCaMaterial(join(dir, 'data'), { trustAnchorsFile: join(dir, 'ca.crt') }), /needs all three of --identity-trust-anchors-file, --identity-issuer-cert and --identity-issuer-key/);
  const imported = await prepareCaMaterial(join(dir, 'data'), { trustAnchorsFile: join(dir, 'ca.crt'), issuerCertFile: join(dir, 'issuer.crt'), issuerKeyFile: join(dir, 'issuer.key') });
  assert.deepEqual(imported.material, { ...m, trustAnchorsPem: splitPemBundle(m.trustAnchorsPem).join('') });
  assert.equal(readFileSync(pkiPaths(join(dir, 'data')).trustAnchors, 'utf8'), imported.material.trustAnchorsPem);
  assert.equal(statSync(pkiPaths(join(dir, 'data')).issuerKey).mode & 0o777, 0o600);
  // A restart without the flags keeps the imported CA.
  assert.deepEqual((await prepareCaMaterial(join(dir, 'data'), {})).material, imported.material);
});

test('a new issuer written to disk is picked up without a restart', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const source = await prepareCaMaterial(dir, {});
  const p = pkiPaths(dir);
  const changed = new Promise<CaMaterial>((resolve) => {
    const w = watchMaterial(source, (m) => (w.close(), resolve(m)), { log: silentLogger, debounceMs: 50 });
    t.after(() => w.close());
  });
  const root = await loadCA(readFileSync(p.anchorCert, 'utf8'), readFileSync(p.anchorKey, 'utf8'));
  const next = await createIntermediateCA(root, { commonName: 'issuer-2', lifetimeMs: 86_400_000 });
  writeFileSync(p.issuerKey, next.keyPem, { mode: 0o600 });
  writeFileSync(p.issuerCert, next.certPem);
  const m = await Promise.race([changed, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no reload within 5 s')), 5000).unref())]);
  assert.equal(m.issuerCertPem, next.certPem);
  assert.match(Authority.load(m, 'cluster.local').issuerCertificate.subject, /issuer-2/);
});

test('a generated issuer close to expiry is replaced on start, under the same anchor', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = await prepareCaMaterial(dir, {});
  const p = pkiPaths(dir);
  const root = await loadCA(readFileSync(p.anchorCert, 'utf8'), readFileSync(p.anchorKey, 'utf8'));
  const short = await createIntermediateCA(root, { commonName: 'short-issuer', lifetimeMs: 10 * 86_400_000 });
  writeFileSync(p.issuerCert, short.certPem);
  writeFileSync(p.issuerKey, short.keyPem, { mode: 0o600 });
  const next = await prepareCaMaterial(dir, {});
  assert.equal(next.material.trustAnchorsPem, first.material.trustAnchorsPem);
  const auth = Authority.load(next.material, 'cluster.local');
  assert.ok(auth.issuerNotAfter - Date.now() > 300 * 86_400_000, 'a fresh one-year issuer');
  assert.equal(readFileSync(p.issuerCert, 'utf8'), next.material.issuerCertPem);
});
