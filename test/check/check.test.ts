// `outpost check` as an operator runs it: all green on a healthy control plane, and each fault
// named with a hint: an expired issuer, a stopped control plane.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { outpost } from '../support/cli.js';
import { createIntermediateCA, loadCA } from '../../src/core/pki.js';

let cp: TestControlPlane;
let stopped = false;

before(async () => {
  cp = await startTestControlPlane();
});

after(async () => {
  if (!stopped) await cp.dispose();
});

const check = (...args: string[]) => outpost(['check', '--data-dir', cp.dataDir, ...args], { env: { ...process.env, KUBECONFIG: '' } });

test('a healthy control plane is all green', async () => {
  const r = await check();
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /√ can query the API server/);
  assert.match(r.stdout, /√ issuer certificate is valid and far from expiry/);
  assert.match(r.stdout, /√ destination service answers with a certificate from the trust anchors/);
  assert.match(r.stdout, /Status check results are √/);
  assert.doesNotMatch(r.stdout, /×/);
});

test('-o json reports every check', async () => {
  const r = await check('-o', 'json');
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.success, true);
  assert.ok(doc.checks.length >= 15);
});

test('an expired issuer is named, with how to rotate it', async () => {
  const pki = join(cp.dataDir, 'pki');
  const anchor = await loadCA(readFileSync(join(pki, 'trust-anchor.crt'), 'utf8'), readFileSync(join(pki, 'trust-anchor.key'), 'utf8'));
  const expired = await createIntermediateCA(anchor, { commonName: 'expired-issuer', lifetimeMs: 3_600_000, now: Date.now() - 2 * 86_400_000 });
  const saved = { crt: readFileSync(join(pki, 'issuer.crt')), key: readFileSync(join(pki, 'issuer.key')) };
  writeFileSync(join(pki, 'issuer.crt'), expired.certPem);
  writeFileSync(join(pki, 'issuer.key'), expired.keyPem, { mode: 0o600 });
  try {
    const r = await check();
    assert.equal(r.code, 1);
    assert.match(r.stdout, /× issuer certificate is valid and far from expiry \(the issuer expired .* ago/);
    assert.match(r.stdout, /hint: no workload can get or renew a certificate: write a new issuer/);
  } finally {
    writeFileSync(join(pki, 'issuer.crt'), saved.crt);
    writeFileSync(join(pki, 'issuer.key'), saved.key, { mode: 0o600 });
  }
});

test('a stopped control plane is named, with how to start it', async () => {
  await cp.stop();
  stopped = true;
  const r = await check();
  assert.equal(r.code, 1);
  assert.match(r.stdout, /× can query the API server \(cannot reach https:\/\/127\.0\.0\.1:\d+: connection refused\)/);
  assert.match(r.stdout, /hint: is the control plane running\? start it with `outpost up`/);
  await cp.dispose().catch(() => {});
});

test('--pre on a free host', async () => {
  const r = await outpost(['check', '--pre', '--data-dir', join(cp.dataDir, 'fresh')]);
  assert.match(r.stdout, /√ Node.js is 20.19 or newer/);
  assert.match(r.stdout, /√ data dir is usable/);
});
